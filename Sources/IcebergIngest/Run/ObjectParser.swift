import Avro
import Codecs
import Foundation
import IcebergCore
import Parquet
import Synchronization

/// Turns one input object, fed in chunks as it is read, into rows in the writers: detects the compression
/// from the first bytes, decompresses, parses records with the format's ``RecordParser`` into a batch and
/// hands full batches to the encoding pipeline. Bad records go through the bad-record policy; what the
/// object showed ends up in its ``ObjectReport``.
///
/// Confined to the run's task (it moves between that task and the blocking executor, never used by two
/// threads at once), hence `@unchecked Sendable`.
final class ObjectParser: @unchecked Sendable {
    let object: SourceObject
    /// The object's number in the run: the data files record which numbers their rows came from.
    let sourceIndex: Int
    let configuration: IngestConfiguration
    let pipeline: EncodingPipeline
    private let layout: ColumnLayout
    private var decompressor: (any StreamingDecompressor)?
    /// A small gzip object, gathered to be inflated whole by libdeflate (``WholeGzip``) at its end.
    private var gzipBytes: [UInt8]?
    /// A plain JSON object large enough to be parsed in parts (``SplitParse``), gathered to its end.
    private var plainBytes: [UInt8]?
    /// Text held whole is parsed in parts on several threads when each part gets at least this much.
    static let splitMinimumPart = 2 << 20
    /// Inside a ZIP entry that is an archiver's metadata, not data: its bytes are dropped.
    private var skippingEntry = false
    /// Gzip objects up to this size are inflated whole when their text fits in ``wholeGzipOutput``.
    static let wholeGzipInput: Int64 = 8 << 20
    static let wholeGzipOutput = 32 << 20
    /// The text format's parser behind the bound on record size; nil for Parquet and Avro input, which are
    /// gathered whole (Parquet's footer is at the end; Avro's blocks are small), then read.
    private var records: RecordStream?
    private var wholeBytes: [UInt8]?
    private var wholeRows = 0
    /// Avro input's record reader, once the object is read.
    private var avro: AvroInput?
    private var batch: RecordBatch
    private(set) var compression: CompressionFormat?
    /// Line ends of the input: counted here for CSV and text; for JSON, whose parser counts the line ends it
    /// passes (its position), those of the ZIP entries already read.
    private var newlines = 0
    /// Whether the parser's position counts the current input's line ends (JSON), so that the text is not
    /// read one more time to count them here.
    private var parserCountsLines: Bool {
        if case .json = configuration.format { return true }
        return false
    }
    private var lastByte: UInt8?
    private var parseNanos: UInt64 = 0
    private var report = ObjectReport()
    /// Type mismatches and missing required fields, by kind and field.
    private var findings: [String: DriftFinding] = [:]
    /// Records whose values need a wider column, held back under `add-columns`: the table widens and the
    /// object is parsed again. If it does not (``applyDeferred()``), the bad-record policy applies to them.
    private var deferred: [BadRecord] = []

    /// Whether text held whole may be parsed in parts (the pass has fewer objects left than threads).
    let mayParseInParts: Bool
    /// The pass's last full batch's room, for this object's first batch and from this object's full ones.
    private let room: BatchRoom
    /// Text bytes parsed before the current batch began.
    private var batchStartBytes: Int64 = 0

    init(
        object: SourceObject, sourceIndex: Int, layout: ColumnLayout, configuration: IngestConfiguration, pipeline: EncodingPipeline,
        mayParseInParts: Bool = false, room: BatchRoom = BatchRoom()
    ) {
        self.mayParseInParts = mayParseInParts
        self.room = room
        self.object = object
        self.sourceIndex = sourceIndex
        self.layout = layout
        self.configuration = configuration
        self.pipeline = pipeline
        batch = RecordBatch(layout: layout, room: room.room(forObjectOf: object.size))
        if let parser = configuration.format.makeRecordParser(
            layout: layout, options: configuration.conversion, source: object.location, drift: configuration.driftPolicy)
        {
            records = RecordStream(parser: parser, maxRecordBytes: configuration.maxRecordBytes, source: object.location)
        } else {
            wholeBytes = []
        }
    }

    /// The current input's line ends the JSON parser has passed (0 for other formats, counted here).
    private var parsedLineEnds: Int { parserCountsLines ? (records.map { $0.parser.position.line - 1 } ?? 0) : 0 }

    /// What the parse found of schema drift (nil for Parquet input, which is matched column by column).
    private var drift: DriftTracker? { records?.parser.drift ?? avro?.drift }
    /// Sample values of fields the schema lacks (add-columns), and values that need wider types.
    var samples: [String: JSONValue] { drift?.samples ?? [:] }
    var widenings: [String: PrimitiveType] { drift?.widenings ?? [:] }

    /// Feeds the next bytes of the object as stored.
    func feed(_ chunk: [UInt8]) throws {
        report.bytesRead += Int64(chunk.count)
        if wholeBytes != nil {
            wholeBytes?.append(contentsOf: chunk)
            return
        }
        if gzipBytes != nil {
            gzipBytes?.append(contentsOf: chunk)
            return
        }
        if plainBytes != nil {
            plainBytes?.append(contentsOf: chunk)
            return
        }
        try decompressing {
            if decompressor == nil {
                let format = CompressionFormat.detect(prefix: Array(chunk.prefix(64)))
                compression = format
                if format == .gzip, object.size <= Self.wholeGzipInput {
                    gzipBytes = chunk
                    return
                }
                if format == .none, splitsText, object.size >= Int64(2 * Self.splitMinimumPart), object.size <= Int64(Self.wholeGzipOutput) {
                    if chunk.count >= Int(object.size) {
                        // The whole object in one read (the usual case up to 16 MiB): held as read, not copied.
                        plainBytes = chunk
                    } else {
                        var whole: [UInt8] = []
                        whole.reserveCapacity(Int(object.size))
                        whole += chunk
                        plainBytes = whole
                    }
                    return
                }
                decompressor = try format.makeDecompressor(source: object.location)
            }
            if let zip = decompressor as? ZipStream {
                try zip.feed(chunk[...], entry: zipEntry) { piece in try consume(piece, isFinal: false) }
            } else {
                try decompressor?.feed(chunk[...]) { piece in try consume(piece, isFinal: false) }
            }
        }
    }

    /// Ends the object: flushes the decompressor and the last (possibly unterminated) record.
    func finish() throws {
        if let bytes = wholeBytes {
            switch configuration.format {
            case .parquet(let register): try finishParquet(bytes, register: register)
            default: try finishAvro(bytes)
            }
            return
        }
        if let gathered = plainBytes {
            plainBytes = nil
            try consumeWhole(gathered)
        }
        if let gathered = gzipBytes {
            gzipBytes = nil
            if let text = WholeGzip.decompress(gathered, limit: Self.wholeGzipOutput) {
                try consumeWhole(text)
            } else {
                // Larger than thought, or damaged: the streaming inflate bounds memory and says what is wrong.
                try decompressing {
                    decompressor = try CompressionFormat.gzip.makeDecompressor(source: object.location)
                    try decompressor?.feed(gathered[...]) { piece in try consume(piece, isFinal: false) }
                }
            }
        }
        try decompressing {
            if let zip = decompressor as? ZipStream {
                try zip.finish(entry: zipEntry) { piece in try consume(piece, isFinal: false) }
            } else {
                try decompressor?.finish { piece in try consume(piece, isFinal: false) }
            }
        }
        try consume([][...], isFinal: true)
        try flushBatch()
    }

    /// A ZIP entry begins or ends: each entry is an input of its own (`<object>!<entry>` in messages, lines
    /// counted from its start, a CSV header of its own). An archiver's metadata entries (`__MACOSX/`, `._x`)
    /// are skipped.
    private func zipEntry(_ event: ZipStream.EntryEvent) throws {
        switch event {
        case .begin(let name):
            skippingEntry = ZipStream.isMetadataEntry(name)
            records?.startInput(source: "\(object.location)!\(name)")
        case .end:
            if skippingEntry {
                skippingEntry = false
                return
            }
            try consume([][...], isFinal: true)
            newlines += parsedLineEnds
            if let lastByte, lastByte != 0x0a { newlines += 1 }
            lastByte = nil
        }
    }

    /// Applies the bad-record policy to the records held back for a widening that did not happen.
    func applyDeferred() throws {
        let held = deferred
        deferred = []
        for bad in held { try settle(bad) }
    }

    /// What the object showed, with the seconds spent waiting for its bytes.
    func finalReport(readSeconds: Double) -> ObjectReport {
        var out = report
        out.readSeconds = readSeconds
        out.parseSeconds = Double(parseNanos) / 1e9
        if let records = records?.parser {
            out.counts = records.counts
            // After the last ZIP entry `lastByte` is nil and the entries' line ends are in `newlines`.
            out.counts.lines = newlines + (lastByte != nil ? parsedLineEnds + (lastByte != 0x0a ? 1 : 0) : 0)
        } else if let avro {
            out.counts = avro.counts
            out.counts.lines = avro.counts.rows + avro.counts.badRecords
        } else {
            out.counts.rows = wholeRows
        }
        if let drift {
            out.samples = drift.samples
            out.widenings = drift.widenings
            out.unknownFields = drift.unknownFields
            out.drift = findings.values.sorted { ($0.kind.rawValue, $0.field) < ($1.kind.rawValue, $1.field) } + drift.newFieldFindings
        }
        return out
    }

    private func finishAvro(_ bytes: [UInt8]) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        report.bytesDecompressed = Int64(bytes.count)
        var input = AvroInput(layout: layout, options: configuration.conversion, source: object.location, drift: configuration.driftPolicy)
        defer { avro = input }
        // Damaged bytes (not a container, a block that does not decode) damage the object; the rest (a schema
        // this reader refuses, a new field under drift `fail`, a bad record under `fail`, the pipeline's
        // errors) pass through as they are.
        struct Passing: Error { let error: any Error }
        do {
            try input.read(bytes, batchRows: configuration.batchRows, onBadRecord: { bad in
                do { try self.handle(bad) } catch { throw Passing(error: error) }
            }) { batch in
                do { try self.pipeline.submit(batch, source: self.sourceIndex) } catch { throw Passing(error: error) }
            }
        } catch let passing as Passing {
            throw passing.error
        } catch let error as IngestError where Self.isDamage(error.cause) {
            throw DamagedObject(error)
        }
        parseNanos += DispatchTime.now().uptimeNanoseconds - started
    }

    private func finishParquet(_ bytes: [UInt8], register: Bool) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        report.bytesDecompressed = Int64(bytes.count)
        let outcome: ParquetInput.Outcome
        do {
            outcome = try ParquetInput.read(bytes, object: object, layout: layout, spec: pipeline.writer.router.spec, allowRegister: register)
        } catch let error as IngestError where Self.isDamage(error.cause) {
            // Damaged bytes; a file that does not fit the table, or uses what is not read here, stops the run.
            throw DamagedObject(error)
        } catch let error as ParquetError where error.code == .corruptFile {
            throw DamagedObject(IngestError(.badRecord, "\(object.location) is damaged: \(error.message)", cause: error))
        }
        switch outcome {
        case .register(let file):
            report.registered = file
            wholeRows = Int(file.recordCount)
        case .rows(let batches):
            for batch in batches {
                wholeRows += batch.rowCount
                try pipeline.submit(batch, source: sourceIndex)
            }
        }
        parseNanos += DispatchTime.now().uptimeNanoseconds - started
    }

    /// Runs `body`, reporting compressed input that cannot be read with the code
    /// ``IngestError/Code/corruptCompressedInput``: as a ``DamagedObject`` when its bytes are damaged.
    private func decompressing(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CodecError {
            let failure = IngestError(.corruptCompressedInput, error.message, cause: error)
            // Only damaged bytes leave the object out; what is not read here, or a codec without memory, stops the run.
            guard error.kind == .damaged else { throw failure }
            throw DamagedObject(failure)
        }
    }

    /// Whether an input reader's error says the object's bytes are damaged (not a readable file, a page or
    /// block that does not decode), not that the file uses what is not read here or does not fit the table.
    static func isDamage(_ cause: (any Error)?) -> Bool {
        if let parquet = cause as? ParquetError { return parquet.code == .corruptFile }
        if let avro = cause as? AvroError { return avro.code == .corruptData }
        return false
    }

    /// Marks the object left out whole, as damaged (``PassReader`` does, under the bad-record policies `skip`
    /// and `dead-letter`, for an object whose earlier parse threw ``DamagedObject``): it holds no rows, its
    /// report says why, and under `dead-letter` one entry of kind `damaged-object` stands for it.
    func leaveOut(_ error: IngestError) {
        report.damage = error.message
        if configuration.badRecordPolicy == .deadLetter {
            report.deadLetters.append(BadRecord(
                kind: .damagedObject, source: object.location, line: 0, byteOffset: 0, field: nil,
                reason: "the object is damaged and was left out whole: \(error.message)", raw: []))
        }
    }

    /// Whether text held whole may be parsed in parts: JSON, not routed by a field, more than one thread, and
    /// threads to spare (otherwise other objects keep them busy, and holding a plain object whole would only
    /// stop its parse from overlapping its download).
    private var splitsText: Bool {
        mayParseInParts && configuration.format == .json && configuration.conversion.route == nil && configuration.threads > 1
    }

    /// Parses text held whole that ends the input (the final `consume` follows): in parts on several threads
    /// when it is large enough (``SplitParse``), otherwise in 1 MiB pieces.
    private func consumeWhole(_ text: [UInt8]) throws {
        if splitsText, text.count >= 2 * Self.splitMinimumPart {
            let started = DispatchTime.now().uptimeNanoseconds
            let cuts = SplitParse.cuts(in: text, parts: configuration.threads, minimumPart: Self.splitMinimumPart)
            if cuts.count > 2, let parts = SplitParse.parse(text, cuts: cuts, layout: layout, configuration: configuration, source: object.location) {
                report.bytesDecompressed += Int64(text.count)
                report.parsedInParts = true
                if let last = text.last { lastByte = last }
                parseNanos += DispatchTime.now().uptimeNanoseconds - started
                try flushBatch()
                // In input order, as one parser would have: each part's bad records, then its rows.
                for part in parts {
                    records?.absorb(part.parser)
                    for bad in part.bad { try handle(bad) }
                    if let error = part.error { throw error }
                    for batch in part.batches { try pipeline.submit(batch, source: sourceIndex) }
                }
                return
            }
        }
        var at = 0
        while at < text.count {
            let end = min(text.count, at + (1 << 20))
            try consume(text[at..<end], isFinal: false)
            at = end
        }
    }

    private func consume(_ piece: ArraySlice<UInt8>, isFinal: Bool) throws {
        if skippingEntry { return }
        let started = DispatchTime.now().uptimeNanoseconds
        report.bytesDecompressed += Int64(piece.count)
        if !parserCountsLines { piece.withUnsafeBufferPointer { newlines += JSONRecordParser.newlines($0, from: 0, to: $0.count) } }
        if let last = piece.last { lastByte = last }
        // Text formats only (Parquet and Avro input never get here): `records` is set whenever `wholeBytes` is not.
        try records?.consume(piece, isFinal: isFinal, into: &batch, onBadRecord: handle)
        parseNanos += DispatchTime.now().uptimeNanoseconds - started
        if batch.isFull(batchRows: configuration.batchRows) {
            // Objects of a source are alike: the next batch, and the next objects' first ones, get this one's room.
            room.remember(batch, fromBytes: report.bytesDecompressed - batchStartBytes)
            try flushBatch(next: batch.emptyWithRoom())
        }
    }

    private func handle(_ bad: BadRecord) throws {
        if bad.needsWidening, configuration.driftPolicy == .addColumns {
            deferred.append(bad)
            return
        }
        try settle(bad)
    }

    /// Counts a bad record's drift finding and applies the bad-record policy.
    private func settle(_ bad: BadRecord) throws {
        let kind: DriftFinding.Kind? =
            switch bad.kind {
            case .typeMismatch: .typeMismatch
            case .missingRequired: .missingRequired
            case .malformed, .unknownField, .damagedObject: nil
            }
        if let kind, let field = bad.field {
            let key = kind.rawValue + ":" + field
            var finding = findings[key] ?? DriftFinding(kind: kind, field: field, count: 0, examples: [], detail: bad.reason)
            finding.count += 1
            if finding.examples.count < 3 { finding.examples.append("\(bad.source) line \(bad.line)") }
            findings[key] = finding
        }
        switch configuration.badRecordPolicy {
        case .fail:
            throw IngestError(.badRecord, "bad record in \(bad.description) (policy 'fail'; use 'skip' or 'dead-letter' to go on)")
        case .skip:
            break
        case .deadLetter:
            report.deadLetters.append(bad)
        }
        if report.badExamples.count < 20 { report.badExamples.append(bad.description) }
    }

    /// Hands the batch to the encoder and starts `next` (an empty batch when not given).
    private func flushBatch(next: RecordBatch? = nil) throws {
        guard batch.rowCount > 0 else { return }
        let next = next ?? RecordBatch(layout: layout)
        try pipeline.submit(batch, source: sourceIndex)
        batch = next
        batchStartBytes = report.bytesDecompressed
    }
}

/// An object whose bytes are damaged: its compressed stream (a bad CRC, cut short, bytes after the last gzip
/// member that are not one, a corrupt block), or its Parquet or Avro container (not such a file at all, a
/// page or block that does not decode). `error` names the object and where. Under the bad-record policy
/// `fail` the run stops with `error`; under `skip` and `dead-letter` an appending pass leaves the object out
/// whole (``PassReader``): none of its rows is committed, and it is recorded as done. Input that is well
/// formed but not read here (an encrypted ZIP entry, a Parquet encoding, an Avro union), a file that does not
/// fit the table, and a codec without memory are not damage: they stop the run under every policy.
struct DamagedObject: Error {
    let error: IngestError
    init(_ error: IngestError) { self.error = error }
}

/// The room of the last full batch parsed in a pass, which each object's first batch starts with (objects
/// of one source are alike, so their batches fill without growing their arrays). Shared by the objects
/// parsed at once.
final class BatchRoom: Sendable {
    /// The room, and the bytes of text that filled it.
    private let last = Mutex<(room: [LeafBuilder.Room], bytes: Int64)>(([], 0))

    func remember(_ batch: RecordBatch, fromBytes bytes: Int64) {
        let room = batch.room
        last.withLock { $0 = (room, bytes) }
    }

    /// The room for an object of `bytes` as stored: in proportion when it is smaller than the text that
    /// filled the batch remembered (a small object's batch is small; a compressed object gets less room
    /// than its text needs, and grows from there).
    func room(forObjectOf bytes: Int64) -> [LeafBuilder.Room] {
        let (room, filled) = last.withLock { $0 }
        guard filled > bytes else { return room }
        return room.map { $0.scaled(by: Double(bytes) / Double(filled)) }
    }
}
