import Foundation
import IcebergCore

/// What kind of snapshot a pass commits.
enum SnapshotKind: Equatable {
    /// New objects' rows added to the table, in batches.
    case append
    /// Objects read again under an evolved schema: their new data files replace `replacing`, in one commit.
    case overwrite(replacing: [String])

    var replacedFiles: [String]? {
        if case .overwrite(let files) = self { return files }
        return nil
    }
}

/// How a pass reads and commits: a run appends new objects in batches; a reprocessing reads objects again
/// under an evolved schema and replaces their data files in one overwrite commit.
struct Pass {
    var now: Date
    /// The configuration the objects are parsed with (a reprocessing parses with `add-columns`).
    var configuration: IngestConfiguration
    /// Schema changes committed with the first commit (a reprocessing's evolution).
    var schemaUpdate: SchemaUpdate?
    var snapshot: SnapshotKind = .append
    /// Whether the pass's last commit closes the hours older than the late-arrival window (a run: yes; a
    /// backfill, which does not list the open window: no).
    var advancesWatermark = true
    /// With nothing to read, still commit (an empty snapshot carrying the checkpoint) so that the watermark
    /// advances: set by a run whose watermark would move by an hour or more (an idle source).
    var commitWhenIdle = false
}

/// An object read since the last commit, with what its parse found.
struct PendingObject {
    let object: SourceObject
    /// Its number in the pass (the spooled files record which numbers they hold).
    let index: Int
    var report: ObjectReport
}

/// A batch ready to commit: its objects, the pipeline holding their rows, and the schema changes they need.
struct PendingBatch {
    var objects: [PendingObject]
    let pipeline: EncodingPipeline
    let evolution: SchemaEvolution
    /// The pass's last batch (an append that closes the run advances the watermark).
    let isLast: Bool
}

/// Reads a pass's objects in order and cuts them into batches at the commit thresholds. It owns the
/// writers and the schema the rows are written under: when an object shows fields the schema lacks under
/// `add-columns`, the schema evolves and the batch so far is read again under it (the rewind), so that
/// every row of a commit has the schema that commit declares. A damaged object (``DamagedObject``) under
/// the bad-record policies `skip` and `dead-letter` starts the batch over the same way, with that object
/// left out whole: its rows parsed before the damage showed are thrown away with the batch's pipeline.
///
/// Not Sendable state of its own beyond the run's task; file system work goes through the blocking executor.
struct PassReader {
    let ingestor: Ingestor
    let objects: [SourceObject]
    let pass: Pass
    /// Renewed between objects when due (see ``LeaseKeeper/renewIfDue()``).
    let lease: LeaseKeeper
    let spec: PartitionSpec
    let spool: String
    private let writerOptions: PartitionedDataWriter.Options
    private let commitEveryObjects: Int
    private let commitEveryBytes: Int64
    private(set) var evolution: SchemaEvolution
    private var layout: ColumnLayout
    private(set) var pipeline: EncodingPipeline
    /// The last full batch's room, for the next objects' first batches.
    private let batchRoom = BatchRoom()
    private var reader: PrefetchingReader
    private var index = 0
    /// Objects being read and parsed ahead of `index`, in order (at most ``IngestConfiguration/threads``):
    /// every one of them writes into the current pipeline, so a batch is cut only when none is in flight.
    private var inFlight: [InFlight] = []
    /// The next object to start (`index` plus those in flight).
    private var launched = 0
    private let threads: Int

    /// An object being parsed on the blocking executor, and its size.
    struct InFlight {
        let size: Int64
        let task: Task<(ObjectParser, Double), any Error>
    }
    private var idleCommitted = false
    /// Objects of this pass found damaged, by index, with the error: left out whole when their turn comes again.
    private var damaged: [Int: IngestError] = [:]
    /// The last damaged object found: no object past it is started, and the batch is cut right after it.
    private var cutAfter: Int?
    private var pending: [PendingObject] = []
    private var pendingBytes: Int64 = 0
    /// Bytes of the objects read so far (a rewind takes them back).
    private(set) var bytesDone: Int64 = 0
    let bytesTotal: Int64
    /// Encoding time of pipelines thrown away by a rewind.
    private(set) var discardedEncodeSeconds = 0.0

    init(ingestor: Ingestor, objects: [SourceObject], table: Table, pass: Pass, lease: LeaseKeeper, spool: String) throws {
        self.ingestor = ingestor
        self.lease = lease
        self.objects = objects
        self.pass = pass
        self.spool = spool
        let configuration = pass.configuration
        spec = table.metadata.defaultSpec
        var options = PartitionedDataWriter.Options()
        options.targetFileSizeBytes = configuration.targetFileSizeBytes
        options.parquet.zstdLevel = configuration.zstdLevel
        writerOptions = options
        let isAppend = pass.snapshot == .append
        commitEveryObjects = isAppend ? configuration.commitEveryObjects : Int.max
        commitEveryBytes = isAppend ? configuration.commitEveryBytes : Int64.max
        threads = max(1, configuration.threads)
        // Schema changes decided by this pass (add-columns, an evolution) ride in the next commit.
        evolution = SchemaEvolution(base: table.metadata)
        if let update = pass.schemaUpdate { try evolution.apply(update) }
        layout = try ColumnLayout(schema: evolution.schema)
        pipeline = try Self.pipeline(layout: layout, spec: spec, options: options, spool: spool)
        reader = PrefetchingReader(source: ingestor.source, objects: objects, configuration: configuration, warmup: threads)
        bytesTotal = objects.reduce(0) { $0 + $1.size }
    }

    /// A reader of the objects from `index` on, but for those found damaged (never read again).
    private func reader(from index: Int) -> PrefetchingReader {
        let rest = objects.indices[index...].filter { damaged[$0] == nil }.map { objects[$0] }
        return PrefetchingReader(source: ingestor.source, objects: rest, configuration: pass.configuration, warmup: threads)
    }

    private static func pipeline(layout: ColumnLayout, spec: PartitionSpec, options: PartitionedDataWriter.Options, spool: String) throws -> EncodingPipeline {
        EncodingPipeline(writer: PartitionedDataWriter(
            layout: layout, router: try PartitionRouter(spec: spec, layout: layout), options: options, spoolDirectory: spool))
    }

    var objectsDone: Int { index }
    /// Whether a stop request ended the pass before every object was read.
    private(set) var stopped = false
    /// Rows and bad records of the objects read since the last commit.
    var pendingRows: Int { pending.reduce(0) { $0 + $1.report.counts.rows } }
    var pendingBadRecords: Int { pending.reduce(0) { $0 + $1.report.counts.badRecords } }

    /// Reads objects until a commit threshold or the end; nil when every object has been committed.
    /// `onObject` is called after each object is read.
    mutating func nextBatch(onObject: (PassReader) -> Void) async throws -> PendingBatch? {
        if objects.isEmpty, pass.commitWhenIdle, !idleCommitted {
            idleCommitted = true
            return PendingBatch(objects: [], pipeline: pipeline, evolution: evolution, isLast: true)
        }
        while index < objects.count {
            // A stop request (SIGTERM) ends an append pass between objects: what was read is committed as one
            // more batch, the rest is left for the next run. (An overwrite, `evolve`, replaces files in one
            // commit and goes on to its end.) A cancelled task stops without committing.
            if ingestor.stop.isRequested, pass.snapshot == .append, inFlight.isEmpty {
                stopped = true
                guard !pending.isEmpty else { return nil }
                let batch = PendingBatch(objects: pending, pipeline: pipeline, evolution: evolution, isLast: false)
                pending = []
                pendingBytes = 0
                return batch
            }
            try Task.checkCancellation()
            try await lease.renewIfDue()
            try await launchParses()
            let parser: ObjectParser, readSeconds: Double
            do {
                (parser, readSeconds) = try await nextParsed()
            } catch let damage as DamagedObject {
                try await leaveOut(damage.error)
                continue
            }
            // add-columns: fields the schema lacks evolve it, and the batch is read again under it.
            if pass.configuration.driftPolicy == .addColumns,
                let update = try evolution.update(samples: parser.samples, widenings: parser.widenings)
            {
                try await rewind(applying: update)
                continue
            }
            // Records held back for a widening that did not come are bad after all.
            try await BlockingExecutor.run { try parser.applyDeferred() }
            let object = objects[index]
            pending.append(PendingObject(object: object, index: index, report: parser.finalReport(readSeconds: readSeconds)))
            pendingBytes += object.size
            bytesDone += object.size
            index += 1
            onObject(self)
            let isLast = index == objects.count
            // Right after a damaged object the batch is cut (nothing past it was started): each object is read
            // again at most once however many damaged objects a batch holds.
            let afterDamage = cutAfter.map { index > $0 } ?? false
            if isLast || afterDamage || (inFlight.isEmpty && (pending.count >= commitEveryObjects || pendingBytes >= commitEveryBytes)) {
                cutAfter = nil
                let batch = PendingBatch(objects: pending, pipeline: pipeline, evolution: evolution, isLast: isLast)
                pending = []
                pendingBytes = 0
                return batch
            }
        }
        return nil
    }

    /// After a batch's commit: the next batch's schema changes start from the committed table.
    mutating func committed(_ table: Table) {
        evolution = SchemaEvolution(base: table.metadata)
    }

    /// Starts parsing the next objects, up to ``IngestConfiguration/threads`` at once, none past a commit
    /// threshold (their rows go into this batch's pipeline) and none once a stop is requested; always one
    /// when nothing is in flight, so that the pass moves.
    private mutating func launchParses() async throws {
        while launched < objects.count {
            if let cut = cutAfter, launched > cut { return }
            let inFlightBytes = inFlight.reduce(0) { $0 + $1.size }
            if !inFlight.isEmpty {
                guard inFlight.count < threads, !(ingestor.stop.isRequested && pass.snapshot == .append),
                    pending.count + inFlight.count < commitEveryObjects, pendingBytes + inFlightBytes < commitEveryBytes
                else { return }
            }
            let object = objects[launched]
            if let error = damaged[launched] {
                // Found damaged before the batch started over: not read again, recorded as left out.
                let parser = ObjectParser(object: object, sourceIndex: launched, layout: layout, configuration: pass.configuration, pipeline: pipeline)
                parser.leaveOut(error)
                inFlight.append(InFlight(size: 0, task: Task { () throws -> (ObjectParser, Double) in (parser, 0) }))
                launched += 1
                continue
            }
            // Objects are parsed one per thread; the last few of a pass (or of every commit, when commits
            // take fewer objects than threads) leave threads idle, so those may be parsed in parts.
            let fewLeft = objects.count - launched < threads || commitEveryObjects < threads
            let parser = ObjectParser(
                object: object, sourceIndex: launched, layout: layout, configuration: pass.configuration, pipeline: pipeline, mayParseInParts: fewLeft,
                room: batchRoom)
            let clock = ContinuousClock()
            let started = clock.now
            let allowance = reader.allowance
            let stream = try await reader.next()
            let firstWait = clock.now - started
            if reader.allowance > allowance {
                ingestor.logger.info(
                    "reading up to \(reader.allowance >> 20) MiB ahead: waited \(Int((firstWait.seconds * 1000).rounded())) ms for \(object.location), fetched ahead (the source delivers slower than the parse reads)",
                    metadata: ["object": "\(object.location)", "prefetch_bytes": "\(reader.allowance)"])
            }
            let reader = self.reader
            inFlight.append(InFlight(size: object.size, task: Task { try await Self.parse(stream, of: reader, into: parser, waited: firstWait) }))
            launched += 1
        }
    }

    /// The next object's parse, in order; on a failure the others in flight are stopped first (they write
    /// into the pipeline the caller then throws away).
    private mutating func nextParsed() async throws -> (ObjectParser, Double) {
        precondition(!inFlight.isEmpty, "launchParses starts an object whenever none is in flight")
        let next = inFlight.removeFirst()
        do {
            return try await next.task.value
        } catch {
            await stopInFlight()
            throw error
        }
    }

    /// Cancels the parses in flight and waits until none touches the pipeline any more.
    private mutating func stopInFlight() async {
        for parse in inFlight { parse.task.cancel() }
        for parse in inFlight { _ = try? await parse.task.value }
        inFlight = []
    }

    /// Reads one object's remaining chunks and parses them into the pipeline (decompression and parsing on
    /// the blocking executor); returns its parser and the seconds spent waiting for bytes.
    private static func parse(
        _ first: PrefetchingReader.Stream, of reader: PrefetchingReader, into parser: ObjectParser, waited firstWait: Duration
    ) async throws -> (ObjectParser, Double) {
        let clock = ContinuousClock()
        var waited = firstWait
        var stream = first
        do {
            while let chunk = stream.chunk {
                try Task.checkCancellation()
                try await BlockingExecutor.run { try parser.feed(chunk) }
                let waitStarted = clock.now
                stream = try await reader.nextChunk(of: stream)
                waited += clock.now - waitStarted
            }
        } catch {
            // Stopped (another object failed) or failed: the object's reads still in flight go unread.
            stream.cancel()
            throw error
        }
        try await BlockingExecutor.run { try parser.finish() }
        return (parser, waited.seconds)
    }

    /// Applies a schema change found while reading, and starts the batch over: the rows written so far are
    /// thrown away with their pipeline, and the objects since the last commit are read again.
    private mutating func rewind(applying update: SchemaUpdate) async throws {
        try await discardBatch()
        try evolution.apply(update)
        ingestor.logger.notice("schema evolves (add-columns): \(update.changes.joined(separator: "; ")); parsing \(pending.count + 1) objects again")
        layout = try ColumnLayout(schema: evolution.schema)
        try startBatchOver()
    }

    /// The object at `index` is damaged: under the bad-record policy `fail` the run stops with `error`;
    /// under `skip` and `dead-letter` the batch starts over with the object left out whole (the other objects
    /// since the last commit are read again; the damaged one's rows parsed so far go with the pipeline), and
    /// is cut right after it. A reprocessing (an overwrite) stops: it replaces its objects' rows in one
    /// commit, and leaving one out would drop rows the table has.
    private mutating func leaveOut(_ error: IngestError) async throws {
        let policy = pass.configuration.badRecordPolicy
        guard policy != .fail else {
            var error = error
            error.message += " (bad-record policy 'fail'; under 'skip' or 'dead-letter' a damaged object is left out whole and the run goes on)"
            throw error
        }
        guard pass.snapshot == .append else { throw error }
        let object = objects[index]
        damaged[index] = error
        cutAfter = index
        try await discardBatch()
        ingestor.logger.error(
            "\(object.location) is damaged, left out whole (bad-record policy '\(policy.rawValue)'): \(error.message); parsing the \(pending.count) objects read since the last commit again",
            metadata: ["object": "\(object.location)"])
        try startBatchOver()
    }

    /// Stops the parses in flight and the reads ahead, and throws away the rows written since the last commit.
    private mutating func discardBatch() async throws {
        await stopInFlight()
        reader.cancel()
        let old = pipeline
        discardedEncodeSeconds += try await BlockingExecutor.run {
            try? old.drain()
            old.writer.discard()
            return old.encodeSeconds
        }
    }

    /// A new pipeline under the current layout, and the objects since the last commit to read again.
    private mutating func startBatchOver() throws {
        pipeline = try Self.pipeline(layout: layout, spec: spec, options: writerOptions, spool: spool)
        index -= pending.count
        launched = index
        bytesDone -= pendingBytes
        pending = []
        pendingBytes = 0
        reader = reader(from: index)
    }

    /// Stops reading and throws away what was written since the last commit.
    mutating func abandon() async {
        try? await discardBatch()
    }
}
