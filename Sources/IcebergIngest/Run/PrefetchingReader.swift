/// Reads input objects in chunks, keeping the next chunks (of this object and the next ones) in flight
/// while the current one is parsed. A chunk is `chunkBytes`, or the rest of the object when that is at most
/// twice as much (``readEnd(of:from:chunkBytes:)``).
///
/// The next objects' first chunks are fetched ahead: at least one, at most `depth`, and past the first
/// only while their bytes together stay within the allowance. Large objects (a chunk each) keep few requests
/// in flight, small ones many: an endpoint's latency per request (tens of milliseconds on S3) is paid once
/// per batch of small objects, not once per object, and memory stays bounded either way.
///
/// The allowance starts at ``startingAllowance`` (or `budget`, if less) and becomes `budget` once the
/// caller has waited longer than `starvedAfter` for an object whose first chunk was fetched ahead: the
/// source delivers slower than the parses read, and more requests at once are what keeps them busy (S3
/// gives each connection some 100 MB/s, several times less than two threads parse). A source that keeps up
/// never grows it: memory stays at the starting allowance, and a server on the same cores is not asked for
/// more at once than it can serve. The first `warmup` objects (requested together when a pass starts,
/// with nothing to overlap them) never count.
///
/// Those first objects are also the only ones whose parses would wait for a whole first read (14.7 MB for a
/// Firehose object: some 150 ms at S3's 100 MB/s per connection, some 40 ms from the local test server)
/// with nothing else to do. Their first read is asked as a ramp of ranges, all at once: 1 MiB, then 2, 4 and
/// so on, the last taking the rest (``ramp(upTo:)``). A parse starts once the first MiB is here, and each
/// later piece, twice the one before, arrives while that one is parsed. The bytes in flight are those of
/// the first read, as before; each piece must come back whole, or the object changed while it was read.
struct PrefetchingReader {
    let source: any IngestSource
    let objects: [SourceObject]
    let chunkBytes: Int
    let depth: Int
    let budget: Int64
    let warmup: Int
    let starvedAfter: Duration
    /// The bytes of first chunks that may be ahead now (see the type's documentation).
    private(set) var allowance: Int64
    private var started = 0
    private var firstChunks: [Ahead] = []
    /// Bytes of the first chunks in `firstChunks` (expected sizes).
    private var bytesAhead: Int64 = 0
    /// Calls of ``next()`` so far: a first chunk started during an earlier call was fetched ahead.
    private var calls = 0

    /// Where the allowance starts: two objects of up to two default read chunks (a 14.7 MB Firehose object
    /// is one), so that each of two parses finds its next object already here.
    static let startingAllowance: Int64 = 32 << 20
    /// A wait for a chunk fetched ahead longer than this is the source falling behind, not a hiccup.
    static let defaultStarvedAfter = Duration.milliseconds(20)

    /// A first chunk in flight and the call of ``next()`` that started it; for one of the first objects,
    /// the later pieces of its ramp, in flight too.
    private struct Ahead {
        let task: Task<[UInt8], any Error>
        var rest: [Task<[UInt8], any Error>] = []
        let call: Int

        /// Cancels the first chunk and the rest of its ramp.
        func cancel() {
            task.cancel()
            for piece in rest { piece.cancel() }
        }
    }

    /// One object's position in its chunks.
    struct Stream {
        let object: SourceObject
        var chunk: [UInt8]?
        var offset: Int64
        var ahead: Task<[UInt8], any Error>?
        /// The pieces of a ramp after `ahead`, in order (already requested).
        var queued: [Task<[UInt8], any Error>] = []

        /// Cancels this object's reads still in flight (its parse stopped or failed: nobody will take them).
        func cancel() {
            ahead?.cancel()
            for piece in queued { piece.cancel() }
        }
    }

    /// The size of a ramp's first piece.
    static let rampStartBytes: Int64 = 1 << 20

    /// Where the pieces of a first read of `size` bytes end when it is asked as a ramp: 1 MiB, then each
    /// piece twice the one before while more than twice that is left, then the rest (1, 2, 4 and 7 MiB for
    /// a 14.7 MB Firehose object). A read of up to twice the first piece is one piece.
    static func ramp(upTo size: Int64) -> [Int64] {
        var ends: [Int64] = []
        var (position, piece) = (Int64(0), rampStartBytes)
        while size - position > 2 * piece {
            position += piece
            ends.append(position)
            piece *= 2
        }
        return ends + [size]
    }

    init(
        source: any IngestSource, objects: [SourceObject], chunkBytes: Int, depth: Int, budget: Int64, warmup: Int = 1,
        starvedAfter: Duration = defaultStarvedAfter
    ) {
        self.source = source
        self.objects = objects
        self.chunkBytes = chunkBytes
        self.depth = max(1, depth)
        self.budget = budget
        self.warmup = warmup
        self.starvedAfter = starvedAfter
        allowance = min(budget, Self.startingAllowance)
    }

    /// A reader with the run's read chunk and prefetch limits (``IngestConfiguration/readChunkBytes``,
    /// ``IngestConfiguration/prefetchObjects``, ``IngestConfiguration/prefetchBytes``); the first `warmup`
    /// objects (one per thread) start together.
    init(source: any IngestSource, objects: [SourceObject], configuration: IngestConfiguration, warmup: Int = 1) {
        self.init(
            source: source, objects: objects, chunkBytes: configuration.readChunkBytes, depth: configuration.prefetchObjects,
            budget: configuration.prefetchBytes, warmup: warmup)
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

    /// Starts fetching the next objects' first chunks while `depth` and the allowance allow (always one when
    /// none is ahead).
    private mutating func fill() {
        while started < objects.count, firstChunks.count < depth {
            let object = objects[started]
            let size = firstChunkSize(object)
            guard firstChunks.isEmpty || bytesAhead + size <= allowance else { return }
            if started < warmup, size > 2 * Self.rampStartBytes {
                // One of the first objects: its first read as a ramp of pieces, all asked at once.
                let ends = Self.ramp(upTo: size)
                let pieces = zip([0] + ends.dropLast(), ends).map { piece(object, $0..<$1) }
                firstChunks.append(Ahead(task: pieces[0], rest: Array(pieces.dropFirst()), call: calls))
            } else {
                firstChunks.append(Ahead(task: fetch(object, from: 0) ?? Task { [] }, call: calls))
            }
            bytesAhead += size
            started += 1
        }
    }

    /// A read of exactly `range` (a piece of a ramp: the pieces after it start where it ends).
    private func piece(_ object: SourceObject, _ range: Range<Int64>) -> Task<[UInt8], any Error> {
        let source = self.source
        return Task {
            let bytes = try await source.read(object, range: range)
            guard Int64(bytes.count) == range.count else {
                throw IngestError(
                    .inputChanged, "\(object.location): read \(bytes.count) bytes at byte \(range.lowerBound), expected \(range.count) (changed while reading?)",
                    isRetryable: true)
            }
            return bytes
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
        defer { calls += 1 }
        let index = started - firstChunks.count
        let object = objects[index]
        let ahead = firstChunks.removeFirst()
        let waitStarted = ContinuousClock.now
        let first: [UInt8]
        do {
            first = try await ahead.task.value
        } catch {
            // The object fails here: the later pieces of its ramp are of no use.
            ahead.cancel()
            throw error
        }
        if index >= warmup, ahead.call < calls, allowance < budget, ContinuousClock.now - waitStarted > starvedAfter {
            // Fetched ahead and still a long wait: the source is what the parses wait for, more reads at once.
            allowance = budget
        }
        bytesAhead -= firstChunkSize(object)
        // Keep the pipeline full.
        fill()
        if ahead.rest.isEmpty, !first.isEmpty, Int64(first.count) < firstChunkSize(object) {
            throw IngestError(.inputChanged, "\(object.location): read \(first.count) bytes, expected \(firstChunkSize(object)) (changed while reading?)", isRetryable: true)
        }
        var stream = Stream(object: object, chunk: object.size == 0 ? nil : first, offset: Int64(first.count), ahead: nil, queued: ahead.rest)
        startNextRead(&stream)
        return stream
    }

    /// The stream's next chunk (nil at the end).
    func nextChunk(of stream: Stream) async throws -> Stream {
        var out = stream
        guard let ahead = stream.ahead else {
            out.chunk = nil
            return out
        }
        let bytes: [UInt8]
        do {
            bytes = try await ahead.value
        } catch {
            stream.cancel()
            throw error
        }
        guard !bytes.isEmpty else {
            throw IngestError(.inputChanged, "\(stream.object.location): ended at byte \(stream.offset), listed with \(stream.object.size) bytes (changed while reading?)", isRetryable: true)
        }
        out.chunk = bytes
        out.offset += Int64(bytes.count)
        startNextRead(&out)
        return out
    }

    /// Puts the stream's next read in flight: the next piece of its ramp, already asked for, or a new read
    /// from its offset.
    private func startNextRead(_ stream: inout Stream) {
        stream.ahead = stream.queued.isEmpty ? fetch(stream.object, from: stream.offset) : stream.queued.removeFirst()
    }

    /// Cancels reads still in flight.
    func cancel() { for ahead in firstChunks { ahead.cancel() } }
}
