import Foundation
import IcebergCore
import S3Reader
import TestSupport

/// The spec-checking REST catalog server, one per test: a Python process (``script``) over PyIceberg's
/// SqlCatalog, on a free port of 127.0.0.1, stopped by ``stop()``. Every request it receives is validated
/// against `Fixtures/rest/rest-catalog-open-api.yaml`; ``violations()`` lists those that were not valid.
final class RESTTestServer: @unchecked Sendable {
    // Safe: every stored property is set once in init and only read after.

    /// How the server authenticates requests.
    enum Auth {
        case none
        case bearer(String)
        /// OAuth2 client credentials, tokens living `expiresIn` seconds, issued at each of `tokenPaths`.
        case oauth2(clientID: String, secret: String, scope: String, expiresIn: Int, tokenPaths: [String] = ["/v1/oauth/tokens"])
        /// SigV4, checked with botocore's signer.
        case sigV4(accessKeyID: String, secretAccessKey: String, region: String, service: String)

        var json: JSONValue {
            switch self {
            case .none: return .object([("mode", .string("none"))])
            case .bearer(let token): return .object([("mode", .string("bearer")), ("token", .string(token))])
            case .oauth2(let id, let secret, let scope, let expiresIn, let paths):
                return .object([
                    ("mode", .string("oauth2")), ("client_id", .string(id)), ("client_secret", .string(secret)),
                    ("scope", .string(scope)), ("expires_in", .int(Int64(expiresIn))), ("token_paths", .array(paths.map { .string($0) })),
                ])
            case .sigV4(let key, let secret, let region, let service):
                return .object([
                    ("mode", .string("sigv4")), ("access_key", .string(key)), ("secret_key", .string(secret)),
                    ("region", .string(region)), ("service", .string(service)),
                ])
            }
        }
    }

    let process: Process
    let directory: URL
    /// `http://127.0.0.1:<port>`.
    let url: String

    /// Starts a server. `warehouse` is where SqlCatalog puts tables (a local folder by default);
    /// `prefix` is given out as the `prefix` override; `warehouseName` is the only `warehouse` accepted by
    /// `GET /v1/config` when set; `tableConfig` is every LoadTableResult's `config`; `pageSize` caps pages;
    /// `advertiseEndpoints` false leaves `endpoints` out of the config (clients then assume the spec's default set).
    init(
        prefix: String? = nil, warehouse: String? = nil, warehouseName: String? = nil, auth: Auth = .none, pageSize: Int = 1000,
        advertiseEndpoints: Bool = true,
        defaults: [String: String] = [:], overrides: [String: String] = [:], tableConfig: [String: String] = [:],
        catalogProperties: [String: String] = [:]
    ) throws {
        let python = try TestEnvironment.python()
        directory = try TestEnvironment.temporaryDirectory("rest")
        let warehouseLocation = warehouse ?? "file://\(directory.path)/warehouse"
        if warehouse == nil {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("warehouse"), withIntermediateDirectories: true)
        }
        func strings(_ d: [String: String]) -> JSONValue { .object(d.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }) }
        var config: [(String, JSONValue)] = [
            ("spec", .string(Self.specPath)), ("dir", .string(directory.path)), ("warehouse", .string(warehouseLocation)),
            ("auth", auth.json), ("page_size", .int(Int64(pageSize))), ("defaults", strings(defaults)), ("overrides", strings(overrides)),
            ("table_config", strings(tableConfig)), ("catalog_properties", strings(catalogProperties)),
            ("advertise_endpoints", .bool(advertiseEndpoints)),
        ]
        if let prefix { config.append(("prefix", .string(prefix))) }
        if let warehouseName { config.append(("warehouse_name", .string(warehouseName))) }
        let configFile = directory.appendingPathComponent("config.json")
        try JSONValue.object(config).serialized().write(to: configFile, atomically: true, encoding: .utf8)
        let scriptFile = directory.appendingPathComponent("rest_server.py")
        try Self.script.write(to: scriptFile, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [scriptFile.path, configFile.path]
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        let portFile = directory.appendingPathComponent("port")
        guard let port = TestProcesses.waitForPort(file: portFile, of: process) else {
            TestProcesses.stop(process)
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw TestEnvironmentError("the REST test server did not start:\n\(output)")
        }
        url = "http://127.0.0.1:\(port)"
    }

    static var specPath: String { TestEnvironment.fixtures.appendingPathComponent("rest/rest-catalog-open-api.yaml").path }

    /// Stops the server and removes its folder.
    func stop() {
        TestProcesses.stop(process)
        TestEnvironment.cleanUp(directory)
    }

    /// What the server recorded: `requests` (method, path, query, status, bearer ...), `violations`,
    /// `token_requests`, `tokens_issued`, `rejected`, `sigv4_verified`.
    func state() async throws -> JSONValue {
        let response = try await CurlTransport.shared.send(HTTPRequest(method: "GET", url: "\(url)/_test/state"))
        return try JSONValue.parse(response.body, source: "test server state")
    }

    /// The requests that did not follow the REST spec, and the server's own responses that did not.
    func violations() async throws -> [String] {
        guard case .array(let items)? = try await state()["violations"] else { return ["no violations list in the state"] }
        return items.map { if case .string(let s) = $0 { s } else { $0.serialized() } }
    }

    /// The recorded requests as (method, path, query, status).
    func requests() async throws -> [RecordedRequest] {
        guard case .array(let items)? = try await state()["requests"] else { return [] }
        return items.map { RecordedRequest(json: $0) }
    }

    /// Makes the next commit fail with `status` before it is applied.
    func failNextCommit(status: Int) async throws {
        _ = try await CurlTransport.shared.send(HTTPRequest(
            method: "POST", url: "\(url)/_test/fail-next-commit", headers: [("Content-Type", "application/json")],
            body: Array("{\"status\": \(status)}".utf8)))
    }

    /// Forgets every OAuth2 token issued so far: the next request with one is refused with 401.
    func revokeTokens() async throws {
        _ = try await CurlTransport.shared.send(HTTPRequest(method: "POST", url: "\(url)/_test/revoke-tokens", body: []))
    }

    /// Runs the spec's validator on `instance` against the component schema `schema`; returns its violations.
    static func validate(_ checks: [(schema: String, instance: JSONValue)]) async throws -> [[String]] {
        let dir = try TestEnvironment.temporaryDirectory("rest-validate")
        defer { TestEnvironment.cleanUp(dir) }
        let scriptFile = dir.appendingPathComponent("rest_server.py")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        let input = JSONValue.array(checks.map { .object([("schema", .string($0.schema)), ("instance", $0.instance)]) })
        let output = try await TestProcesses.run(
            try TestEnvironment.python(), arguments: [scriptFile.path, "--validate", specPath], stdin: Data(input.serialized().utf8))
        guard output.status == 0, case .array(let lists) = try JSONValue.parse(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw TestEnvironmentError("the spec validator failed: \(output.stderr)") }
        return lists.map { list in
            guard case .array(let items) = list else { return ["not a list"] }
            return items.map { if case .string(let s) = $0 { s } else { $0.serialized() } }
        }
    }
}
