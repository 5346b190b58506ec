import Testing

@testable import Checkpoint

/// A checkpoint tracking 1,000,000 objects (two days of a busy Firehose stream inside the window): it
/// round-trips, every key is found, and it fits the memory budget. Timings are in `iceberg-bench checkpoint`.
@Suite struct LargeCheckpointTests {
    static let count = 1_000_000

    static func firehoseObject(_ i: Int) -> ObjectVersion {
        // Keys the way Firehose names them: prefix/YYYY/MM/DD/HH/stream-version-date-uuid.
        let hour = i / 20_000
        return ObjectVersion(
            key: "raw/events/2026/11/\(10 + hour / 24)/\(hour % 24)/events-stream-1-2026-11-24-10-00-00-\(String(i, radix: 16))-a1b2c3d4.gz",
            size: Int64(10_000 + i % 5_000), etag: String(UInt64(i) &* 0x9E37_79B9_7F4A_7C15, radix: 16),
            lastModifiedMillis: 1_764_000_000_000 + Int64(i))
    }

    @Test func millionObjectsRoundTripAndFitTheBudget() throws {
        var checkpoint = SourceCheckpoint(source: "s3://bucket/raw/events/|firehose", shard: .single, lateArrivalHours: 48)
        for i in 0..<Self.count {
            checkpoint.record(Self.firehoseObject(i), hour: 494_000 + Int32(i / 20_000), snapshotID: Int64(i / 50_000))
        }
        #expect(checkpoint.trackedObjectCount == Self.count)
        #expect(checkpoint.footprintBytes < 200_000_000, "footprint \(checkpoint.footprintBytes / 1_000_000) MB")

        let bytes = try CheckpointCodec.encode(checkpoint)
        #expect(bytes.count < 40_000_000, "file \(bytes.count / 1_000_000) MB")
        let loaded = try CheckpointCodec.decode(bytes, location: "big.ckpt")
        #expect(loaded.trackedObjectCount == Self.count)
        var misses = 0
        for i in stride(from: 0, to: Self.count, by: 1) {
            let object = Self.firehoseObject(i)
            if case .ingested = loaded.status(of: object, hour: 494_000 + Int32(i / 20_000)) { continue }
            misses += 1
        }
        #expect(misses == 0)
        #expect(loaded.status(of: Self.firehoseObject(Self.count), hour: 494_049) == .new)
    }
}
