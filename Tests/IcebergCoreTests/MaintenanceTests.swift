import Foundation
import Testing
import TestSupport

@testable import IcebergCore

/// Snapshot expiry and orphan cleanup on a local SQLite-catalog table, checked by PyIceberg reading the
/// table afterwards (a deleted file still needed would fail its scan) and by the files left on disk.
@Suite struct MaintenanceTests {
    static let day: Int64 = 86_400_000

    /// Five appends on days 0-4 and an overwrite on day 5 replacing day 0's file, each stamped by the clock.
    static func history(_ label: String) async throws -> (URL, SQLiteCatalog, Table, [DataFile]) {
        let dir = try TestEnvironment.temporaryDirectory(label)
        let catalog = try SQLiteCatalog(name: "ingest", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await catalog.createNamespace(["db"])
        var table = try await catalog.createTable(AppendInteropTests.table, schema: AppendInteropTests.schema, spec: AppendInteropTests.spec)
        let files = try await AppendInteropTests.dataFiles(at: table.metadata.location, files: 5, rows: 10, start: 0)
        for (day, file) in files.enumerated() {
            var append = FastAppend(table: table, catalog: catalog, clock: { Int64(day) * Self.day })
            append.add(file)
            table = try await append.commit()
        }
        let replacement = try await AppendInteropTests.dataFiles(at: table.metadata.location + "/data/r", files: 1, rows: 4, start: 0)
        var overwrite = RewriteFiles(table: table, catalog: catalog, operation: .overwrite, clock: { 5 * Self.day })
        overwrite.delete(paths: [files[0].filePath])
        overwrite.add(contentsOf: replacement)
        table = try await overwrite.commit()
        return (dir, catalog, table, files)
    }

    static func exists(_ location: String) -> Bool { FileManager.default.fileExists(atPath: location) }

    @Test func expiryKeepsTaggedAndRecentSnapshotsAndDeletesWhatOnlyExpiredOnesHeld() async throws {
        let (dir, catalog, table, files) = try await Self.history("expire")
        defer { TestEnvironment.cleanUp(dir) }
        let snapshots = table.metadata.snapshots.sorted { $0.sequenceNumber < $1.sequenceNumber }
        // Day 1's snapshot is tagged: it stays, and so does day 0's file, live in it.
        var tagged = try await catalog.commit(
            table.identifier, requirements: [],
            updates: [.setSnapshotRef(name: "audit", ref: SnapshotRef(snapshotID: snapshots[1].id, kind: .tag))])
        var expire = ExpireSnapshots(table: tagged, catalog: catalog, clock: { 6 * Self.day })
        expire.olderThanMillis = 3 * Self.day + Self.day / 2
        let preview = try await expire.run(dryRun: true)
        #expect(preview.dryRun && preview.expiredSnapshotIDs == [snapshots[0].id, snapshots[2].id, snapshots[3].id])
        #expect(preview.deletedDataFiles == [] && preview.deletedManifestLists.count == 3)
        #expect(preview.deletedManifestLists.allSatisfy(Self.exists))  // a dry run deletes nothing
        #expect(try await catalog.loadTable(table.identifier).metadata.snapshots.count == 6)

        let result = try await expire.run()
        #expect(result.expiredSnapshotIDs == preview.expiredSnapshotIDs && result.keptSnapshots == 3 && result.failedDeletes == 0)
        #expect(!result.deletedManifestLists.contains(where: Self.exists))
        tagged = try await catalog.loadTable(table.identifier)
        #expect(Set(tagged.metadata.snapshots.map(\.id)) == [snapshots[1].id, snapshots[4].id, snapshots[5].id])
        #expect(tagged.metadata.snapshotLog.allSatisfy { tagged.metadata.snapshot(id: $0.snapshotID) != nil })
        #expect(Self.exists(files[0].filePath))
        var report = try await TableValidation.check(catalogPath: dir.path + "/catalog.db", warehouse: dir.path + "/wh", table: "db.events")
        #expect(report.problems == [] && report.snapshots == 3 && report.rows == 44)

        // Without the tag: retainLast wins over age (the newest 2 of main stay however old)...
        _ = try await catalog.commit(table.identifier, requirements: [], updates: [.removeSnapshotRef("audit")])
        var keepTwo = ExpireSnapshots(table: try await catalog.loadTable(table.identifier), catalog: catalog, clock: { 60 * Self.day })
        keepTwo.olderThanMillis = 60 * Self.day
        keepTwo.retainLast = 2
        #expect(try await keepTwo.run(dryRun: true).expiredSnapshotIDs == [snapshots[1].id])
        // ...and the defaults (older than 5 days, keep 1) expire days 1 and 4 on day 10: day 0's file, live only
        // in their manifest of day 0 (the overwrite rewrote it), goes with that manifest.
        let byDefault = ExpireSnapshots(table: try await catalog.loadTable(table.identifier), catalog: catalog, clock: { 10 * Self.day + 1 })
        let second = try await byDefault.run()
        #expect(second.expiredSnapshotIDs == [snapshots[1].id, snapshots[4].id])
        #expect(second.deletedDataFiles == [files[0].filePath] && !Self.exists(files[0].filePath))
        #expect(second.deletedManifests.count == 1 && !second.deletedManifests.contains(where: Self.exists))
        #expect(files[1...].allSatisfy { Self.exists($0.filePath) })
        report = try await TableValidation.check(catalogPath: dir.path + "/catalog.db", warehouse: dir.path + "/wh", table: "db.events")
        #expect(report.problems == [] && report.snapshots == 1 && report.rows == 44)
        #expect(Set(report.files) == Set(files[1...].map { ($0.filePath as NSString).lastPathComponent }).union(["part-490000.parquet"]))
        #expect(TableUpdate.removeSnapshots([7, 9]).json.serialized() == #"{"action":"remove-snapshots","snapshot-ids":[7,9]}"#)
    }

    @Test func orphanCleanupRemovesUnreferencedFilesPastTheGracePeriodOnly() async throws {
        let dir = try TestEnvironment.temporaryDirectory("orphans")
        defer { TestEnvironment.cleanUp(dir) }
        let catalog = try SQLiteCatalog(name: "ingest", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await catalog.createNamespace(["db"])
        // Two metadata files in the log: older ones are orphans once they fall out of it.
        var table = try await catalog.createTable(
            AppendInteropTests.table, schema: AppendInteropTests.schema, spec: AppendInteropTests.spec,
            properties: ["write.metadata.previous-versions-max": "2"])
        let root = table.metadata.location
        let files = try await AppendInteropTests.dataFiles(at: root, files: 3, rows: 5, start: 0)
        for (i, file) in files.enumerated() {
            var f = file
            if i == 2 { f.filePath = "file://" + file.filePath }  // another form of location, the same file
            var append = FastAppend(table: table, catalog: catalog)
            append.add(f)
            table = try await append.commit()
        }
        // What a crash between writing the manifests and the catalog swap leaves, a stray data file, and a
        // checkpoint (protected).
        let io = table.io
        let snapshot = try #require(table.metadata.currentSnapshot)
        let manifest = try #require(ManifestCodec.readManifestList(try await io.read(snapshot.manifestList), location: "list").first)
        let strays = ["\(root)/metadata/crashed-m0.avro", "\(root)/metadata/snap-1-0-crashed.avro", "\(root)/data/event_time_hour=490000/stray.parquet"]
        try await io.write(strays[0], bytes: try await io.read(manifest.path))
        try await io.write(strays[1], bytes: try await io.read(snapshot.manifestList))
        try await io.write(strays[2], bytes: try await io.read(files[0].filePath))
        let checkpoint = "\(root)/metadata/ingest-checkpoints/src/shard-0-of-1/00000000000000000001.ckpt"
        try await io.write(checkpoint, bytes: [1, 2, 3])
        // The Hadoop layout's pointer and a lease record: readers and runners rely on them, never orphans.
        let hint = "\(root)/metadata/version-hint.text", lease = "\(root)/metadata/ingest-checkpoints/src/shard-0-of-1/lease/00000000000000000001.json"
        try await io.write(hint, bytes: Array("3".utf8))
        try await io.write(lease, bytes: Array("{}".utf8))
        let metadataFiles = try FileManager.default.contentsOfDirectory(atPath: root + "/metadata").filter { $0.hasSuffix(".metadata.json") }.sorted()
        #expect(metadataFiles.count == 4)
        let expected = (strays + metadataFiles.prefix(1).map { "\(root)/metadata/\($0)" }).sorted()

        // The default grace period (3 days) protects files this new.
        #expect(try await RemoveOrphanFiles(table: table).run(dryRun: true).orphanFiles == [])
        var cleanup = RemoveOrphanFiles(table: table)
        cleanup.olderThanMillis = WallClock.nowMillis() + 1000
        let preview = try await cleanup.run(dryRun: true)
        #expect(preview.orphanFiles.sorted() == expected)
        #expect(expected.allSatisfy(Self.exists))
        let result = try await cleanup.run()
        #expect(result.orphanFiles.sorted() == expected && result.failedDeletes == 0 && result.scannedFiles > expected.count)
        #expect(!expected.contains(where: Self.exists) && Self.exists(checkpoint) && Self.exists(hint) && Self.exists(lease))
        #expect(try await cleanup.run(dryRun: true).orphanFiles == [])
        let report = try await TableValidation.check(catalogPath: dir.path + "/catalog.db", warehouse: dir.path + "/wh", table: "db.events")
        #expect(report.problems == [] && report.rows == 15 && report.files.count == 3)
    }

    /// Two catalogs whose tables share a location (the same warehouse and name): each table's files look like
    /// the other's orphans. Removing orphans refuses, dry run included, naming the other table's metadata, and
    /// removes nothing.
    @Test func tablesSharingALocationAreNotEachOthersOrphans() async throws {
        let dir = try TestEnvironment.temporaryDirectory("shared-location")
        defer { TestEnvironment.cleanUp(dir) }
        var tables: [Table] = []
        for name in ["first", "second"] {
            let catalog = try SQLiteCatalog(name: name, path: dir.path + "/\(name).db", warehouse: dir.path + "/wh")
            try await catalog.createNamespace(["db"])
            let table = try await catalog.createTable(AppendInteropTests.table, schema: AppendInteropTests.schema, spec: AppendInteropTests.spec)
            var append = FastAppend(table: table, catalog: catalog)
            await append.add(contentsOf: try AppendInteropTests.dataFiles(at: table.metadata.location + "/data/\(name)", files: 1, rows: 5, start: 0))
            tables.append(try await append.commit())
        }
        #expect(tables[0].metadata.location == tables[1].metadata.location)
        var cleanup = RemoveOrphanFiles(table: tables[0])
        cleanup.olderThanMillis = WallClock.nowMillis() + 1000
        for dryRun in [true, false] {
            let refused = await #expect(throws: IcebergError.self) { _ = try await cleanup.run(dryRun: dryRun) }
            #expect(refused?.code == .validationFailed)
            #expect(refused?.message.contains(tables[1].metadata.tableUUID.uuidString.lowercased()) == true, "\(refused?.message ?? "")")
        }
        #expect(Self.exists(tables[1].metadataLocation) && Self.exists(tables[0].metadataLocation))
        let other = try await ReachableFiles.of(tables[1].metadata.snapshots, table: tables[1])
        #expect(!other.liveFiles.isEmpty && other.liveFiles.allSatisfy(Self.exists))
    }

    @Test func locationFormsCompareAlike() {
        #expect(RemoveOrphanFiles.normalized("file:///wh/db//t/data/a.parquet") == "/wh/db/t/data/a.parquet")
        #expect(RemoveOrphanFiles.normalized("file:/wh/db/t/data/a.parquet") == "/wh/db/t/data/a.parquet")
        #expect(RemoveOrphanFiles.normalized("s3a://bucket/wh//t/x") == "s3://bucket/wh/t/x")
        #expect(RemoveOrphanFiles.normalized("S3://bucket/wh/t/x") == "s3://bucket/wh/t/x")
        #expect(RemoveOrphanFiles.normalized("s3://bucket/wh/t/x") != RemoveOrphanFiles.normalized("s3://other/wh/t/x"))
    }
}
