import Foundation
import IcebergCore
import Logging
import IcebergS3
import S3Reader

/// A catalog served over the [Iceberg REST catalog protocol](https://github.com/apache/iceberg/blob/main/open-api/rest-catalog-open-api.yaml):
/// Polaris, Lakekeeper, Nessie, Unity, Gravitino, AWS Glue's and S3 Tables' REST endpoints, or any server
/// that follows the spec. Tables written here are the same tables Spark, Trino and PyIceberg's `RestCatalog`
/// see.
///
/// Creating the catalog calls `GET /v1/config`: the server's `defaults` go under the caller's properties and
/// its `overrides` over them; the result gives the route `prefix` (for a `warehouse` the caller asked for),
/// the namespace separator and the endpoints the server supports. Namespaces travel in paths as their levels
/// joined by `%1F`. A commit sends the transaction's requirements and updates; the server checks them and
/// answers 409 when another commit landed first, which this catalog reports as `.commitConflict` so
/// ``FastAppend`` rebuilds and retries. A 500, 502 or 504 (or a lost connection) during a commit is
/// `.commitStateUnknown`: the commit may or may not have landed.
///
/// Authentication, from the properties (see ``RESTProperties``): `token` (a bearer token), `credential`
/// (`client_id:secret`, OAuth2 client credentials against `oauth2-server-uri` or `v1/oauth/tokens`, with
/// `scope`; the token is renewed before it expires), and `rest.sigv4-enabled` (AWS SigV4 with
/// `rest.signing-region` and `rest.signing-name`, credentials from `rest.access-key-id`/
/// `rest.secret-access-key`, else the `credentials` provider, else the AWS default chain).
///
/// Tables' files are read and written with ``S3FileIO`` for `s3://` locations (configured by `s3.endpoint`,
/// `s3.region` and any credentials the server vends in the table's `config`) and ``LocalFileIO`` otherwise.
///
/// ```swift
/// import Catalogs
/// import IcebergCore
///
/// let catalog = try await RESTCatalog(
///     uri: "https://catalog.example.com/api/catalog",      // the catalog URI without its "rest+" scheme prefix
///     properties: ["warehouse": "lake", "credential": "ingest:s3cr3t", "scope": "PRINCIPAL_ROLE:ALL",
///                  "s3.region": "eu-west-1"])
/// try await catalog.createNamespace(["analytics"])
/// let table = try await catalog.createTable(
///     TableIdentifier(namespace: ["analytics"], name: "clicks"),
///     schema: Schema(id: 0, fields: [.required(1, "id", .primitive(.long))]))
/// var append = FastAppend(table: table, catalog: catalog)
/// append.add(dataFile)
/// let committed = try await append.commit()   // a 409 from the server is rebuilt and retried
/// ```
public struct RESTCatalog: Catalog {
    /// The catalog's name (for logs; REST servers do not see it).
    public let name: String
    /// The FileIO for locations outside any table (`s3://` through S3, others locally), configured by the
    /// catalog's properties.
    public let io: any FileIO
    /// The base URL requests go to (`http(s)://host[:port][/path]`).
    public let uri: String
    /// The catalog's properties after `GET /v1/config` (server defaults, then the caller's, then server
    /// overrides), without the secrets (`credential`, `token`, secret keys and session tokens).
    public let properties: [String: String]
    /// The endpoints the server says it supports (`"GET /v1/{prefix}/namespaces"`...), or the spec's default
    /// set when its config lists none.
    public let endpoints: Set<String>

    let client: RESTClient
    let paths: RESTPaths
    let allProperties: [String: String]
    let credentials: any CredentialsProvider
    let transport: any HTTPTransport
    let tables: RESTTableContexts
    let pageSize: Int?
    let logger: Logger

    /// Connects to the catalog at `uri` and reads its configuration (`GET /v1/config`).
    ///
    /// - Parameters:
    ///   - name: A name for logs and errors.
    ///   - uri: `http(s)://host[:port][/path]`: the catalog URI without its `rest+` scheme prefix (a leading
    ///     `rest+` is accepted and dropped).
    ///   - properties: Catalog properties: `warehouse`, `credential`, `token`, `scope`, `oauth2-server-uri`,
    ///     `rest.sigv4-enabled`, `rest.signing-region`, `rest.signing-name`, `s3.endpoint`, `s3.region` ...
    ///     (``RESTProperties`` lists them).
    ///   - credentials: AWS credentials for SigV4 and for S3 when the server vends none; the AWS default chain
    ///     when nil (asked only when needed).
    ///   - transport: The HTTP transport (libcurl by default).
    ///   - logger: Receives one debug line per request (method, path, status; never a token).
    ///   - clock: The time for token expiry and request signing.
    /// - Throws: ``IcebergError``: `.invalidArgument` for a URL that is not http(s), `.catalog` when the server
    ///   cannot be reached or refuses access, `.notFound` for an unknown warehouse.
    public init(
        name: String = "rest", uri: String, properties: [String: String] = [:], credentials: (any CredentialsProvider)? = nil,
        transport: any HTTPTransport = CurlTransport.shared, logger: Logger = Logger(label: "iceberg-ingest.rest-catalog"),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) async throws {
        let base = try Self.baseURL(uri)
        let provider = credentials ?? DefaultCredentialsChain(transport: transport)
        let bootstrapPaths = RESTPaths(base: base, prefix: nil)
        let bootstrap = Self.makeClient(
            properties: properties, base: base, credentials: provider, transport: transport, logger: logger, clock: clock, reusing: nil)
        var query: [(String, String)] = []
        if let warehouse = properties[RESTProperties.warehouse], !warehouse.isEmpty { query.append(("warehouse", warehouse)) }
        let subject = "catalog config at \(base)"
        let response = try await bootstrap.send("GET", bootstrapPaths.config, query: query, subject: subject)
        guard response.status == 200 else { throw RESTErrorModel(response).error(route: .read, subject: subject) }
        let config = try RESTJSON.parse(response.body, source: "GET \(bootstrapPaths.config)")
        var merged = RESTJSON.stringMap(config["defaults"]) ?? [:]
        merged.merge(properties) { _, caller in caller }
        merged.merge(RESTJSON.stringMap(config["overrides"]) ?? [:]) { _, server in server }
        let finalBase = try merged[RESTProperties.uri].map(Self.baseURL) ?? base

        self.name = name
        self.uri = finalBase
        self.allProperties = merged
        self.properties = merged.filter { !Self.secretKeys.contains($0.key) }
        self.endpoints = Set(RESTJSON.stringArray(config["endpoints"]) ?? Self.defaultEndpoints)
        self.paths = RESTPaths(base: finalBase, prefix: merged[RESTProperties.prefix], encodedSeparator: merged[RESTProperties.namespaceSeparator])
        self.client = Self.makeClient(
            properties: merged, base: finalBase, credentials: provider, transport: transport, logger: logger, clock: clock, reusing: bootstrap)
        self.credentials = provider
        self.transport = transport
        self.io = RESTFileIO(properties: merged, credentials: provider, transport: transport)
        self.tables = RESTTableContexts()
        self.pageSize = merged[RESTProperties.pageSize].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        self.logger = logger
    }

    static let secretKeys: Set<String> = [
        RESTProperties.credential, RESTProperties.token, RESTProperties.secretAccessKey, RESTProperties.sessionToken,
        RESTProperties.s3SecretAccessKey, RESTProperties.s3SessionToken,
    ]

    /// The endpoints a server supports when its config does not list them (the spec's default set).
    static let defaultEndpoints = [
        "GET /v1/{prefix}/namespaces", "POST /v1/{prefix}/namespaces", "GET /v1/{prefix}/namespaces/{namespace}",
        "DELETE /v1/{prefix}/namespaces/{namespace}", "POST /v1/{prefix}/namespaces/{namespace}/properties",
        "GET /v1/{prefix}/namespaces/{namespace}/tables", "POST /v1/{prefix}/namespaces/{namespace}/tables",
        "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}", "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
        "DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}", "POST /v1/{prefix}/namespaces/{namespace}/register",
        "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/metrics", "POST /v1/{prefix}/tables/rename",
        "POST /v1/{prefix}/transactions/commit",
    ]

    static func baseURL(_ uri: String) throws -> String {
        var base = uri.hasPrefix("rest+") ? String(uri.dropFirst(5)) : uri
        guard base.hasPrefix("http://") || base.hasPrefix("https://"), base.count > "https://".count else {
            throw IcebergError(.invalidArgument, "REST catalog URI '\(uri)' is not of the form http(s)://host[:port][/path]")
        }
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// The HTTP client for `properties`: bearer token or OAuth2 session (kept from `reusing` when its
    /// settings did not change, so the config call's token is not fetched twice), SigV4 signer, headers.
    static func makeClient(
        properties: [String: String], base: String, credentials: any CredentialsProvider, transport: any HTTPTransport,
        logger: Logger, clock: @escaping @Sendable () -> Date, reusing: RESTClient?
    ) -> RESTClient {
        var bearer: RESTClient.Bearer?
        if let token = properties[RESTProperties.token], !token.isEmpty {
            bearer = .fixed(token)
        } else if let credential = properties[RESTProperties.credential], !credential.isEmpty {
            let tokenURL: String
            if let server = properties[RESTProperties.oauth2ServerURI], !server.isEmpty {
                tokenURL = server.contains("://") ? server : "\(base)/\(server.drop { $0 == "/" })"
            } else {
                tokenURL = RESTPaths(base: base, prefix: nil).tokens
            }
            let scope = properties[RESTProperties.scope] ?? "catalog"
            if case .oauth2(let session)? = reusing?.bearer, session.matches(tokenURL: tokenURL, credential: credential, scope: scope) {
                bearer = .oauth2(session)
            } else {
                bearer = .oauth2(OAuth2Session(tokenURL: tokenURL, credential: credential, scope: scope, transport: transport, clock: clock))
            }
        }
        var signer: RESTRequestSigner?
        if properties[RESTProperties.sigV4Enabled]?.lowercased() == "true" {
            let region = properties[RESTProperties.signingRegion] ?? properties[RESTProperties.clientRegion]
                ?? ProcessInfo.processInfo.environment["AWS_REGION"] ?? "us-east-1"
            var provider = credentials
            if let id = properties[RESTProperties.accessKeyID], let secret = properties[RESTProperties.secretAccessKey] {
                provider = StaticCredentialsProvider(
                    AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: properties[RESTProperties.sessionToken]))
            }
            signer = RESTRequestSigner(
                signer: SigV4Signer(region: region, service: properties[RESTProperties.signingName] ?? "execute-api"),
                credentials: provider, clock: clock)
        }
        let headers = properties.filter { $0.key.hasPrefix(RESTProperties.headerPrefix) && $0.key.count > RESTProperties.headerPrefix.count }
            .sorted { $0.key < $1.key }
            .map { (String($0.key.dropFirst(RESTProperties.headerPrefix.count)), $0.value) }
        return RESTClient(transport: transport, bearer: bearer, signer: signer, extraHeaders: headers, maxAttempts: 4, logger: logger)
    }

    /// Whether the server's config lists `endpoint` (`"HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}"`).
    func supports(_ endpoint: String) -> Bool { endpoints.contains(endpoint) }

    /// Sends a GET to a list route and follows `next-page-token` until the last page; returns each page.
    /// The first request sends an empty `pageToken`, which asks a server that pages to do so.
    func pages(_ url: String, query: [(String, String)], subject: String) async throws -> [JSONValue] {
        var results: [JSONValue] = []
        var token = ""
        while true {
            var pageQuery = query + [("pageToken", token)]
            if let pageSize { pageQuery.append(("pageSize", String(pageSize))) }
            let response = try await client.send("GET", url, query: pageQuery, subject: subject)
            guard response.status == 200 else { throw RESTErrorModel(response).error(route: .read, subject: subject) }
            let page = try RESTJSON.parse(response.body, source: "GET \(RESTPaths.split(url).path)")
            results.append(page)
            guard let next = RESTJSON.string(page["next-page-token"]), !next.isEmpty else { return results }
            guard next != token, results.count < 100_000 else {
                throw IcebergError(.catalog, "REST catalog keeps paging \(subject) with the page token '\(next)'")
            }
            token = next
        }
    }
}
