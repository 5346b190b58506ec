import Foundation
import Testing
import TestSupport

@testable import IcebergCore

/// Removing and adding data files in one snapshot: manifests rewritten with DELETED and EXISTING entries,
/// rebuilt over a concurrent append, refused when a concurrent commit removed a file. PyIceberg reads it.
@Suite struct RewriteFilesTests {
    static func setUp(_ label: String) async throws -> (URL, SQLiteCatalog, Table, [DataFile]) {
        let dir = try TestEnvironment.temporaryDirectory(label)
        let catalog = try SQLiteCatalog(name: "ingest", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await catalog.createNamespace(["db"])
        var table = try await catalog.createTable(AppendInteropTests.table, schema: AppendInteropTests.schema, spec: AppendInteropTests.spec)
        // Two appends of two files each (hours 0-3, 20 rows per file).
        var files: [DataFile] = []
        for commit in 0..<2 {
            let batch = try await AppendInteropTests.dataFiles(at: table.metadata.location, files: 2, rows: 20, start: commit * 2)
            var append = FastAppend(table: table, catalog: catalog)
            append.add(contentsOf: batch)
            table = try await append.commit()
            files += batch
        }
        return (dir, catalog, table, files)
    }

    static let reader = #"""
    import sys, json
    from pyiceberg.catalog.sql import SqlCatalog
    c = SqlCatalog("ingest", uri=f"sqlite:///{sys.argv[1]}/catalog.db", warehouse=f"file://{sys.argv[1]}/wh")
    t = c.load_table("db.events")
    rows = t.scan().to_arrow()
    files = sorted(task.file.file_path.rsplit("/", 1)[1] for task in t.scan().plan_files())
    snap = t.current_snapshot()
    entries = [e for m in snap.manifests(t.io) for e in m.fetch_manifest_entry(t.io, discard_deleted=False)]
    print(json.dumps({"rows": len(rows), "ids": sum(rows.column("id").to_pylist()), "files": files,
                      "operation": snap.summary.operation.value,
                      "summary": {k: v for k, v in snap.summary.additional_properties.items()},
                      "statuses": sorted(int(e.status) for e in entries)}))
    """#

    @Test func overwriteRemovesOneFileAndAddsAnother() async throws {
        let (dir, catalog, table, files) = try await Self.setUp("rewrite-overwrite")
        defer { TestEnvironment.cleanUp(dir) }
        // Hour 1's file is replaced by another file of hour 1 with fewer rows (written under another root).
        let other = dir.appendingPathComponent("other").path
        let replacement = try await AppendInteropTests.dataFiles(at: other, files: 1, rows: 5, start: 1)
        var rewrite = RewriteFiles(table: table, catalog: catalog, operation: .overwrite)
        rewrite.delete(paths: [files[1].filePath])
        rewrite.add(contentsOf: replacement)
        let committed = try await rewrite.commit()
        #expect(committed.metadata.currentSnapshot?.summary["deleted-data-files"] == "1")
        #expect(committed.metadata.currentSnapshot?.summary["total-records"] == "65")
        #expect(committed.metadata.currentSnapshot?.summary["total-data-files"] == "4")
        let live = try await committed.liveDataFiles()
        #expect(Set(live.map(\.filePath)) == Set([files[0], files[2], files[3]].map(\.filePath) + replacement.map(\.filePath)))

        let output = try await PythonTool.run(Self.reader, arguments: [dir.path])
        let json = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["rows"] == .int(65))
        #expect(json["operation"] == .string("overwrite"))
        #expect(json["summary"]?["deleted-records"] == .string("20") && json["summary"]?["added-records"] == .string("5"))
        // Entries of the current snapshot: the rewritten manifest has one DELETED (2) and one EXISTING (0)
        // entry; the untouched manifest's two and the new manifest's one are ADDED (1).
        #expect(json["statuses"] == .array([.int(0), .int(1), .int(1), .int(1), .int(2)]), "\(output)")
        let report = try await TableValidation.check(catalogPath: dir.path + "/catalog.db", warehouse: dir.path + "/wh", table: "db.events")
        #expect(report.problems == [] && report.snapshots == 3 && report.rows == 65)
    }

    /// A concurrent append lands between reading the table and committing: the rewrite is rebuilt on it and
    /// keeps it. A concurrent removal of a file to remove makes it fail without retrying.
    @Test func concurrentAppendIsKeptAndConcurrentRemovalFails() async throws {
        let (dir, catalog, table, files) = try await Self.setUp("rewrite-concurrent")
        defer { TestEnvironment.cleanUp(dir) }
        var append = FastAppend(table: table, catalog: catalog)
        await append.add(contentsOf: try AppendInteropTests.dataFiles(at: table.metadata.location, files: 1, rows: 20, start: 4))
        _ = try await append.commit()
        // `table` is stale now: the first attempt conflicts, the retry rebuilds on the append.
        let retries = Counter()
        var compact = RewriteFiles(table: table, catalog: catalog, operation: .replace)
        compact.delete(paths: [files[0].filePath])
        compact.add(files[0])  // the same rows (a compaction's output stands in)
        compact.onRetry = { _, _ in retries.increment() }
        let afterCompaction = try await compact.commit()
        #expect(retries.value == 1)
        #expect(afterCompaction.metadata.currentSnapshot?.summary["total-records"] == "100")
        let json = try JSONValue.parse(try await PythonTool.run(Self.reader, arguments: [dir.path]).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["rows"] == .int(100) && json["operation"] == .string("replace"))

        // Someone removes files[2]; a rewrite planned before that must not commit.
        var first = RewriteFiles(table: afterCompaction, catalog: catalog, operation: .overwrite)
        first.delete(paths: [files[2].filePath])
        _ = try await first.commit()
        var second = RewriteFiles(table: afterCompaction, catalog: catalog, operation: .replace)
        second.delete(paths: [files[2].filePath, files[3].filePath])
        do {
            _ = try await second.commit()
            Issue.record("a rewrite of a file removed concurrently must fail")
        } catch let error as IcebergError {
            #expect(error.code == .validationFailed && error.message.contains(files[2].filePath), "\(error.message)")
        }
        let current = try await catalog.loadTable(AppendInteropTests.table)
        #expect(current.metadata.currentSnapshot?.summary["total-records"] == "80")
        let report = try await TableValidation.check(catalogPath: dir.path + "/catalog.db", warehouse: dir.path + "/wh", table: "db.events")
        #expect(report.problems == [] && report.rows == 80)
    }

    /// With `validateNoConcurrentAppendsIn`, a concurrent append in another partition is kept, and one in a
    /// validated partition makes the replace fail without retrying; the table stays as the append left it.
    @Test func concurrentAppendInValidatedPartitionFails() async throws {
        let (dir, catalog, table, files) = try await Self.setUp("rewrite-validate")
        defer { TestEnvironment.cleanUp(dir) }
        let hour0 = RewriteFiles.Partition(specID: 0, values: files[0].partition)
        // An append of hour 4 (not validated) lands first: the replace of hour 0 rebuilds on it.
        var append = FastAppend(table: table, catalog: catalog)
        await append.add(contentsOf: try AppendInteropTests.dataFiles(at: table.metadata.location, files: 1, rows: 20, start: 4))
        let appended = try await append.commit()
        var compact = RewriteFiles(table: table, catalog: catalog, operation: .replace)
        compact.delete(paths: [files[0].filePath])
        compact.add(files[0])
        compact.validateNoConcurrentAppendsIn = [hour0]
        let compacted = try await compact.commit()
        #expect(compacted.metadata.currentSnapshot?.parentID == appended.metadata.currentSnapshotID)

        // An append of hour 0 itself (another file in it) lands before the next replace of hour 0.
        let other = dir.appendingPathComponent("other").path
        var sameHour = FastAppend(table: compacted, catalog: catalog)
        await sameHour.add(contentsOf: try AppendInteropTests.dataFiles(at: other, files: 1, rows: 3, start: 0))
        let afterSameHour = try await sameHour.commit()
        var second = RewriteFiles(table: compacted, catalog: catalog, operation: .replace)
        second.delete(paths: [files[0].filePath])
        second.add(files[0])
        second.validateNoConcurrentAppendsIn = [hour0]
        do {
            _ = try await second.commit()
            Issue.record("a replace must fail when a concurrent append added files in a validated partition")
        } catch let error as IcebergError {
            #expect(error.code == .validationFailed && error.message.contains("added"), "\(error.message)")
        }
        let current = try await catalog.loadTable(AppendInteropTests.table)
        #expect(current.metadata.currentSnapshotID == afterSameHour.metadata.currentSnapshotID)
        let report = try await TableValidation.check(catalogPath: dir.path + "/catalog.db", warehouse: dir.path + "/wh", table: "db.events")
        #expect(report.problems == [] && report.rows == 103)
    }
}
