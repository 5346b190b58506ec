import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import Catalogs

/// Commits through the REST catalog: FastAppend, read back by PyIceberg's own RestCatalog; conflicts (409)
/// retried; unknown commit states reported.
@Suite(.serialized) struct RESTCommitTests {
    static let id = TableIdentifier(namespace: ["db"], name: "events")

    /// A table in a fresh namespace, its data folder as a local path.
    static func makeTable(_ catalog: RESTCatalog, properties: [String: String] = [:]) async throws -> (Table, String) {
        try await catalog.createNamespace(["db"])
        let table = try await catalog.createTable(id, schema: RESTTestData.schema, spec: RESTTestData.spec, properties: properties)
        let location = table.metadata.location
        let local = location.hasPrefix("file://") ? String(location.dropFirst("file://".count)) : location
        return (table, local + "/data")
    }

    @Test func fastAppendIsReadByPyIceberg() async throws {
        let server = try RESTTestServer(prefix: "main")
        try await server.run { server in
            let catalog = try await RESTCatalog(uri: server.url)
            var (table, data) = try await Self.makeTable(catalog)
            for commit in 0..<2 {
                var append = FastAppend(table: table, catalog: catalog)
                await append.add(contentsOf: try RESTTestData.dataFiles(at: data, files: 2, rows: 20, start: commit * 2) { "file://\($0)" })
                append.summaryProperties["iceberg-ingest.test-commit"] = String(commit)
                table = try await append.commit()
            }
            #expect(table.metadata.snapshots.count == 2)
            #expect(table.metadata.currentSnapshot?.summary["total-records"] == "80")
            #expect(table.metadata.currentSnapshot?.summary["iceberg-ingest.test-commit"] == "1")
            let reloaded = try await catalog.loadTable(Self.id)
            #expect(reloaded.metadataLocation == table.metadataLocation)
            #expect(reloaded.metadata.currentSnapshotID == table.metadata.currentSnapshotID)

            let read = try await RESTTestData.readWithPyIceberg(server: server.url, table: "db.events", properties: [:])
            #expect(read["rows"] == .int(80))
            #expect(read["id_sum"] == .int(RESTTestData.idSum(files: 4, rows: 20, start: 0)))
            #expect(read["snapshots"] == .int(2))
            #expect(read["metadata"] == .string(table.metadataLocation))
        }
    }

    /// Two writers with their own catalog clients append to the same table at once: the server answers the
    /// second 409, FastAppend rebuilds and retries, and both snapshots land.
    @Test func concurrentCommitsConflictAndRetry() async throws {
        let server = try RESTTestServer(prefix: "main")
        try await server.run { server in
            let a = try await RESTCatalog(uri: server.url), b = try await RESTCatalog(uri: server.url)
            let (_, data) = try await Self.makeTable(a, properties: ["commit.retry.min-wait-ms": "5", "commit.retry.max-wait-ms": "50"])
            let filesA = try await RESTTestData.dataFiles(at: data, files: 2, rows: 10, start: 0)
            let filesB = try await RESTTestData.dataFiles(at: data, files: 2, rows: 10, start: 2)
            // Both load before either commits, so one of them commits on a stale base.
            let tableA = try await a.loadTable(Self.id), tableB = try await b.loadTable(Self.id)
            let retries = RetryCounter()
            async let first: Table = {
                var append = FastAppend(table: tableA, catalog: a)
                append.add(contentsOf: filesA)
                append.onRetry = { _, _ in retries.increment() }
                return try await append.commit()
            }()
            async let second: Table = {
                var append = FastAppend(table: tableB, catalog: b)
                append.add(contentsOf: filesB)
                append.onRetry = { _, _ in retries.increment() }
                return try await append.commit()
            }()
            _ = try await (first, second)
            #expect(retries.value >= 1)
            let commits = try await server.requests().filter { $0.method == "POST" && $0.path == "/v1/main/namespaces/db/tables/events" }
            #expect(commits.filter { $0.status == 409 }.count == retries.value)
            #expect(commits.filter { $0.status == 200 }.count == 2)
            let final = try await a.loadTable(Self.id)
            #expect(final.metadata.snapshots.count == 2)
            #expect(final.metadata.currentSnapshot?.summary["total-records"] == "40")

            // A stale requirement sent directly is a retryable conflict.
            let error = await icebergError {
                _ = try await a.commit(
                    Self.id, requirements: [.assertRefSnapshotID(ref: "main", snapshotID: nil)], updates: [.setProperties(["x": "y"])])
            }
            #expect(error?.code == .commitConflict)
            #expect(error?.isRetryable == true)

            let read = try await RESTTestData.readWithPyIceberg(server: server.url, table: "db.events", properties: [:])
            #expect(read["rows"] == .int(40))
            #expect(read["id_sum"] == .int(RESTTestData.idSum(files: 4, rows: 10, start: 0)))
        }
    }

    /// A 500 during a commit leaves its outcome unknown: the catalog reports `.commitStateUnknown`, and the
    /// commit looks the table up (its snapshot id is its own): not there, so it is retried and lands once. A
    /// 503 (refused before acting) is retried by the client and the commit lands.
    @Test func serverFailuresDuringCommit() async throws {
        let server = try RESTTestServer(prefix: "main")
        try await server.run { server in
            let catalog = try await RESTCatalog(uri: server.url)
            let (table, data) = try await Self.makeTable(catalog)
            let files = try await RESTTestData.dataFiles(at: data, files: 2, rows: 5, start: 0)

            try await server.failNextCommit(status: 500)
            var append = FastAppend(table: table, catalog: catalog)
            append.add(files[0])
            let first = try await append.commit()
            #expect(first.metadata.snapshots.count == 1)
            #expect(try await catalog.loadTable(Self.id).metadata.snapshots.count == 1, "landed once")

            try await server.failNextCommit(status: 503)
            var second = FastAppend(table: first, catalog: catalog)
            second.add(files[1])
            let committed = try await second.commit()
            #expect(committed.metadata.snapshots.count == 2)
            let statuses = try await server.requests().filter { $0.method == "POST" && $0.path.hasSuffix("/tables/events") }.map(\.status)
            #expect(statuses == [500, 200, 503, 200])
        }
    }
}
