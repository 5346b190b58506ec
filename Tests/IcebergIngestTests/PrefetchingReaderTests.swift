import Foundation
import Testing

@testable import IcebergIngest

/// How far the reader fetches ahead: many small objects at once (an endpoint's latency per request
/// overlaps), few large ones (memory stays bounded), every byte in order either way.
@Suite struct PrefetchingReaderTests {
    /// A source whose reads each wait until `target` reads have run at once (or a deadline passes), counting the
    /// most that ran at once. Bytes are the object's number, so order can be checked.
    final class CountingSource: IngestSource, @unchecked Sendable {
        let identity = "test://counting"
        let layout = PrefixLayout.firehose
        let target: Int
        let holdSeconds: Double
        let lock = NSCondition()
        var running = 0
        var most = 0

        init(target: Int, holdSeconds: Double) {
            self.target = target
            self.holdSeconds = holdSeconds
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
            lock.withLock { running -= 1 }
            return [UInt8](repeating: UInt8(Int(object.key)! % 256), count: Int(range.count))
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
                #expect(chunk.allSatisfy { $0 == UInt8(Int(object.key)! % 256) })
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

    @Test func oneObjectLargerThanTheBudgetIsStillRead() async throws {
        let objects = Self.objects(3, size: 3_000)
        let source = CountingSource(target: .max, holdSeconds: 0)
        var reader = PrefetchingReader(source: source, objects: objects, chunkBytes: 1_024, depth: 32, budget: 100)
        try await Self.readAll(&reader, objects: objects)
        #expect(source.most >= 1)
    }
}
