import Foundation
import Testing
import TestSupport

@testable import IcebergCore

/// The catalog kept in the warehouse folder itself: lifecycle, versions found without the hint, racing
/// committers, and PyIceberg reading the table from its newest metadata file.
@Suite struct ObjectStoreCatalogTests {
    @Test func lifecycleAndPyIcebergReadsTheTable() async throws {
        let dir = try TestEnvironment.temporaryDirectory("objectstore-local")
        defer { TestEnvironment.cleanUp(dir) }
        let warehouse = dir.appendingPathComponent("wh").path
        let catalog = ObjectStoreCatalog(warehouse: warehouse, io: LocalFileIO())
        try await catalog.createNamespace(["db"], properties: ["owner": "ingest"])
        await #expect(throws: IcebergError.self) { try await catalog.createNamespace(["db"]) }
        #expect(try await catalog.listNamespaces() == [["db"]])
        #expect(try await catalog.namespaceProperties(["db"]) == ["owner": "ingest"])
        var table = try await catalog.createTable(AppendInteropTests.table, schema: AppendInteropTests.schema, spec: AppendInteropTests.spec)
        #expect(table.metadataLocation == warehouse + "/db/events/metadata/v1.metadata.json")
        let created = try? await catalog.createTable(AppendInteropTests.table, schema: AppendInteropTests.schema)
        #expect(created == nil)
        for commit in 0..<2 {
            var append = FastAppend(table: table, catalog: catalog)
            await append.add(contentsOf: try AppendInteropTests.dataFiles(at: table.metadata.location, files: 2, rows: 10, start: commit * 2))
            table = try await append.commit()
        }
        #expect(table.metadataLocation.hasSuffix("/metadata/v3.metadata.json"))
        #expect(try await catalog.listTables(["db"]) == [AppendInteropTests.table])
        await #expect(throws: IcebergError.self) { try await catalog.dropNamespace(["db"]) }

        // The hint is an optimization: without it (or stale) the newest version is still found.
        try FileManager.default.removeItem(atPath: warehouse + "/db/events/metadata/version-hint.text")
        #expect(try await catalog.loadTable(AppendInteropTests.table).metadataLocation == table.metadataLocation)
        try "1".write(toFile: warehouse + "/db/events/metadata/version-hint.text", atomically: true, encoding: .utf8)
        #expect(try await catalog.loadTable(AppendInteropTests.table).metadataLocation == table.metadataLocation)
        // A committer on a stale base conflicts (its version is taken) instead of overwriting.
        let stale = try await catalog.loadTable(AppendInteropTests.table)
        var first = SchemaUpdate(stale.metadata)
        try first.addColumn("a", .primitive(.string))
        _ = try await first.commit(stale, catalog: catalog)
        do {
            _ = try await catalog.commit(AppendInteropTests.table, requirements: [.assertCurrentSchemaID(stale.metadata.currentSchemaID)], updates: [.setProperties(["x": "1"])])
            Issue.record("a stale requirement must conflict")
        } catch let error as IcebergError {
            #expect(error.code == .commitConflict)
        }

        let output = try await PythonTool.run(
            """
            import sys, json
            from pyiceberg.table import StaticTable
            t = StaticTable.from_metadata(sys.argv[1])
            rows = t.scan().to_arrow()
            print(json.dumps({"rows": len(rows), "snapshots": len(t.metadata.snapshots), "log": [e.metadata_file.rsplit("/", 1)[1] for e in t.metadata.metadata_log]}))
            """, arguments: [try await catalog.loadTable(AppendInteropTests.table).metadataLocation])
        let json = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["rows"] == .int(40) && json["snapshots"] == .int(2))
        #expect(json["log"] == .array(["v1", "v2", "v3"].map { .string("\($0).metadata.json") }), "\(output)")

        try await catalog.dropTable(AppendInteropTests.table, purge: true)
        #expect(try await catalog.tableExists(AppendInteropTests.table) == false)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: warehouse + "/db/events/metadata")) ?? []
        #expect(left.isEmpty, "\(left)")
        try await catalog.dropNamespace(["db"])
        #expect(try await catalog.listNamespaces().isEmpty)
    }

    /// 8 committers × 50 rounds on a local folder (exclusive create): one linear history, nothing lost; then
    /// 8 × 10 appends, whose snapshots must form one parent chain holding every commit.
    @Test func racingCommittersOnALocalFolder() async throws {
        let dir = try TestEnvironment.temporaryDirectory("objectstore-race")
        defer { TestEnvironment.cleanUp(dir) }
        let warehouse = dir.appendingPathComponent("wh").path
        let outcome = try await CatalogRace.run(table: TableIdentifier(namespace: ["db"], name: "race"), committers: 8, rounds: 50, kind: .properties) {
            ObjectStoreCatalog(warehouse: warehouse, io: LocalFileIO())
        }
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        #expect(outcome.committed.count == 400)
        // Every version from v1 to v401 exists, and each one's log names the one before.
        let versions = try FileManager.default.contentsOfDirectory(atPath: outcome.table.metadata.location + "/metadata")
            .filter { $0.hasPrefix("v") && $0.hasSuffix(".metadata.json") }
        #expect(Set(versions) == Set((1...401).map { "v\($0).metadata.json" }))
        #expect(outcome.table.metadata.metadataLog.last?.metadataFile.hasSuffix("/v400.metadata.json") == true)

        let appends = try await CatalogRace.run(table: TableIdentifier(namespace: ["db"], name: "appends"), committers: 8, rounds: 10, kind: .appends) {
            ObjectStoreCatalog(warehouse: warehouse, io: LocalFileIO())
        }
        #expect(appends.problems.isEmpty, "\(appends.problems)")
        #expect(appends.table.metadata.snapshots.count == 80)
    }

    /// A create whose answer is lost (the file was written, the request failed) or that is answered
    /// "already exists" on a retry of our own request still commits: the file holds what was sent.
    @Test func aLostAnswerToTheCreateStillCommits() async throws {
        let dir = try TestEnvironment.temporaryDirectory("objectstore-lost")
        defer { TestEnvironment.cleanUp(dir) }
        for failure in [LostAnswerFileIO.Failure.io, .alreadyExists] {
            let warehouse = dir.appendingPathComponent("wh-\(failure)").path
            let io = LostAnswerFileIO(failure: failure)
            let catalog = ObjectStoreCatalog(warehouse: warehouse, io: io)
            try await catalog.createNamespace(["db"])
            let table = try await catalog.createTable(TableIdentifier(namespace: ["db"], name: "t"), schema: AppendInteropTests.schema)
            io.armed.set(true)
            let committed = try await catalog.commit(table.identifier, requirements: [], updates: [.setProperties(["k": "v"])])
            #expect(committed.metadataLocation.hasSuffix("/v2.metadata.json") && committed.metadata.properties["k"] == "v")
            #expect(try await catalog.loadTable(table.identifier).metadata.properties["k"] == "v")
        }
    }

    /// A create whose answer is lost, when the file cannot be read back either: the version may be the table's
    /// now, so the commit's outcome is unknown and an append deletes none of its manifests (it used to, as
    /// for any failure, leaving the table naming a manifest list that was gone).
    @Test func aLostAnswerThatCannotBeReadBackIsUnknown() async throws {
        let dir = try TestEnvironment.temporaryDirectory("objectstore-unreadable")
        defer { TestEnvironment.cleanUp(dir) }
        let warehouse = dir.appendingPathComponent("wh").path
        let io = LostAnswerFileIO(failure: .ioThenUnreadable)
        let catalog = ObjectStoreCatalog(warehouse: warehouse, io: io)
        try await catalog.createNamespace(["db"])
        let table = try await catalog.createTable(TableIdentifier(namespace: ["db"], name: "t"), schema: AppendInteropTests.schema, spec: AppendInteropTests.spec)
        var append = FastAppend(table: table, catalog: catalog)
        append.add(contentsOf: try await AppendInteropTests.dataFiles(at: table.metadata.location, files: 2, rows: 5, start: 0))
        io.armed.set(true)
        let error = await #expect(throws: IcebergError.self) { _ = try await append.commit() }
        #expect(error?.code == .commitStateUnknown, "\(error.map { "\($0)" } ?? "")")
        io.unreadable.set(false)
        let landed = try await ObjectStoreCatalog(warehouse: warehouse, io: LocalFileIO()).loadTable(table.identifier)
        #expect(landed.metadata.currentSnapshot?.id == append.snapshotID)
        try await LostCommitAnswerTests.expectEveryManifestThere(landed)
    }
}

/// Local files whose next metadata create succeeds but answers with a failure, once armed; with
/// `.ioThenUnreadable`, metadata files cannot be read after that until `unreadable` is cleared.
struct LostAnswerFileIO: FileIO {
    enum Failure: String { case io, alreadyExists, ioThenUnreadable }
    let failure: Failure
    let inner = LocalFileIO()
    let armed = Flag()
    let unreadable = Flag()

    final class Flag: @unchecked Sendable {
        // Safe: `value` is only touched under the lock.
        private let lock = NSLock()
        private var value = false
        func set(_ v: Bool) { lock.withLock { value = v } }
        func take() -> Bool { lock.withLock { defer { value = false }; return value } }
        func peek() -> Bool { lock.withLock { value } }
    }

    func read(_ location: String) async throws -> [UInt8] {
        if location.hasSuffix(".metadata.json"), unreadable.peek() { throw IcebergError(.io, "the store cannot be reached") }
        return try await inner.read(location)
    }
    func read(_ location: String, range: Range<Int64>) async throws -> [UInt8] { try await inner.read(location, range: range) }
    func size(_ location: String) async throws -> Int64 { try await inner.size(location) }
    func write(_ location: String, bytes: [UInt8]) async throws { try await inner.write(location, bytes: bytes) }
    func writeIfAbsent(_ location: String, bytes: [UInt8]) async throws {
        try await inner.writeIfAbsent(location, bytes: bytes)
        if location.hasSuffix(".metadata.json"), armed.take() {
            if failure == .ioThenUnreadable { unreadable.set(true) }
            throw failure == .alreadyExists ? IcebergError(.alreadyExists, "412 on the retry") : IcebergError(.io, "connection reset (the file was written)")
        }
    }
    func delete(_ location: String) async throws { try await inner.delete(location) }
    func exists(_ location: String) async throws -> Bool { try await inner.exists(location) }
    func list(prefix: String) async throws -> [FileInfo] { try await inner.list(prefix: prefix) }
}
