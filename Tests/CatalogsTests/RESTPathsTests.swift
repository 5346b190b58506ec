import Foundation
import IcebergCore
import Testing

@testable import Catalogs

/// Routes and namespace encoding (spec: the `namespace` path parameter), and reading a token's lifetime.
@Suite struct RESTPathsTests {
    @Test func namespacesAreJoinedByTheUnitSeparator() {
        let paths = RESTPaths(base: "https://catalog.example.com/api/", prefix: "/wh-1/")
        #expect(paths.namespaces == "https://catalog.example.com/api/v1/wh-1/namespaces")
        #expect(paths.namespace(["accounting", "tax"]) == "https://catalog.example.com/api/v1/wh-1/namespaces/accounting%1Ftax")
        // Each level is percent-encoded on its own: a '/', a space or a '%' in a name cannot split the path.
        #expect(paths.table(TableIdentifier(namespace: ["a/b", "c d"], name: "100%")) ==
            "https://catalog.example.com/api/v1/wh-1/namespaces/a%2Fb%1Fc%20d/tables/100%25")
        #expect(paths.parentParameter(["accounting", "tax"]) == "accounting\u{1F}tax")
        #expect(paths.config == "https://catalog.example.com/api/v1/config")
        #expect(paths.tokens == "https://catalog.example.com/api/v1/oauth/tokens")

        let unprefixed = RESTPaths(base: "http://127.0.0.1:8181", prefix: "")
        #expect(unprefixed.tables(["db"]) == "http://127.0.0.1:8181/v1/namespaces/db/tables")
        // A server may advertise another separator (URL-encoded) in its config.
        let dotted = RESTPaths(base: "http://h", prefix: nil, encodedSeparator: "%2E")
        #expect(dotted.namespace(["a", "b"]) == "http://h/v1/namespaces/a%2Eb")
        #expect(dotted.parentParameter(["a", "b"]) == "a.b")
    }

    @Test func urlsSplitForSigning() {
        let parts = RESTPaths.split("http://127.0.0.1:8181/v1/p/namespaces/a%1Fb?pageToken=&parent=x")
        #expect(parts.scheme == "http")
        #expect(parts.host == "127.0.0.1:8181")
        #expect(parts.path == "/v1/p/namespaces/a%1Fb")
        #expect(RESTPaths.split("https://example.com").path == "/")
    }

    @Test func jwtExpiryIsRead() {
        func base64URL(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let jwt = "\(base64URL(#"{"alg":"none"}"#)).\(base64URL(#"{"sub":"ingest","exp":1764000000}"#)).sig"
        #expect(OAuth2Session.jwtExpiry(jwt) == Date(timeIntervalSince1970: 1_764_000_000))
        #expect(OAuth2Session.jwtExpiry("opaque-token") == nil)
        #expect(OAuth2Session.jwtExpiry("a.b.c") == nil)
    }

    @Test func catalogURIs() throws {
        #expect(try RESTCatalog.baseURL("rest+https://catalog.example.com/api/") == "https://catalog.example.com/api")
        #expect(try RESTCatalog.baseURL("http://localhost:8181") == "http://localhost:8181")
        #expect(throws: IcebergError.self) { try RESTCatalog.baseURL("rest+ftp://x") }
        #expect(throws: IcebergError.self) { try RESTCatalog.baseURL("catalog.example.com") }
    }
}
