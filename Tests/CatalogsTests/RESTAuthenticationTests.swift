import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import Catalogs

/// Authentication against the test server: OAuth2 client credentials with renewal before expiry, a custom
/// token endpoint, static bearer tokens, and SigV4 checked by botocore's signer on the server side.
@Suite(.serialized) struct RESTAuthenticationTests {
    @Test func oauth2ClientCredentialsAreRenewedBeforeExpiry() async throws {
        let server = try RESTTestServer(
            prefix: "p",
            auth: .oauth2(clientID: "ingest", secret: "s3cr3t", scope: "catalog", expiresIn: 600, tokenPaths: ["/v1/oauth/tokens", "/auth/token"]))
        try await server.run { server in
            let clock = TestClock()
            let catalog = try await RESTCatalog(uri: server.url, properties: ["credential": "ingest:s3cr3t"], clock: clock.now)
            try await catalog.createNamespace(["db"])
            let id = TableIdentifier(namespace: ["db"], name: "t")
            _ = try await catalog.createTable(id, schema: RESTTestData.schema)
            #expect(try await server.state()["token_requests"] == .int(1), "one token served the config call and the catalog calls")
            // Past four fifths of the token's ten minutes: the next request comes with a new token, asked for
            // before the old one expires (the server never had to refuse one).
            clock.advance(by: 490)
            #expect(try await catalog.loadTable(id).identifier == id)
            #expect(try await catalog.listTables(["db"]) == [id])

            let state = try await server.state()
            #expect(state["rejected"] == .int(0), "no request may carry an expired or unknown token")
            #expect(state["token_requests"] == .int(2))
            let requests = try await server.requests()
            let catalogRequests = requests.filter { !$0.path.contains("oauth") && !$0.path.hasPrefix("/auth") }
            #expect(catalogRequests.allSatisfy { $0.bearer != nil })
            #expect(Set(catalogRequests.prefix(3).compactMap(\.bearer)).count == 1)
            #expect(Set(catalogRequests.suffix(2).compactMap(\.bearer)).count == 1)
            #expect(catalogRequests.first?.bearer != catalogRequests.last?.bearer)

            // A token the server no longer knows: refused once with 401, renewed, and the request sent again.
            let before = try await server.state()["token_requests"]
            try await server.revokeTokens()
            #expect(try await catalog.listNamespaces(parent: []) == [["db"]])
            let after = try await server.state()
            #expect(after["rejected"] == .int(1))
            if case .int(let b)? = before, case .int(let a)? = after["token_requests"] { #expect(a == b + 1) } else { Issue.record("no token counts") }
            #expect(try await server.requests().suffix(3).map(\.status) == [401, 200, 200], "401, then the new token, then the retried list")

            // A token endpoint of its own (relative to the catalog URL), and the scope asked for.
            let custom = try await RESTCatalog(
                uri: server.url, properties: ["credential": "ingest:s3cr3t", "oauth2-server-uri": "auth/token", "scope": "catalog"])
            #expect(try await custom.listNamespaces() == [["db"]])
            #expect(try await server.requests().contains { $0.method == "POST" && $0.path == "/auth/token" && $0.status == 200 })

            // Wrong secret: refused, and the secret is not in the error.
            let refused = await icebergError { _ = try await RESTCatalog(uri: server.url, properties: ["credential": "ingest:wrong-secret"]) }
            #expect(refused?.code == .catalog)
            #expect(refused.map { !String(describing: $0).contains("wrong-secret") } == true)
            #expect(catalog.properties["credential"] == nil, "secrets stay out of the public properties")
        }
    }

    @Test func staticBearerToken() async throws {
        let server = try RESTTestServer(auth: .bearer("t0ken"), tableConfig: ["token": "table-t0ken"])
        try await server.run { server in
            let catalog = try await RESTCatalog(uri: server.url, properties: ["token": "t0ken"])
            try await catalog.createNamespace(["db"])
            #expect(try await catalog.listNamespaces() == [["db"]])
            #expect(try await server.requests().allSatisfy { $0.bearer == "t0ken" })
            // A table's config may carry its own token: requests for that table use it from then on.
            let id = TableIdentifier(namespace: ["db"], name: "t")
            _ = try await catalog.createTable(id, schema: RESTTestData.schema)
            _ = try await catalog.loadTable(id)
            _ = try await catalog.commit(id, requirements: [], updates: [.setProperties(["k": "v"])])
            #expect(try await server.requests().suffix(2).map(\.bearer) == ["table-t0ken", "table-t0ken"])
            let refused = await icebergError { _ = try await RESTCatalog(uri: server.url, properties: ["token": "other"]) }
            #expect(refused?.code == .catalog)
            #expect(refused?.message.contains("401") == true)
        }
    }

    /// Every request signed with SigV4 for `execute-api`; the server recomputes each signature with
    /// botocore from the request it received (multi-level namespaces in the path, queries, bodies, HEAD,
    /// DELETE) and refuses any that differs.
    @Test func sigV4SignedRequestsVerifiedByBotocore() async throws {
        let key = "AKIDRESTCATALOG", secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        let server = try RESTTestServer(
            prefix: "signed", auth: .sigV4(accessKeyID: key, secretAccessKey: secret, region: "eu-central-1", service: "execute-api"))
        try await server.run { server in
            let properties = [
                "rest.sigv4-enabled": "true", "rest.signing-region": "eu-central-1", "rest.access-key-id": key,
                "rest.secret-access-key": secret,
            ]
            let catalog = try await RESTCatalog(uri: server.url, properties: properties)
            try await catalog.createNamespace(["db"], properties: ["note": "a b+c/d"])
            try await catalog.createNamespace(["db", "sub ü"])
            #expect(try await catalog.listNamespaces(parent: ["db"]) == [["db", "sub ü"]])
            let id = TableIdentifier(namespace: ["db", "sub ü"], name: "t 1")
            let table = try await catalog.createTable(id, schema: RESTTestData.schema, spec: RESTTestData.spec)
            #expect(try await catalog.tableExists(id))
            let committed = try await catalog.commit(
                id, requirements: [.assertTableUUID(table.metadata.tableUUID)], updates: [.setProperties(["signed": "yes"])])
            #expect(committed.metadata.properties["signed"] == "yes")
            try await catalog.dropTable(id, purge: false)

            let state = try await server.state()
            #expect(state["rejected"] == .int(0))
            let count = try await server.requests().count
            #expect(state["sigv4_verified"] == .int(Int64(count)))
            #expect(count == 8, "config, two namespace creations, a list, create, HEAD, commit, drop")

            // A bearer token goes along as Original-Authorization; a wrong secret is refused.
            let withToken = try await RESTCatalog(uri: server.url, properties: properties.merging(["token": "abc"]) { $1 })
            _ = try await withToken.listNamespaces(parent: [])
            #expect(try await server.requests().last?.originalAuthorization == "Bearer abc")
            let refused = await icebergError {
                _ = try await RESTCatalog(uri: server.url, properties: properties.merging(["rest.secret-access-key": "wrong"]) { $1 })
            }
            #expect(refused?.code == .catalog)
            #expect(refused?.message.contains("403") == true)
        }
    }
}
