import IcebergCore
import Synchronization
import Testing

@testable import Checkpoint

@Suite struct CheckpointStoreTests {
    static func sample(version: Int64, objects: Int = 50, pending: [String] = []) -> SourceCheckpoint {
        var checkpoint = SourceCheckpoint(source: "s3://bucket/raw/events/|firehose", shard: .single, lateArrivalHours: 4)
        for i in 0..<objects {
            checkpoint.record(
                ObjectVersion(key: "raw/events/2026/11/24/\(i % 24)/obj-\(i).gz", size: Int64(1_000 + i), etag: "etag-\(i)",
                              lastModifiedMillis: 1_764_000_000_000 + Int64(i)),
                hour: 494_000 + Int32(i % 24), snapshotID: Int64(i / 10))
        }
        checkpoint.advanceWatermark(to: 494_005)
        checkpoint.version = version
        checkpoint.pendingDataFiles = pending
        return checkpoint
    }

    @Test func encodeDecodeRoundTrip() throws {
        let checkpoint = Self.sample(version: 3, pending: ["s3://bucket/wh/t/data/a.parquet"])
        let bytes = try CheckpointCodec.encode(checkpoint)
        #expect(try CheckpointCodec.decode(bytes, location: "x") == checkpoint)
        let empty = SourceCheckpoint(source: "s", shard: ShardID(index: 1, count: 2), lateArrivalHours: 1)
        #expect(try CheckpointCodec.decode(try CheckpointCodec.encode(empty), location: "x") == empty)
    }

    @Test func corruptFilesGiveErrorsNamingTheFileNeverCrashes() throws {
        let bytes = try CheckpointCodec.encode(Self.sample(version: 1, objects: 200))
        let truncated = Array(bytes.prefix(bytes.count - 3))
        let error = #expect(throws: CheckpointError.self) { try CheckpointCodec.decode(truncated, location: "s3://b/c.ckpt") }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("s3://b/c.ckpt") == true)
        // A few thousand mutations: every one decodes to something or throws CheckpointError.
        var generator = SplitMix64(seed: 42)
        var failures = 0
        for _ in 0..<3_000 {
            var mutated = bytes
            switch generator.next() % 3 {
            case 0: mutated[Int(generator.next() % UInt64(mutated.count))] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            case 1: mutated.removeLast(Int(generator.next() % UInt64(mutated.count)))
            default: mutated.insert(UInt8(truncatingIfNeeded: generator.next()), at: Int(generator.next() % UInt64(mutated.count)))
            }
            do { _ = try CheckpointCodec.decode(mutated, location: "m") } catch is CheckpointError { failures += 1 }
        }
        #expect(failures > 2_500)  // almost every mutation is detected (zstd checksums, lengths, JSON)
    }

    @Test func saveLoadAndVersionTaken() async throws {
        let io = MemoryFileIO()
        let store = CheckpointStore(io: io, tableLocation: "s3://bucket/wh/db/events/", source: "s3://bucket/raw/events/|firehose", shard: .single)
        let checkpoint = Self.sample(version: 1)
        let location = try await store.save(checkpoint)
        #expect(location.hasPrefix("s3://bucket/wh/db/events/metadata/ingest-checkpoints/"))
        #expect(location.hasSuffix("/shard-0-of-1/00000000000000000001.ckpt"))
        #expect(try await store.load(version: 1) == checkpoint)
        let error = await #expect(throws: CheckpointError.self) { try await store.save(checkpoint) }
        #expect(error?.code == .versionTaken)
        let missing = await #expect(throws: CheckpointError.self) { try await store.load(version: 9) }
        #expect(missing?.code == .missing)
    }

    @Test func recoveryDiscardsVersionsAheadOfTheTableAndListsTheirDataFiles() async throws {
        let io = MemoryFileIO()
        let store = CheckpointStore(io: io, tableLocation: "/wh/t", source: "s3://bucket/raw/events/|firehose", shard: .single)
        try await store.save(Self.sample(version: 1, pending: ["/wh/t/data/1.parquet"]))
        try await store.save(Self.sample(version: 2, pending: ["/wh/t/data/2a.parquet", "/wh/t/data/2b.parquet"]))
        try await store.save(Self.sample(version: 3, pending: ["/wh/t/data/3.parquet"]))
        // The table committed version 1 only (crashes after saving 2 and 3, before their swaps).
        let snapshotSummaries: [[String: String]] = [
            ["operation": "replace"],  // a maintenance commit carries no record
            CheckpointCommit(source: store.source, shard: .single, version: 1, watermarkHour: 494_005,
                             location: store.location(of: 1)).summaryProperties.merging(["operation": "append"]) { a, _ in a },
        ]
        let committed = try #require(CheckpointCommit.latest(in: snapshotSummaries, source: store.source, shard: .single))
        #expect(committed.version == 1)
        #expect(committed.watermarkHour == 494_005)
        let recovery = try await store.recover(committed: committed, lateArrivalHours: 4)
        #expect(recovery.checkpoint.version == 1)
        #expect(recovery.checkpoint.pendingDataFiles.isEmpty)
        #expect(recovery.discardedVersions == [2, 3])
        #expect(Set(recovery.orphanDataFiles) == ["/wh/t/data/2a.parquet", "/wh/t/data/2b.parquet", "/wh/t/data/3.parquet"])
        #expect(await io.exists(store.location(of: 1)))
        #expect(await !io.exists(store.location(of: 2)))
        // Nothing committed at all: start empty, discard everything.
        let fresh = try await store.recover(committed: nil, lateArrivalHours: 4)
        #expect(fresh.checkpoint.version == 0)
        #expect(fresh.checkpoint.trackedObjectCount == 0)
        #expect(fresh.discardedVersions == [1])
        #expect(fresh.orphanDataFiles == ["/wh/t/data/1.parquet"])
    }

    /// The records of unknown outcomes: those of versions the table has, or whose version is gone, are
    /// deleted; those ahead of the table are heard first, with the snapshot id the version names when the
    /// record itself does not decode, and their versions stay when the table has one of them now. A version
    /// ahead without a record whose commit wrote its manifest list (a run killed with its swap in flight) is
    /// heard of too; one that got no further than its checkpoint is a crashed run's.
    @Test func recoveryHearsOfUnsettledCommitsFirst() async throws {
        let io = MemoryFileIO()
        let store = CheckpointStore(io: io, tableLocation: "/wh/t", source: "s3://bucket/raw/events/|firehose", shard: .single)
        await io.write("/wh/t/metadata/snap-104-0-0b1c.avro", bytes: [1])
        for version in Int64(1)...5 {
            var checkpoint = Self.sample(version: version, pending: ["/wh/t/data/\(version).parquet"])
            checkpoint.pendingSnapshotID = 100 + version
            try await store.save(checkpoint)
        }
        try await store.markUnsettled(.init(version: 1, snapshotID: 101, atMillis: 5))  // the table has v1: settled
        try await store.markUnsettled(.init(version: 2, snapshotID: 102, atMillis: 7))
        await io.write(store.unsettledLocation(of: 3), bytes: Array("not json".utf8))
        try await store.markUnsettled(.init(version: 9, snapshotID: 109, atMillis: 9))  // its version is gone
        let committed = CheckpointCommit(source: store.source, shard: .single, version: 1, watermarkHour: nil, location: store.location(of: 1))

        let heard = Mutex<[CheckpointStore.UnsettledCommit]>([])
        let landed = try await store.recover(committed: committed, lateArrivalHours: 4, unsettled: { commits in
            heard.withLock { $0 = commits }
            return true
        })
        #expect(landed.landedLate && landed.discardedVersions.isEmpty && landed.orphanDataFiles.isEmpty)
        let commits = heard.withLock { $0 }
        #expect(commits.map(\.version) == [2, 3, 4], "v5 wrote no manifest list")
        #expect(commits.map(\.snapshotID) == [102, 103, 104], "v3's record does not decode: its snapshot id comes from the version")
        #expect(commits.first?.atMillis == 7)
        #expect(await io.exists(store.location(of: 2)))
        #expect(await io.exists(store.location(of: 3)))
        #expect(await !io.exists(store.unsettledLocation(of: 1)), "the table has v1")
        #expect(await !io.exists(store.unsettledLocation(of: 9)), "v9 is gone")
        #expect(await io.exists(store.unsettledLocation(of: 2)))

        // Settled without landing: discarded with their records.
        let discarded = try await store.recover(committed: committed, lateArrivalHours: 4, unsettled: { _ in false })
        #expect(!discarded.landedLate)
        #expect(discarded.discardedVersions == [2, 3, 4, 5])
        #expect(Set(discarded.orphanSnapshotIDs) == [102, 103, 104, 105])
        #expect(await !io.exists(store.unsettledLocation(of: 2)))
        #expect(await !io.exists(store.unsettledLocation(of: 3)))
    }

    /// Versions ahead of the branch whose snapshots the table holds (rolled back off the branch) are not
    /// unsettled and keep their files; the others are heard of and discarded as before.
    @Test func rolledBackVersionsKeepTheirFiles() async throws {
        let io = MemoryFileIO()
        let store = CheckpointStore(io: io, tableLocation: "/wh/t", source: "s3://bucket/raw/events/|firehose", shard: .single)
        for version in Int64(1)...3 {
            var checkpoint = Self.sample(version: version, pending: ["/wh/t/data/\(version).parquet"])
            checkpoint.pendingSnapshotID = 100 + version
            try await store.save(checkpoint)
            await io.write("/wh/t/metadata/snap-\(100 + version)-0-0b1c.avro", bytes: [1])  // each wrote its manifest list
        }
        let committed = CheckpointCommit(source: store.source, shard: .single, version: 1, watermarkHour: nil, location: store.location(of: 1))
        let heard = Mutex<[Int64]>([])
        let recovery = try await store.recover(
            committed: committed, lateArrivalHours: 4, tableSnapshots: [101, 102],
            unsettled: { commits in
                heard.withLock { $0 = commits.map(\.version) }
                return false
            })
        #expect(heard.withLock { $0 } == [3], "v2's snapshot is in the table: nothing to settle")
        #expect(recovery.discardedVersions == [2, 3])
        #expect(recovery.keptSnapshotIDs == [102])
        #expect(recovery.orphanSnapshotIDs == [103] && recovery.orphanDataFiles == ["/wh/t/data/3.parquet"])
    }

    @Test func otherShardsRecordsAreNotOurs() {
        let shard0 = ShardID(index: 0, count: 2), shard1 = ShardID(index: 1, count: 2)
        let summaries = [CheckpointCommit(source: "src", shard: shard1, version: 5, watermarkHour: nil, location: "l").summaryProperties]
        #expect(CheckpointCommit.latest(in: summaries, source: "src", shard: shard0) == nil)
        #expect(CheckpointCommit.latest(in: summaries, source: "other", shard: shard1) == nil)
        #expect(CheckpointCommit.latest(in: summaries, source: "src", shard: shard1)?.version == 5)
    }

    /// The summary keys a record is written under read back to the source slug and shard they name, and a
    /// layout's value to the layout; any other spelling is no record of ours.
    @Test func recordKeysReadBack() throws {
        for shard in [ShardID.single, ShardID(index: 2, count: 3), ShardID(index: 0, count: 14, epoch: 2)] {
            let commit = CheckpointCommit(source: "s3://b/raw/|firehose", shard: shard, version: 7, watermarkHour: 3, location: "l")
            let slug = Substring(CheckpointStore.slug(commit.source))
            var versions: [CheckpointCommit.RecordKey] = [], layouts: [CheckpointCommit.RecordKey] = []
            for (key, value) in commit.summaryProperties {
                switch CheckpointCommit.recordKey(key) {
                case .checkpointVersion(slug, shard)?: versions.append(.checkpointVersion(slug: slug, shard: shard))
                case .shardLayout(slug)?:
                    layouts.append(.shardLayout(slug: slug))
                    #expect(ShardLayout(recorded: value) == shard.layout)
                case nil: #expect(!key.hasSuffix("checkpoint-version") && !key.hasSuffix("shard-layout"), "\(key)")
                case let other?: Issue.record("\(key) read as \(other)")
                }
            }
            #expect(versions.count == 1 && layouts.count == 1)
        }
        for key in [
            "iceberg-ingest.s-1.shard-0-of-0.checkpoint-version", "iceberg-ingest.s-1.shard-3-of-3.checkpoint-version",
            "iceberg-ingest.s-1.shard-01-of-3.checkpoint-version", "iceberg-ingest.s-1.shard-0-of-3-e0.checkpoint-version",
            "iceberg-ingest.s-1.shard-+1-of-3.checkpoint-version", "iceberg-ingest.s-1.shard-0-of-3.x.checkpoint-version",
            "iceberg-ingest.s-1.shard-0-of-3.checkpoint-location", "iceberg-ingest.s-1.x.shard-layout",
            "other.s-1.shard-0-of-3.checkpoint-version", "iceberg-ingest.checkpoint-version",
        ] {
            #expect(CheckpointCommit.recordKey(key) == nil, "\(key)")
        }
        for text in ["0/e0", "3/e-1", "3", "3/1", "3/e", "3/e1/x", "x/e1"] { #expect(ShardLayout(recorded: text) == nil, "\(text)") }
    }
}
