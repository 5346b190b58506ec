/// Reads input objects in chunks, keeping the next chunks (of this object and the next ones) in flight
/// while the current one is parsed. A chunk is `chunkBytes`, or the rest of the object when that is at most
/// twice as much (``readEnd(of:from:chunkBytes:)``).
///
/// The next objects' first chunks are fetched ahead: at least one, at most `depth`, and past the first
/// only while their bytes together stay within `budget`. Large objects (a chunk each) keep few requests in
/// flight, small ones many: an endpoint's latency per request (tens of milliseconds on S3) is paid once per
/// batch of small objects, not once per object, and memory stays bounded either way.
struct PrefetchingReader {
    let source: any IngestSource
    let objects: [SourceObject]
    let chunkBytes: Int
    let depth: Int
    let budget: Int64
    private var started = 0
    private var firstChunks: [Task<[UInt8], any Error>] = []
    /// Bytes of the first chunks in `firstChunks` (expected sizes).
    private var bytesAhead: Int64 = 0

    /// One object's position in its chunks.
    struct Stream {
        let object: SourceObject
        var chunk: [UInt8]?
        var offset: Int64
        var ahead: Task<[UInt8], any Error>?
    }

    init(source: any IngestSource, objects: [SourceObject], chunkBytes: Int, depth: Int, budget: Int64) {
        self.source = source
        self.objects = objects
        self.chunkBytes = chunkBytes
        self.depth = max(1, depth)
        self.budget = budget
    }

    /// A reader with the run's read chunk and prefetch limits (``IngestConfiguration/readChunkBytes``,
    /// ``IngestConfiguration/prefetchObjects``, ``IngestConfiguration/prefetchBytes``).
    init(source: any IngestSource, objects: [SourceObject], configuration: IngestConfiguration) {
        self.init(
            source: source, objects: objects, chunkBytes: configuration.readChunkBytes, depth: configuration.prefetchObjects,
            budget: configuration.prefetchBytes)
    }

    /// Where a read from `offset` ends: a chunk further on, or the object's end when that is at most two
    /// chunks away. An object of up to two chunks (a 14 MiB Firehose object with 8 MiB chunks) is one request
    /// instead of two, and a larger one's last read takes the rest: fewer requests per object, no read over
    /// two chunks.
    static func readEnd(of object: SourceObject, from offset: Int64, chunkBytes: Int) -> Int64 {
        let chunk = Int64(chunkBytes)
        return object.size - offset <= 2 * chunk ? object.size : offset + chunk
    }

    private func firstChunkSize(_ object: SourceObject) -> Int64 { Self.readEnd(of: object, from: 0, chunkBytes: chunkBytes) }

    /// Starts fetching the next objects' first chunks while `depth` and `budget` allow (always one when none is ahead).
    private mutating func fill() {
        while started < objects.count, firstChunks.count < depth {
            let size = firstChunkSize(objects[started])
            guard firstChunks.isEmpty || bytesAhead + size <= budget else { return }
            firstChunks.append(fetch(objects[started], from: 0) ?? Task { [] })
            bytesAhead += size
            started += 1
        }
    }

    private func fetch(_ object: SourceObject, from offset: Int64) -> Task<[UInt8], any Error>? {
        guard offset < object.size else { return nil }
        let end = Self.readEnd(of: object, from: offset, chunkBytes: chunkBytes)
        let source = self.source
        return Task { try await source.read(object, range: offset..<end) }
    }

    /// The next object's first chunk (the object at the same index as the caller's loop).
    mutating func next() async throws -> Stream {
        fill()
        let index = started - firstChunks.count
        let object = objects[index]
        let first = try await firstChunks.removeFirst().value
        bytesAhead -= firstChunkSize(object)
        // Keep the pipeline full.
        fill()
        var stream = Stream(object: object, chunk: object.size == 0 ? nil : first, offset: Int64(first.count), ahead: nil)
        stream.ahead = fetch(object, from: stream.offset)
        if !first.isEmpty, Int64(first.count) < firstChunkSize(object) {
            throw IngestError(.inputChanged, "\(object.location): read \(first.count) bytes, expected \(firstChunkSize(object)) (changed while reading?)", isRetryable: true)
        }
        return stream
    }

    /// The stream's next chunk (nil at the end).
    func nextChunk(of stream: Stream) async throws -> Stream {
        var out = stream
        guard let ahead = stream.ahead else {
            out.chunk = nil
            return out
        }
        let bytes = try await ahead.value
        guard !bytes.isEmpty else {
            throw IngestError(.inputChanged, "\(stream.object.location): ended at byte \(stream.offset), listed with \(stream.object.size) bytes (changed while reading?)", isRetryable: true)
        }
        out.chunk = bytes
        out.offset += Int64(bytes.count)
        out.ahead = fetch(stream.object, from: out.offset)
        return out
    }

    /// Cancels reads still in flight.
    func cancel() { for task in firstChunks { task.cancel() } }
}
