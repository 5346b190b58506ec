import Foundation
import Testing
import TestSupport

@testable import IcebergCore

/// Manifest merging on append (Java's merge append): a table taking many small commits keeps a bounded
/// number of manifests, entries keep their snapshot ids and sequence numbers, and PyIceberg reads the same.
@Suite struct ManifestMergeTests {
    /// 1,000 commits of one tiny file each: the current snapshot never has more than
    /// `commit.manifest.min-count-to-merge` (100) manifests, every file keeps the sequence number of the
    /// commit that added it, and PyIceberg plans and reads the 1,000 files and rows, with every snapshot's
    /// summary consistent with its manifests.
    @Test func thousandCommitsKeepManifestsBounded() async throws {
        let dir = try TestEnvironment.temporaryDirectory("merge-1000")
        defer { TestEnvironment.cleanUp(dir) }
        // The in-memory catalog does not parse its own metadata again on each commit (PyIceberg reads the
        // last metadata file as a static table); few metadata-log entries keep the 1,000 files small.
        let catalog = InMemoryCatalog(name: "ingest", warehouse: dir.path + "/wh")
        try await catalog.createNamespace(["db"])
        var table = try await catalog.createTable(
            AppendInteropTests.table, schema: AppendInteropTests.schema, spec: AppendInteropTests.spec,
            properties: ["write.metadata.previous-versions-max": "5"])
        let files = try await AppendInteropTests.dataFiles(at: table.metadata.location, files: 1000, rows: 1, start: 0)
        var mostManifests = 0
        var sequenceOf: [String: Int64] = [:]
        for file in files {
            var append = FastAppend(table: table, catalog: catalog)
            append.add(file)
            table = try await append.commit()
            let snapshot = try #require(table.metadata.currentSnapshot)
            sequenceOf[file.filePath] = snapshot.sequenceNumber
            let count = try ManifestCodec.readManifestList(try await table.io.read(snapshot.manifestList), location: snapshot.manifestList).count
            mostManifests = max(mostManifests, count)
        }
        #expect(mostManifests <= 100, "at most min-count-to-merge manifests; saw \(mostManifests)")
        #expect(mostManifests >= 99, "merging happens only once there are many; saw at most \(mostManifests)")

        // Entries keep the sequence number and snapshot of the commit that added them.
        let snapshot = try #require(table.metadata.currentSnapshot)
        let manifests = try ManifestCodec.readManifestList(try await table.io.read(snapshot.manifestList), location: snapshot.manifestList)
        var seen: [String: Int64] = [:]
        var statuses: [ManifestEntry.Status: Int] = [:]
        for manifest in manifests {
            let entries = try ManifestCodec.readManifest(
                try await table.io.read(manifest.path), manifest: manifest, schema: table.metadata.currentSchema,
                specs: table.metadata.partitionSpecs, location: manifest.path)
            for entry in entries {
                seen[entry.dataFile.filePath] = entry.sequenceNumber
                statuses[entry.status, default: 0] += 1
                let bySnapshot = table.metadata.snapshot(id: entry.snapshotID ?? -1)?.sequenceNumber
                #expect(bySnapshot == entry.sequenceNumber, "\(entry.dataFile.filePath): snapshot \(entry.snapshotID ?? -1)")
            }
        }
        #expect(seen == sequenceOf)
        // Each file is ADDED in the manifest its commit wrote or merged into, EXISTING in later merges.
        let added = manifests.reduce(0) { $0 + $1.addedFilesCount }, existing = manifests.reduce(0) { $0 + $1.existingFilesCount }
        #expect(statuses[.added] == added && statuses[.existing] == existing && statuses[.deleted] == nil)
        #expect(added + existing == 1000 && existing >= 900, "\(added) added, \(existing) existing")

        // Summaries of the newest snapshots (the merges are checked snapshot by snapshot in the next test).
        let report = try await TableValidation.check(metadataLocation: table.metadataLocation, newestSnapshots: 3)
        #expect(report.problems == [], "\(report.problems.prefix(5))")
        #expect(report.snapshots == 1000 && report.rows == 1000 && report.manifests == manifests.count)
        #expect(report.files == files.map { ($0.filePath as NSString).lastPathComponent }.sorted())
    }

    /// The table property and the append's option turn merging off; a lower `min-count-to-merge` merges
    /// sooner; and a small `target-size-bytes` keeps merged manifests apart.
    @Test func propertiesAndOptionControlMerging() async throws {
        let dir = try TestEnvironment.temporaryDirectory("merge-props")
        defer { TestEnvironment.cleanUp(dir) }
        let catalog = try SQLiteCatalog(name: "ingest", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await catalog.createNamespace(["db"])
        let files = try await AppendInteropTests.dataFiles(at: dir.path + "/files", files: 12, rows: 2, start: 0)
        func manifestCount(properties: [String: String], option: Bool = true, name: String) async throws -> Int {
            let id = TableIdentifier(namespace: ["db"], name: name)
            var table = try await catalog.createTable(id, schema: AppendInteropTests.schema, spec: AppendInteropTests.spec, properties: properties)
            for file in files {
                var append = FastAppend(table: table, catalog: catalog)
                append.add(file)
                append.mergeManifests = option
                table = try await append.commit()
            }
            let report = try await TableValidation.check(catalogPath: dir.path + "/catalog.db", warehouse: dir.path + "/wh", table: "db.\(name)", readRows: false)
            #expect(report.problems == [] && report.rows == 24 && report.files.count == 12, "\(name): \(report.problems)")
            // Merging leaves no manifest behind that nothing references (each merge used to leave the new one).
            var orphans = RemoveOrphanFiles(table: table)
            orphans.olderThanMillis = WallClock.nowMillis() + 60_000
            #expect(try await orphans.run(dryRun: true).orphanFiles.filter { $0.hasSuffix(".avro") } == [], "\(name)")
            return report.manifests
        }
        #expect(try await manifestCount(properties: ["commit.manifest.min-count-to-merge": "5", "commit.manifest-merge.enabled": "false"], name: "off") == 12)
        #expect(try await manifestCount(properties: ["commit.manifest.min-count-to-merge": "5"], option: false, name: "fast") == 12)
        // 12 commits with merging at 5: 1..4 manifests, merged to 1 at the 5th, then 2, 3, 4, merged, ...
        let merged = try await manifestCount(properties: ["commit.manifest.min-count-to-merge": "5"], name: "merged")
        #expect(merged < 5)
        // A target of 1 byte: every bin holds one manifest, nothing merges.
        #expect(try await manifestCount(properties: ["commit.manifest.min-count-to-merge": "5", "commit.manifest.target-size-bytes": "1"], name: "tiny") == 12)
    }
}
