import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import IcebergIngest

/// Bin-pack compaction of small files, checked by PyIceberg: the same rows before and after (sorted rows
/// equal), fewer files, consistent summaries; a concurrent append is kept, a concurrent removal of an
/// input fails cleanly and leaves no new file behind.
@Suite struct CompactionTests {
    static let schema = Schema(id: 0, fields: [
        .required(1, "id", .primitive(.long)),
        .optional(2, "event_time", .primitive(.timestamptz)),
        .optional(3, "name", .primitive(.string)),
        .optional(4, "score", .primitive(.double)),
    ])
    static let spec = PartitionSpec(id: 0, fields: [PartitionField(sourceID: 2, fieldID: 1000, name: "event_time_hour", transform: .hour)])
    static let identifier = TableIdentifier(namespace: ["db"], name: "events")
    static let firstHour: Int64 = 490_000

    /// pyarrow writes `files` files of `rows` rows, file i in hour i % 2, names with nulls, scores with NaN.
    static let writer = #"""
    import sys, json, os, math, pyarrow as pa, pyarrow.parquet as pq
    root, files, rows, first_hour, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    schema = pa.schema([
        pa.field("id", pa.int64(), nullable=False, metadata={"PARQUET:field_id": "1"}),
        pa.field("event_time", pa.timestamp("us", tz="UTC"), metadata={"PARQUET:field_id": "2"}),
        pa.field("name", pa.string(), metadata={"PARQUET:field_id": "3"}),
        pa.field("score", pa.float64(), metadata={"PARQUET:field_id": "4"}),
    ])
    out = []
    for f in range(start, start + files):
        hour = first_hour + f % 2
        ids = [f * 1000 + i for i in range(rows)]
        times = [hour * 3600 * 1000000 + (f * rows + i) * 1000 for i in range(rows)]
        names = [None if i % 5 == 0 else "n%d" % (i % 7) for i in range(rows)]
        scores = [float("nan") if i % 11 == 3 else i * 0.5 for i in range(rows)]
        t = pa.table([pa.array(ids, pa.int64()), pa.array(times, pa.timestamp("us", tz="UTC")), pa.array(names), pa.array(scores)], schema=schema)
        d = os.path.join(root, "data", "event_time_hour=%d" % hour)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "in-%d.parquet" % f)
        pq.write_table(t, path)
        out.append({"path": path, "rows": rows, "size": os.path.getsize(path), "hour": hour})
    print(json.dumps(out))
    """#

    static func dataFiles(at root: String, files: Int, rows: Int, start: Int) async throws -> [DataFile] {
        let output = try await PythonTool.run(writer, arguments: [root, String(files), String(rows), String(firstHour), String(start)])
        guard case .array(let items) = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestEnvironmentError("writer printed no list: \(output)")
        }
        return items.map { item in
            func int(_ key: String) -> Int64 { if case .int(let v)? = item[key] { return v }; return -1 }
            guard case .string(let path)? = item["path"] else { return DataFile(filePath: "", recordCount: 0, fileSizeInBytes: 0) }
            return DataFile(filePath: path, partition: [.int(Int32(int("hour")))], recordCount: int("rows"), fileSizeInBytes: int("size"))
        }
    }

    /// A table of 8 small files (4 per hour, 30 rows each), one append each.
    static func setUp(_ label: String) async throws -> (URL, SQLiteCatalog, Table, [DataFile]) {
        let dir = try TestEnvironment.temporaryDirectory(label)
        let catalog = try SQLiteCatalog(name: "ingest", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await catalog.createNamespace(["db"])
        var table = try await catalog.createTable(identifier, schema: schema, spec: spec)
        let files = try await dataFiles(at: table.metadata.location, files: 8, rows: 30, start: 0)
        for file in files {
            var append = FastAppend(table: table, catalog: catalog)
            append.add(file)
            table = try await append.commit()
        }
        return (dir, catalog, table, files)
    }

    static func validate(_ dir: URL) async throws -> TableValidation.Report {
        try await TableValidation.check(catalogPath: dir.path + "/catalog.db", warehouse: dir.path + "/wh", table: "db.events")
    }

    static func compactedFiles(_ dir: URL) -> [String] {
        let root = dir.path + "/wh/db/events/data"
        return (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter { $0.contains("-c") && $0.hasSuffix(".parquet") }
    }

    @Test func binPackKeepsEveryRowInFewerFiles() async throws {
        let (dir, catalog, table, files) = try await Self.setUp("compact")
        defer { TestEnvironment.cleanUp(dir) }
        let before = try await Self.validate(dir)
        #expect(before.problems == [] && before.rows == 240 && before.files.count == 8)

        var compaction = Compaction(table: table, catalog: catalog)
        compaction.targetFileSizeBytes = 1 << 20
        let plan = try await compaction.run(dryRun: true)
        #expect(plan.groups == 2 && Set(plan.inputFiles) == Set(files.map(\.filePath)) && plan.rows == 240 && plan.snapshotID == nil)
        await #expect(try Self.validate(dir).files.count == 8)

        let result = try await compaction.run()
        #expect(result.outputFiles.count == 2 && result.rows == 240 && result.snapshotID != nil)
        let after = try await Self.validate(dir)
        #expect(after.problems == [], "\(after.problems)")
        #expect(after.rows == 240 && after.files.count == 2)
        #expect(after.sortedRows == before.sortedRows && after.sortedRows.count == 240)
        let committed = try await catalog.loadTable(Self.identifier)
        #expect(committed.metadata.currentSnapshot?.operation == "replace")
        #expect(committed.metadata.currentSnapshot?.summary["deleted-data-files"] == "8")
        #expect(committed.metadata.currentSnapshot?.summary["added-data-files"] == "2")
        // The metrics of the new files: per hour, ids of files 0,2,4,6 (hour 0) or 1,3,5,7; nulls; NaNs.
        for file in try await committed.liveDataFiles() {
            let hour = file.partition.first.flatMap { $0 }
            let firstFile: Int64 = hour == .int(Int32(Self.firstHour)) ? 0 : 1
            #expect(file.recordCount == 120)
            #expect(file.lowerBounds[1] == Literal.long(firstFile * 1000).binary)
            #expect(file.upperBounds[1] == Literal.long((firstFile + 6) * 1000 + 29).binary)
            #expect(file.nullValueCounts[3] == 4 * 6 && file.nanValueCounts[4] == 4 * 3 && file.valueCounts[1] == 120)
        }
        // PyIceberg prunes by those bounds: a filter on id reads the right rows.
        let count = try await PythonTool.run(#"""
            import sys
            from pyiceberg.catalog.sql import SqlCatalog
            t = SqlCatalog("ingest", uri=f"sqlite:///{sys.argv[1]}/catalog.db", warehouse=f"file://{sys.argv[1]}/wh").load_table("db.events")
            print(len(t.scan(row_filter="id >= 6000 and id < 6010").to_arrow()), len(list(t.scan(row_filter="id >= 7000").plan_files())))
            """#, arguments: [dir.path])
        #expect(count.trimmingCharacters(in: .whitespacesAndNewlines) == "10 1")
        // Nothing small left to pack.
        #expect(try await Compaction(table: committed, catalog: catalog).run(dryRun: true).groups == 0)
    }

    @Test func concurrentAppendIsKeptAndConcurrentRemovalFailsCleanly() async throws {
        let (dir, catalog, table, files) = try await Self.setUp("compact-conflict")
        defer { TestEnvironment.cleanUp(dir) }
        let before = try await Self.validate(dir)
        // An append lands after the compaction planned and wrote its files: the replace is rebuilt on it.
        let extra = try await Self.dataFiles(at: dir.path + "/extra", files: 1, rows: 7, start: 8)
        var compaction = Compaction(table: table, catalog: catalog)
        compaction.targetFileSizeBytes = 1 << 20
        compaction.beforeCommit = {
            var append = FastAppend(table: try await catalog.loadTable(Self.identifier), catalog: catalog)
            append.add(contentsOf: extra)
            _ = try await append.commit()
        }
        let result = try await compaction.run()
        #expect(result.inputFiles.count == 8 && result.outputFiles.count == 2)
        let after = try await Self.validate(dir)
        #expect(after.problems == [] && after.rows == 247 && after.files.count == 3)
        #expect(Set(before.sortedRows).isSubset(of: Set(after.sortedRows)))

        // Next: four more small files; a reprocessing removes one of them while the compaction runs.
        var current = try await catalog.loadTable(Self.identifier)
        let more = try await Self.dataFiles(at: current.metadata.location, files: 4, rows: 5, start: 20)
        var append = FastAppend(table: current, catalog: catalog)
        append.add(contentsOf: more)
        current = try await append.commit()
        let outputsBefore = Self.compactedFiles(dir)
        var second = Compaction(table: current, catalog: catalog)
        second.targetFileSizeBytes = 1 << 20
        let victim = more[0].filePath
        second.beforeCommit = {
            var overwrite = RewriteFiles(table: try await catalog.loadTable(Self.identifier), catalog: catalog, operation: .overwrite)
            overwrite.delete(paths: [victim])
            _ = try await overwrite.commit()
        }
        do {
            _ = try await second.run()
            Issue.record("a compaction whose input was removed concurrently must fail")
        } catch let error as IcebergError {
            #expect(error.code == .validationFailed && error.message.contains(victim), "\(error.message)")
        }
        #expect(Self.compactedFiles(dir).sorted() == outputsBefore.sorted(), "the failed compaction's files are deleted")
        let final = try await Self.validate(dir)
        #expect(final.problems == [] && final.rows == 247 + 15)
        #expect(try await catalog.loadTable(Self.identifier).metadata.currentSnapshot?.operation == "overwrite")
        _ = files
    }
}
