import Foundation
import IcebergCore
import S3Reader
import Testing
import TestSupport

@testable import Catalogs

/// The REST catalog against the spec-checking test server: config, namespaces (multi-level, paged), tables.
@Suite(.serialized) struct RESTCatalogTests {
    @Test func configNamespacesAndTables() async throws {
        let server = try RESTTestServer(
            prefix: "lake-prefix", warehouseName: "lake", pageSize: 2, defaults: ["clients": "4", "shared": "server-default"],
            overrides: ["forced": "server-override"])
        try await server.run { server in
            let catalog = try await RESTCatalog(
                uri: "rest+\(server.url)", properties: ["warehouse": "lake", "shared": "client", "forced": "client"])
            // Defaults under the caller's properties, overrides over them; the prefix from the server.
            #expect(catalog.properties["prefix"] == "lake-prefix")
            #expect(catalog.properties["clients"] == "4")
            #expect(catalog.properties["shared"] == "client")
            #expect(catalog.properties["forced"] == "server-override")

            let namespaces = [["a"], ["b"], ["c"], ["db"], ["e"], ["db", "sub"]]
            for namespace in namespaces {
                try await catalog.createNamespace(namespace, properties: ["owner": namespace.joined(separator: ".")])
            }
            #expect(await icebergError { try await catalog.createNamespace(["a"]) }?.code == .alreadyExists)
            // Top level, three pages of at most two.
            #expect(try await catalog.listNamespaces(parent: []) == [["a"], ["b"], ["c"], ["db"], ["e"]])
            let topLevelPages = try await server.requests().filter {
                $0.method == "GET" && $0.path == "/v1/lake-prefix/namespaces" && $0.parameter("parent") == nil
            }
            #expect(topLevelPages.map { $0.parameter("pageToken") } == ["", "2", "4"])
            #expect(try await catalog.listNamespaces(parent: ["db"]) == [["db", "sub"]])
            #expect(Set(try await catalog.listNamespaces()) == Set(namespaces))
            #expect(try await catalog.namespaceProperties(["db", "sub"])["owner"] == "db.sub")

            // A table in a two-level namespace: the path carries db%1Fsub.
            let id = TableIdentifier(namespace: ["db", "sub"], name: "events")
            let created = try await catalog.createTable(
                id, schema: RESTTestData.schema, spec: RESTTestData.spec, properties: ["owner": "tests"])
            #expect(created.metadata.currentSchema.fields.map(\.name) == ["id", "event_time", "name"])
            #expect(created.metadata.defaultSpec.fields.map(\.transform) == [.hour])
            #expect(created.metadata.properties["owner"] == "tests")
            #expect(created.metadataLocation.hasSuffix(".metadata.json"))
            #expect(try await server.requests().contains { $0.method == "POST" && $0.path == "/v1/lake-prefix/namespaces/db%1Fsub/tables" })
            #expect(await icebergError { _ = try await catalog.createTable(id, schema: RESTTestData.schema) }?.code == .alreadyExists)

            #expect(try await catalog.tableExists(id))
            #expect(try await server.requests().contains { $0.method == "HEAD" && $0.path == "/v1/lake-prefix/namespaces/db%1Fsub/tables/events" })
            #expect(try await catalog.listTables(["db", "sub"]) == [id])
            let loaded = try await catalog.loadTable(id)
            #expect(loaded.metadataLocation == created.metadataLocation)
            #expect(loaded.metadata.tableUUID == created.metadata.tableUUID)

            let missing = TableIdentifier(namespace: ["db", "sub"], name: "missing")
            #expect(await icebergError { _ = try await catalog.loadTable(missing) }?.code == .notFound)
            #expect(try await catalog.tableExists(missing) == false)
            #expect(await icebergError { try await catalog.dropNamespace(["db", "sub"]) }?.code == .invalidArgument)

            try await catalog.dropTable(id, purge: true)
            #expect(try await server.requests().last { $0.method == "DELETE" }?.parameter("purgeRequested") == "true")
            #expect(try await catalog.tableExists(id) == false)
            try await catalog.dropNamespace(["db", "sub"])
            #expect(await icebergError { _ = try await catalog.namespaceProperties(["db", "sub"]) }?.code == .notFound)
            #expect(await icebergError { try await catalog.dropNamespace(["db", "sub"]) }?.code == .notFound)

            // A warehouse the server does not know.
            #expect(await icebergError { _ = try await RESTCatalog(uri: server.url, properties: ["warehouse": "nope"]) }?.code == .notFound)
        }
    }

    /// A catalog without a prefix uses `/v1/namespaces...`; a server that lists no endpoints gets the spec's
    /// default set, which has no HEAD for tables, so existence is asked with a load; a URL that is not
    /// http(s) is refused.
    @Test func noPrefixDefaultEndpointsAndBadURL() async throws {
        let server = try RESTTestServer(advertiseEndpoints: false)
        try await server.run { server in
            let catalog = try await RESTCatalog(uri: server.url + "/")
            #expect(catalog.endpoints.contains("POST /v1/{prefix}/transactions/commit"))
            try await catalog.createNamespace(["solo"])
            #expect(try await catalog.listNamespaces() == [["solo"]])
            #expect(try await server.requests().contains { $0.method == "POST" && $0.path == "/v1/namespaces" })
            let id = TableIdentifier(namespace: ["solo"], name: "t")
            #expect(try await catalog.tableExists(id) == false)
            _ = try await catalog.createTable(id, schema: RESTTestData.schema)
            #expect(try await catalog.tableExists(id))
            let checks = try await server.requests().filter { $0.path == "/v1/namespaces/solo/tables/t" }
            #expect(checks.map(\.method) == ["GET", "GET"])
            #expect(checks.map(\.status) == [404, 200])
        }
        #expect(await icebergError { _ = try await RESTCatalog(uri: "ftp://example.com") }?.code == .invalidArgument)
    }

    /// Every catalog request asks for the REST idle timeout (60 s), not S3's 15 s: a server that creates or
    /// commits a table writes to its object store before it answers, and a loaded one took 20 s in a suite run.
    @Test func catalogRequestsWaitLongerThanS3Requests() async throws {
        final class Recording: HTTPTransport, @unchecked Sendable {
            let lock = NSLock()
            var timeouts: [Int?] = []
            func send(_ request: HTTPRequest) async throws -> HTTPResponse {
                lock.withLock { timeouts.append(request.idleTimeout) }
                return try await CurlTransport.shared.send(request)
            }
        }
        let server = try RESTTestServer()
        try await server.run { server in
            let recording = Recording()
            let catalog = try await RESTCatalog(uri: server.url, transport: recording)
            try await catalog.createNamespace(["timeouts"])
            _ = try await catalog.createTable(TableIdentifier(namespace: ["timeouts"], name: "t"), schema: RESTTestData.schema)
            let timeouts = recording.lock.withLock { recording.timeouts }
            #expect(timeouts.count >= 3 && timeouts.allSatisfy { $0 == RESTClient.idleTimeoutSeconds } && RESTClient.idleTimeoutSeconds == 60, "\(timeouts)")
        }
    }
}
