import Testing

@testable import Checkpoint

@Suite struct SourceCheckpointTests {
    static let hour: Int32 = 494_458  // 2026-05-29T10:00Z in hours since the epoch; any hour will do

    static func object(_ key: String, size: Int64 = 100, etag: String = "e1") -> ObjectVersion {
        ObjectVersion(key: key, size: size, etag: "\"\(etag)\"", lastModifiedMillis: 1_000)
    }

    @Test func newIngestedAndChangedObjects() {
        var checkpoint = SourceCheckpoint(source: "s3://b/raw/|firehose", shard: .single, lateArrivalHours: 3)
        let a = Self.object("raw/2026/05/29/10/a.gz")
        #expect(checkpoint.status(of: a, hour: Self.hour) == .new)
        checkpoint.record(a, hour: Self.hour, snapshotID: 7)
        guard case .ingested(let recorded) = checkpoint.status(of: a, hour: Self.hour) else {
            Issue.record("recorded object not found")
            return
        }
        #expect(recorded.snapshotID == 7)
        #expect(recorded.version.etag == "e1")  // quotes stripped
        // Same key, other ETag or size: reported as changed, never as new or ingested.
        #expect(checkpoint.status(of: Self.object(a.key, etag: "e2"), hour: Self.hour) == .changed(previous: recorded))
        #expect(checkpoint.status(of: Self.object(a.key, size: 101), hour: Self.hour) == .changed(previous: recorded))
        // Re-ingesting replaces the record.
        checkpoint.record(Self.object(a.key, etag: "e2"), hour: Self.hour, snapshotID: 9)
        #expect(checkpoint.trackedObjectCount == 1)
        #expect(checkpoint.recorded(a.key)?.snapshotID == 9)
        #expect(checkpoint.recorded(a.key)?.version.etag == "e2")
    }

    @Test func watermarkFoldsOnlyBelowTheHorizonAndNeverMovesBack() {
        var checkpoint = SourceCheckpoint(source: "s", shard: .single, lateArrivalHours: 3)
        for h in 0..<10 {
            checkpoint.record(Self.object("k\(h)"), hour: Self.hour + Int32(h), snapshotID: 1)
        }
        checkpoint.advanceWatermark(to: Self.hour + 5)  // horizon = hour + 2
        #expect(checkpoint.horizonHour == Self.hour + 2)
        #expect(checkpoint.firstOpenHour == Self.hour + 3)
        #expect(checkpoint.trackedObjectCount == 7)
        #expect(checkpoint.recorded("k2") == nil)
        #expect(checkpoint.recorded("k3") != nil)
        #expect(checkpoint.status(of: Self.object("late"), hour: Self.hour + 1) == .belowHorizon)
        #expect(checkpoint.status(of: Self.object("late"), hour: Self.hour + 3) == .new)
        checkpoint.advanceWatermark(to: Self.hour + 1)
        #expect(checkpoint.watermarkHour == Self.hour + 5)
    }

    /// The size follows the window, not the history: 30 days of hourly files, watermark advancing each hour.
    @Test func sizeIsBoundedByTheWindow() {
        var checkpoint = SourceCheckpoint(source: "s", shard: .single, lateArrivalHours: 6)
        var largest = 0
        for h in Int32(0)..<(30 * 24) {
            for i in 0..<20 { checkpoint.record(Self.object("p/\(h)/\(i)"), hour: Self.hour + h, snapshotID: Int64(h)) }
            checkpoint.advanceWatermark(to: Self.hour + h - 6)
            largest = max(largest, checkpoint.trackedObjectCount)
        }
        // Hours above the horizon (W - 6 = now - 12): 12 hours of 20 objects at most.
        #expect(largest <= 13 * 20)
        #expect(checkpoint.trackedObjectCount == 12 * 20)
    }

    /// Objects of one busy hour spread over every shard: each key has exactly one owner, the split is even
    /// for any count, and the assignment is fixed (the same in every process and release).
    @Test func shardsPartitionObjectsOfOneHourEvenly() {
        let keys = (0..<3000).map { "raw/2026/11/24/10/events-1-2026-11-24-10-\(String(format: "%02d-%02d", $0 / 60 % 60, $0 % 60))-\($0)-8f3c.gz" }
        for count in [2, 3, 5, 8, 16] {
            let shards = (0..<count).map { ShardID(index: $0, count: count) }
            for key in keys.prefix(200) { #expect(shards.filter { $0.owns(key: key) }.count == 1, "\(key)") }
            let counts = shards.map { shard in keys.filter { shard.owns(key: $0) }.count }
            let mean = Double(keys.count) / Double(count)
            #expect(counts.allSatisfy { abs(Double($0) - mean) / mean < 0.15 }, "\(count) shards unbalanced: \(counts)")
        }
        // A fixed assignment: these values are part of the format (changing them would move objects between shards).
        #expect(ShardID.shardIndex(of: "raw/2026/11/24/10/a.gz", count: 7) == ShardID.shardIndex(of: "raw/2026/11/24/10/a.gz", count: 7))
        #expect((0..<4).map { ShardID.shardIndex(of: "k\($0)", count: 1000) } == [614, 22, 178, 997], "as an independent Python implementation of FNV-1a 64 and SplitMix64's finaliser computes them")
        #expect(ShardID.single.owns(key: "anything"))
        #expect(ShardID(index: 1, count: 3, epoch: 2).description == "shard-1-of-3-e2" && ShardID(index: 1, count: 3).description == "shard-1-of-3")
    }
}

/// The shard layout a table's history records: the newest ingestion commit's, written with every checkpoint
/// commit; commits from before layouts were recorded count as sharded by hour prefix.
@Suite struct ShardLayoutTests {
    @Test func theNewestIngestionCommitSaysTheLayout() {
        let source = "s3://raw/events/|firehose"
        let old = CheckpointCommit(source: source, shard: ShardID(index: 2, count: 3), version: 4, watermarkHour: nil, location: "x").summaryProperties
            .filter { !$0.key.hasSuffix("shard-layout") }
        let new = CheckpointCommit(source: source, shard: ShardID(index: 1, count: 5, epoch: 1), version: 1, watermarkHour: 10, location: "y").summaryProperties
        let other = CheckpointCommit(source: "s3://other/|firehose", shard: ShardID(index: 0, count: 2), version: 9, watermarkHour: nil, location: "z")
            .summaryProperties
        let compaction = ["operation": "replace"]
        #expect(new["iceberg-ingest.\(CheckpointStore.slug(source)).shard-layout"] == "5/e1")
        #expect(ShardLayout.recorded(in: [compaction, new, old], source: source) == .layout(ShardLayout(count: 5, epoch: 1)))
        #expect(ShardLayout.recorded(in: [other, compaction, old], source: source) == .legacy(count: 3))
        #expect(ShardLayout.recorded(in: [other, compaction], source: source) == .none)
        // Rescaled checkpoints: the oldest horizon, every object above it, each with its new owner.
        var a = SourceCheckpoint(source: source, shard: ShardID(index: 0, count: 2), lateArrivalHours: 2)
        var b = SourceCheckpoint(source: source, shard: ShardID(index: 1, count: 2), lateArrivalHours: 2)
        for n in 0..<40 {
            let key = "raw/k\(n).gz"
            let version = ObjectVersion(key: key, size: 1, etag: "e\(n)", lastModifiedMillis: 0)
            if ShardID(index: 0, count: 2).owns(key: key) { a.record(version, hour: 100 + Int32(n % 5), snapshotID: 1) } else { b.record(version, hour: 100 + Int32(n % 5), snapshotID: 2) }
        }
        a.advanceWatermark(to: 103)  // horizon 101: hours 100-101 folded
        b.advanceWatermark(to: 102)  // horizon 100
        let foldedByA = (0..<40).filter { ShardID(index: 0, count: 2).owns(key: "raw/k\($0).gz") && 100 + $0 % 5 == 101 }
        let archived = foldedByA.map { IngestedObject(version: ObjectVersion(key: "raw/k\($0).gz", size: 1, etag: "e\($0)", lastModifiedMillis: 0), hour: 101, snapshotID: 1) }
        let rescaled = SourceCheckpoint.rescaled(from: [a, b], archived: archived, to: ShardLayout(count: 3, epoch: 1), source: source, lateArrivalHours: 2)
        #expect(rescaled.map(\.horizonHour) == [100, 100, 100] && rescaled.map(\.watermarkHour) == [102, 102, 102] && rescaled.allSatisfy { $0.version == 1 })
        let keys = rescaled.flatMap { checkpoint in checkpoint.trackedObjects.map { (checkpoint.shard.index, $0.version.key) } }
        let expected = (0..<40).filter { 100 + $0 % 5 > 100 }.map { "raw/k\($0).gz" }
        #expect(Set(keys.map(\.1)) == Set(expected) && keys.count == expected.count, "every object above the oldest horizon, once")
        #expect(keys.allSatisfy { ShardID.shardIndex(of: $0.1, count: 3) == $0.0 })
    }
}
