import Checkpoint
import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import IcebergIngest

/// Snapshot expiry against the checkpoint record a shard keeps on the table's history: our expiry keeps the
/// history back to each shard's newest record, and a run that finds its record gone while its checkpoint
/// files say it committed stops instead of ingesting everything again (and deleting its last commit's files
/// as a crashed run's).
@Suite(.withinOneHour) struct CheckpointRecordExpiryTests {
    /// A local job: `files` objects of 50 records in one hour, one commit per object.
    struct Setup {
        let dir: URL
        let input: String
        let catalog: SQLiteCatalog
        var configuration: IngestConfiguration

        init(_ name: String, files: Int) async throws {
            dir = try TestEnvironment.temporaryDirectory(name)
            input = dir.appendingPathComponent("in").path
            _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 3, hours: 1, files: files, records: 50, firstID: 1)
            let warehouse = dir.appendingPathComponent("wh").path
            try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
            catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
            configuration = try PipelineSupport.configuration()
            configuration.commitEveryObjects = 1
        }

        func run() async throws -> RunSummary {
            try await Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: input, layout: .firehose)).run()
        }

        func table() async throws -> Table { try await catalog.loadTable(configuration.table) }

        func rows() async throws -> Int64 { try await table().liveDataFiles().reduce(0) { $0 + $1.recordCount } }

        /// Compacts the hour's small files into one (a `replace` snapshot on top, carrying no record).
        func compact() async throws {
            var compaction = Compaction(table: try await table(), catalog: catalog)
            compaction.targetFileSizeBytes = 8 << 20
            let result = try await compaction.run()
            #expect(result.snapshotID != nil, "the compaction committed nothing")
        }

        /// Expires every snapshot but the head, by every age rule; `keepingRecords` as our commands do.
        func expire(keepingRecords: Bool) async throws -> ExpireSnapshots.Result {
            var expire = ExpireSnapshots(table: try await table(), catalog: catalog)
            if keepingRecords { expire.keepingCheckpointRecords() }
            expire.olderThanMillis = WallClock.nowMillis() + 60_000
            expire.retainLast = 1
            return try await expire.run()
        }
    }

    @Test func ourExpiryKeepsTheHistoryBackToEachShardsNewestRecord() async throws {
        let setup = try await Setup("record-kept", files: 3)
        defer { TestEnvironment.cleanUp(setup.dir) }
        #expect(try await setup.run().rows == 150)
        try await setup.compact()
        let ancestry = try await setup.table().metadata.ancestors()
        #expect(ancestry.count == 4 && ancestry[0].operation == "replace")

        let result = try await setup.expire(keepingRecords: true)
        // The compaction and the last append (which carries the record) stay; the two appends before go.
        #expect(result.expiredSnapshotIDs == [ancestry[3].id, ancestry[2].id])
        let kept = try await setup.table().metadata.ancestors().map(\.id)
        #expect(kept == [ancestry[0].id, ancestry[1].id])

        // The next run knows what it ingested: nothing again, nothing deleted.
        let again = try await setup.run()
        #expect(again.rows == 0 && again.orphanFilesDeleted == 0)
        #expect(try await setup.rows() == 150)
        for file in try await setup.table().liveDataFiles() { #expect(FileManager.default.fileExists(atPath: file.filePath), "\(file.filePath)") }

        // Once a newer record sits on the head, the older history goes as usual.
        _ = try await PipelineSupport.generate(into: setup.input, firstHour: PrefixLayout.hour(of: Date()) - 2, hours: 1, files: 1, records: 50, firstID: 1001)
        #expect(try await setup.run().rows == 50)
        let later = try await setup.expire(keepingRecords: true)
        #expect(later.expiredSnapshotIDs == [ancestry[1].id, ancestry[0].id])
        #expect(try await setup.rows() == 200)
    }

    @Test func aRunStopsWhenAnotherExpiryTookItsRecord() async throws {
        let setup = try await Setup("record-lost", files: 2)
        defer { TestEnvironment.cleanUp(setup.dir) }
        #expect(try await setup.run().rows == 100)
        try await setup.compact()
        // An expiry that does not keep the record (another engine's): only the compaction is left.
        let result = try await setup.expire(keepingRecords: false)
        #expect(result.expiredSnapshotIDs.count == 2)
        let files = try await setup.table().liveDataFiles().map(\.filePath)
        #expect(files.count == 1)

        do {
            _ = try await setup.run()
            Issue.record("the run started over")
        } catch let error as IngestError {
            #expect(error.code == .checkpointRecordLost)
            #expect(error.message.contains("no checkpoint record") && error.message.contains("reach version 2"), "\(error.message)")
        }
        // Nothing was read again, deleted or discarded.
        #expect(try await setup.rows() == 100)
        #expect(try await setup.table().liveDataFiles().map(\.filePath) == files && FileManager.default.fileExists(atPath: files[0]))
        let store = CheckpointStore(
            io: try await setup.table().io, tableLocation: try await setup.table().metadata.location, source: LocalFolderSource(root: setup.input, layout: .firehose).identity,
            shard: setup.configuration.shard)
        #expect(try await store.versions().last == 2)
    }

    @Test func aShardThatCommittedOnceIsCaughtByItsFiles() async throws {
        let setup = try await Setup("record-lost-v1", files: 1)
        defer { TestEnvironment.cleanUp(setup.dir) }
        #expect(try await setup.run().rows == 50)
        // Another writer's commit on top (no files, no record), then an expiry that does not keep the record.
        var append = FastAppend(table: try await setup.table(), catalog: setup.catalog)
        append.add(contentsOf: [])
        _ = try await append.commit()
        #expect(try await setup.expire(keepingRecords: false).expiredSnapshotIDs.count == 1)

        do {
            _ = try await setup.run()
            Issue.record("the run started over")
        } catch let error as IngestError {
            #expect(error.code == .checkpointRecordLost && error.message.contains("data files of its checkpoint version 1"), "\(error.message)")
        }
        #expect(try await setup.rows() == 50)
    }

    @Test func aFirstRunThatCrashedBeforeItsCommitIsStillRecovered() async throws {
        // A version 1 whose files are not in the table is a crashed first run's: recovery discards it.
        let setup = try await Setup("record-none", files: 1)
        defer { TestEnvironment.cleanUp(setup.dir) }
        let table = try await Ingestor(configuration: setup.configuration, catalog: setup.catalog, source: LocalFolderSource(root: setup.input, layout: .firehose))
            .loadOrCreateTable()
        let store = CheckpointStore(io: table.io, tableLocation: table.metadata.location, source: LocalFolderSource(root: setup.input, layout: .firehose).identity, shard: setup.configuration.shard)
        var crashed = SourceCheckpoint(source: store.source, shard: setup.configuration.shard, lateArrivalHours: 6)
        crashed.version = 1
        crashed.pendingDataFiles = [table.metadata.location + "/data/never-uploaded.parquet"]
        crashed.pendingSnapshotID = 42
        _ = try await store.save(crashed)
        let summary = try await setup.run()
        let rows = try await setup.rows()
        #expect(summary.rows == 50 && rows == 50)
    }

    /// The history kept for records, on a made-up chain of five snapshots (newest last): a source's records
    /// before a rescale (`shard-0-of-1`) do not hold the history once its newest layout (`2/e1`) has shards
    /// of its own; another source's record does.
    @Test func aRescaleLetsTheOldShardsHistoryGo() throws {
        func chain(_ summaries: [[String: String]]) throws -> Set<Int64> {
            let fixture = try Data(contentsOf: TestEnvironment.fixtures.appendingPathComponent("iceberg/pyiceberg-v2-partitioned.metadata.json"))
            guard var json = try JSONSerialization.jsonObject(with: fixture) as? [String: Any],
                let template = (json["snapshots"] as? [[String: Any]])?.first
            else { throw TestEnvironmentError("fixture") }
            json["snapshots"] = summaries.enumerated().map { index, summary -> [String: Any] in
                var snapshot = template
                snapshot["snapshot-id"] = index + 1
                snapshot["parent-snapshot-id"] = index == 0 ? nil : index
                snapshot["sequence-number"] = index + 1
                snapshot["summary"] = summary.merging(["operation": "append"]) { a, _ in a }
                return snapshot
            }
            json["current-snapshot-id"] = summaries.count
            json["last-sequence-number"] = summaries.count
            json["refs"] = ["main": ["snapshot-id": summaries.count, "type": "branch"]]
            json["snapshot-log"] = [] as [Any]
            let bytes = try JSONSerialization.data(withJSONObject: json)
            return ExpireSnapshots.checkpointRecordChain(try TableMetadata(json: [UInt8](bytes), location: "made-up"))
        }
        func record(_ slug: String, _ shard: String, layout: String) -> [String: String] {
            ["iceberg-ingest.\(slug).\(shard).checkpoint-version": "1", "iceberg-ingest.\(slug).shard-layout": layout]
        }
        let before = record("src-a", "shard-0-of-1", layout: "1/e0")
        let rescaled = record("src-a", "shard-0-of-2-e1", layout: "2/e1").merging(record("src-a", "shard-1-of-2-e1", layout: "2/e1")) { a, _ in a }
        let newest = record("src-a", "shard-0-of-2-e1", layout: "2/e1")
        let compaction = ["operation": "replace"]
        // Snapshots 1..5: the old shard's last record, both new shards, one new shard again, two without records.
        #expect(try chain([before, rescaled, newest, compaction, compaction]) == [2, 3, 4, 5])
        // Another source's record on snapshot 1 holds it.
        #expect(try chain([before.merging(record("src-b", "shard-0-of-1", layout: "1/e0")) { a, _ in a }, rescaled, newest, compaction, compaction]) == [1, 2, 3, 4, 5])
        // No record at all: nothing is held.
        #expect(try chain([compaction, compaction]).isEmpty)
    }
}

