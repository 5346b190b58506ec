import Foundation
import IcebergCore
import Testing

@testable import IcebergIngest

/// How far the reader fetches ahead: many small objects at once (an endpoint's latency per request
/// overlaps), few large ones (memory stays bounded), every byte in order either way.
@Suite struct PrefetchingReaderTests {
    /// The bytes of `object` in `range`: each byte tells its object and its offset, so that a chunk out of
    /// order or from the wrong object shows.
    static func bytes(of object: SourceObject, _ range: Range<Int64>) -> [UInt8] {
        let key = Int64(object.key)!
        return range.map { UInt8(truncatingIfNeeded: (key &* 7 &+ $0) % 251) }
    }

    /// A source whose reads each wait until `target` reads have run at once (or a deadline passes), then
    /// `delay` more, counting the most that ran at once. Bytes tell their object and offset (``bytes(of:_:)``), so order can be checked.
    final class CountingSource: IngestSource, @unchecked Sendable {
        let identity = "test://counting"
        let layout = PrefixLayout.firehose
        let target: Int
        let holdSeconds: Double
        let delay: Duration
        let lock = NSCondition()
        var running = 0
        var most = 0

        init(target: Int, holdSeconds: Double, delay: Duration = .zero) {
            self.target = target
            self.holdSeconds = holdSeconds
            self.delay = delay
        }

        func list(firstOpenHour: Int32?, now: Date) async throws -> SourceListing {
            SourceListing(objects: [], listedPrefixes: [], unmatchedKeys: [])
        }

        func read(_ object: SourceObject, range: Range<Int64>) async throws -> [UInt8] {
            lock.withLock {
                running += 1
                most = max(most, running)
                lock.broadcast()
            }
            let deadline = ContinuousClock.now + .seconds(holdSeconds)
            while lock.withLock({ most < target }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
            if delay > .zero { try await Task.sleep(for: delay) }
            lock.withLock { running -= 1 }
            return PrefetchingReaderTests.bytes(of: object, range)
        }
    }

    static func objects(_ count: Int, size: Int64) -> [SourceObject] {
        (0..<count).map {
            SourceObject(key: "\($0)", location: "test://\($0)", size: size, etag: "e", lastModifiedMillis: 0, hour: 0, partitionPrefix: "")
        }
    }

    /// Reads every object through the reader as a pass does, checking each object's bytes.
    static func readAll(_ reader: inout PrefetchingReader, objects: [SourceObject]) async throws {
        for object in objects {
            var stream = try await reader.next()
            #expect(stream.object == object)
            var bytes = 0
            while let chunk = stream.chunk {
                // Compared first: a failed expectation would print both arrays, megabytes each.
                let inOrder = chunk == Self.bytes(of: object, Int64(bytes)..<Int64(bytes + chunk.count))
                #expect(inOrder, "\(object.location): the chunk at byte \(bytes) holds other bytes")
                bytes += chunk.count
                stream = try await reader.nextChunk(of: stream)
            }
            #expect(Int64(bytes) == object.size)
        }
    }

    @Test func smallObjectsAreFetchedManyAtOnce() async throws {
        let objects = Self.objects(100, size: 1_000)
        let source = CountingSource(target: 32, holdSeconds: 5)
        var reader = PrefetchingReader(source: source, objects: objects, chunkBytes: 8 << 20, depth: 32, budget: 16 << 20)
        try await Self.readAll(&reader, objects: objects)
        // Each read waits until 32 run at once: the first 32 are fetched together, never more.
        #expect(source.most == 32)
    }

    @Test func largeObjectsKeepTheByteBudget() async throws {
        let chunk = 1 << 20
        let objects = Self.objects(6, size: Int64(chunk))
        let source = CountingSource(target: .max, holdSeconds: 0.02)
        var reader = PrefetchingReader(source: source, objects: objects, chunkBytes: chunk, depth: 32, budget: 2 << 20)
        try await Self.readAll(&reader, objects: objects)
        #expect(source.most <= 2)
    }

    /// With the default settings and a source that keeps up, two Firehose-sized objects (14.7 MB, one read
    /// each) are fetched ahead: each of two parses finds its next object already fetched. (No first objects
    /// here: their ramps are tested on their own below.)
    @Test func twoFirehoseObjectsAreFetchedAheadWhileTheSourceKeepsUp() async throws {
        let objects = Self.objects(6, size: 14_700_000)
        let source = CountingSource(target: 2, holdSeconds: 1)
        let configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.events"), schema: try SchemaText.schema("id long"))
        var reader = PrefetchingReader(
            source: source, objects: objects, chunkBytes: configuration.readChunkBytes, depth: configuration.prefetchObjects,
            budget: configuration.prefetchBytes, warmup: 0, starvedAfter: .seconds(30))
        try await Self.readAll(&reader, objects: objects)
        #expect(source.most == 2)
        #expect(reader.allowance == PrefetchingReader.startingAllowance)
    }

    /// Once a parse has waited for an object fetched ahead (here each read takes 300 ms), the reader fetches
    /// up to the whole budget ahead at once (nine Firehose objects in 128 MiB), never more: S3 gives one
    /// connection some 100 MB/s, several times less than two threads parse.
    @Test func aSourceThatFallsBehindGetsTheWholeBudgetAhead() async throws {
        let objects = Self.objects(14, size: 14_700_000)
        let source = CountingSource(target: .max, holdSeconds: 0, delay: .milliseconds(300))
        let configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.events"), schema: try SchemaText.schema("id long"))
        var reader = PrefetchingReader(source: source, objects: objects, configuration: configuration, warmup: 2)
        try await Self.readAll(&reader, objects: objects)
        #expect(reader.allowance == configuration.prefetchBytes)
        #expect(source.most > 2)
        #expect(source.most <= 9)
    }

    /// A source that records the ranges asked of it, per object.
    final class RangeRecordingSource: IngestSource, @unchecked Sendable {
        let identity = "test://ranges"
        let layout = PrefixLayout.firehose
        let lock = NSLock()
        var ranges: [String: [Range<Int64>]] = [:]

        func list(firstOpenHour: Int32?, now: Date) async throws -> SourceListing {
            SourceListing(objects: [], listedPrefixes: [], unmatchedKeys: [])
        }

        func read(_ object: SourceObject, range: Range<Int64>) async throws -> [UInt8] {
            lock.withLock { ranges[object.key, default: []].append(range) }
            return PrefetchingReaderTests.bytes(of: object, range)
        }
    }

    @Test func anObjectOfUpToTwoChunksIsOneRequestAndALargerOnesLastReadTakesTheRest() async throws {
        let chunk = 1_024
        let sizes: [Int64] = [1, 1_023, 1_024, 1_536, 2_048, 2_049, 5_632, 10_240]
        let objects = sizes.enumerated().map { index, size in
            SourceObject(key: "\(index)", location: "test://\(index)", size: size, etag: "e", lastModifiedMillis: 0, hour: 0, partitionPrefix: "")
        }
        let source = RangeRecordingSource()
        var reader = PrefetchingReader(source: source, objects: objects, chunkBytes: chunk, depth: 4, budget: 4_096)
        try await Self.readAll(&reader, objects: objects)
        func reads(_ index: Int) -> [Range<Int64>] { source.lock.withLock { source.ranges["\(index)"] ?? [] } }
        #expect(reads(0) == [0..<1])
        #expect(reads(1) == [0..<1_023])
        #expect(reads(2) == [0..<1_024])
        #expect(reads(3) == [0..<1_536])
        #expect(reads(4) == [0..<2_048])
        // Past two chunks: a chunk, then the rest (1,025 bytes) in one.
        #expect(reads(5) == [0..<1_024, 1_024..<2_049])
        // 5.5 chunks: four chunks, then the last 1.5 in one read; never a read over two chunks.
        #expect(reads(6) == [0..<1_024, 1_024..<2_048, 2_048..<3_072, 3_072..<4_096, 4_096..<5_632])
        #expect(reads(7) == [0..<1_024, 1_024..<2_048, 2_048..<3_072, 3_072..<4_096, 4_096..<5_120, 5_120..<6_144, 6_144..<7_168, 7_168..<8_192, 8_192..<10_240])
    }

    @Test func aRampDoublesItsPiecesAndTheLastTakesTheRest() {
        let mib: Int64 = 1 << 20
        #expect(PrefetchingReader.ramp(upTo: 14_700_000) == [mib, 3 * mib, 7 * mib, 14_700_000])
        #expect(PrefetchingReader.ramp(upTo: 2 * mib) == [2 * mib])
        #expect(PrefetchingReader.ramp(upTo: 2 * mib + 1) == [mib, 2 * mib + 1])
        #expect(PrefetchingReader.ramp(upTo: 16 * mib) == [mib, 3 * mib, 7 * mib, 16 * mib])
        #expect(PrefetchingReader.ramp(upTo: 15 * mib + 1) == [mib, 3 * mib, 7 * mib, 15 * mib + 1])
    }

    /// The first objects of a pass (one per thread) are asked for as ramps, every piece at once; the
    /// objects after them as before, and every byte arrives in order.
    @Test func theFirstObjectsAreAskedForAsRampsAllAtOnce() async throws {
        let mib: Int64 = 1 << 20
        let objects =
            Self.objects(4, size: 14_700_000) + [SourceObject(key: "4", location: "test://4", size: 3 * mib, etag: "e", lastModifiedMillis: 0, hour: 0, partitionPrefix: "")]
        let ranges = RangeRecordingSource()
        var reader = PrefetchingReader(source: ranges, objects: objects, chunkBytes: 8 << 20, depth: 32, budget: 128 << 20, warmup: 2)
        try await Self.readAll(&reader, objects: objects)
        // In the order of where they start: a ramp's pieces are asked at once, so they reach the source in any order.
        func reads(_ index: Int) -> [Range<Int64>] {
            ranges.lock.withLock { (ranges.ranges["\(index)"] ?? []).sorted { $0.lowerBound < $1.lowerBound } }
        }
        let ramp: [Range<Int64>] = [0..<mib, mib..<3 * mib, 3 * mib..<7 * mib, 7 * mib..<14_700_000]
        #expect(reads(0) == ramp)
        #expect(reads(1) == ramp)
        #expect(reads(2) == [0..<14_700_000])
        #expect(reads(3) == [0..<14_700_000])
        #expect(reads(4) == [0..<3 * mib])

        // All eight pieces of the two ramps are asked at once: each read here waits until eight run together.
        let counting = CountingSource(target: 8, holdSeconds: 5)
        var first = PrefetchingReader(source: counting, objects: Array(objects.prefix(2)), chunkBytes: 8 << 20, depth: 32, budget: 128 << 20, warmup: 2)
        try await Self.readAll(&first, objects: Array(objects.prefix(2)))
        #expect(counting.most == 8)
    }

    /// A source that answers one range of object 0 short, as S3 does for an object replaced by a smaller one.
    final class ShrunkSource: IngestSource, @unchecked Sendable {
        let identity = "test://shrunk"
        let layout = PrefixLayout.firehose
        let shortAt: Int64

        init(shortAt: Int64) { self.shortAt = shortAt }

        func list(firstOpenHour: Int32?, now: Date) async throws -> SourceListing {
            SourceListing(objects: [], listedPrefixes: [], unmatchedKeys: [])
        }

        func read(_ object: SourceObject, range: Range<Int64>) async throws -> [UInt8] {
            [UInt8](repeating: 0, count: Int(range.count) - (range.lowerBound == shortAt ? 100 : 0))
        }
    }

    /// A piece of a ramp that comes back short fails the object, naming it and where, whichever piece it is.
    @Test func aShortPieceOfARampIsAChangedObject() async throws {
        let mib: Int64 = 1 << 20
        let objects = Self.objects(1, size: 14_700_000)
        for start in [0, mib, 3 * mib, 7 * mib] {
            var reader = PrefetchingReader(source: ShrunkSource(shortAt: start), objects: objects, chunkBytes: 8 << 20, depth: 32, budget: 128 << 20, warmup: 1)
            do {
                var stream = try await reader.next()
                while stream.chunk != nil { stream = try await reader.nextChunk(of: stream) }
                Issue.record("a piece at byte \(start) came back short and the object was read to its end")
            } catch let error as IngestError {
                let expected = Int(start == 7 * mib ? 14_700_000 - start : max(mib, start + mib))
                #expect(error.code == .inputChanged)
                #expect(error.message.contains("test://0: read \(expected - 100) bytes at byte \(start), expected \(expected)"), "\(error.message)")
            }
        }
    }

    /// A source that fails the read starting at `failAt`, answers those starting below `answerBelow`, and
    /// holds every other read until it is cancelled (or a minute passes), counting the cancelled ones.
    final class StallingSource: IngestSource, @unchecked Sendable {
        let identity = "test://stalling"
        let layout = PrefixLayout.firehose
        let failAt: Int64?
        let answerBelow: Int64
        let lock = NSLock()
        var cancelled = 0

        init(failAt: Int64?, answerBelow: Int64) {
            self.failAt = failAt
            self.answerBelow = answerBelow
        }

        func list(firstOpenHour: Int32?, now: Date) async throws -> SourceListing {
            SourceListing(objects: [], listedPrefixes: [], unmatchedKeys: [])
        }

        func read(_ object: SourceObject, range: Range<Int64>) async throws -> [UInt8] {
            if range.lowerBound == failAt { throw IngestError(.inputChanged, "\(object.location): refused at byte \(range.lowerBound)") }
            if range.lowerBound < answerBelow { return PrefetchingReaderTests.bytes(of: object, range) }
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                lock.withLock { cancelled += 1 }
                throw error
            }
            return PrefetchingReaderTests.bytes(of: object, range)
        }

        /// Waits (up to 10 s) until `count` reads were cancelled; returns how many were.
        func cancelled(awaiting count: Int) async -> Int {
            let deadline = ContinuousClock.now + .seconds(10)
            while lock.withLock({ cancelled }) < count, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
            return lock.withLock { cancelled }
        }
    }

    /// When a piece of a ramp fails, or the object's parse stops, the pieces still in flight are cancelled,
    /// not left downloading bytes nobody takes (up to 13.7 MB each for a Firehose object).
    @Test func theRestOfARampIsCancelledWhenItsObjectFailsOrStops() async throws {
        let mib: Int64 = 1 << 20
        let objects = Self.objects(1, size: 14_700_000)
        func reader(_ source: StallingSource) -> PrefetchingReader {
            PrefetchingReader(source: source, objects: objects, chunkBytes: 8 << 20, depth: 32, budget: 128 << 20, warmup: 1)
        }

        // The first piece fails: the three after it are cancelled.
        let first = StallingSource(failAt: 0, answerBelow: 0)
        var failing = reader(first)
        await #expect(throws: IngestError.self) { _ = try await failing.next() }
        #expect(await first.cancelled(awaiting: 3) == 3)

        // The second piece fails while the first is parsed: the two after it are cancelled.
        let second = StallingSource(failAt: mib, answerBelow: mib)
        var later = reader(second)
        let stream = try await later.next()
        #expect(stream.chunk?.count == Int(mib))
        await #expect(throws: IngestError.self) { _ = try await later.nextChunk(of: stream) }
        #expect(await second.cancelled(awaiting: 2) == 2)

        // The parse stops after the first piece (another object failed): the stream's cancel stops the rest.
        let stopped = StallingSource(failAt: nil, answerBelow: mib)
        var abandoned = reader(stopped)
        try await abandoned.next().cancel()
        #expect(await stopped.cancelled(awaiting: 3) == 3)
    }

    @Test func oneObjectLargerThanTheBudgetIsStillRead() async throws {
        let objects = Self.objects(3, size: 3_000)
        let source = CountingSource(target: .max, holdSeconds: 0)
        var reader = PrefetchingReader(source: source, objects: objects, chunkBytes: 1_024, depth: 32, budget: 100)
        try await Self.readAll(&reader, objects: objects)
        #expect(source.most >= 1)
    }
}
