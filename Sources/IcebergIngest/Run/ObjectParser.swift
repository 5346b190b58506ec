import Codecs
import Foundation
import IcebergCore

/// Turns one input object, fed in chunks as it is read, into rows in the writers: detects the compression
/// from the first bytes, decompresses, parses records into a batch and hands full batches to the encoding
/// pipeline.
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
    private var json: JSONRecordParser?
    private var csv: CSVRecordParser?
    private var carry: [UInt8] = []
    /// A Parquet input is gathered whole (its footer is at the end), then registered or rewritten.
    private var parquetBytes: [UInt8]?
    /// The data file of a Parquet input registered as it is.
    private(set) var registered: DataFile?
    private var parquetRows = 0
    private var batch: RecordBatch
    private(set) var compression: CompressionFormat?
    /// Records this object's bad records (for the dead-letter file) and the run's policy.
    private(set) var deadLetters: [BadRecord] = []
    private(set) var badExamples: [String] = []
    private(set) var newlines = 0
    private var lastByte: UInt8?
    private(set) var decompressedBytes: Int64 = 0
    private(set) var parseNanos: UInt64 = 0
    /// Type mismatches and missing required fields, by field (new fields come from the parser's counts).
    private(set) var findings: [String: DriftFinding] = [:]

    /// Sample values of fields the schema lacks (add-columns), and values that need wider types.
    var samples: [String: JSONValue] { json?.samples ?? csv?.samples ?? [:] }
    var widenings: [String: PrimitiveType] { json?.widenings ?? csv?.widenings ?? [:] }

    /// Every drift this object showed: new fields (with where first seen) and the findings above.
    var drift: [DriftFinding] {
        var all = Array(findings.values)
        let counts = self.counts
        for (field, count) in counts.unknownFields {
            let example = (json?.unknownFieldExamples[field] ?? csv?.unknownFieldExamples[field]).map { [$0] } ?? []
            all.append(DriftFinding(kind: .newField, field: field, count: count, examples: example, detail: nil))
        }
        return all
    }

    /// Longest record accepted: a record still incomplete past this is bad (input without record ends
    /// would otherwise grow without bound).
    static let maxRecordBytes = 64 << 20

    init(object: SourceObject, sourceIndex: Int, layout: ColumnLayout, configuration: IngestConfiguration, pipeline: EncodingPipeline) {
        self.object = object
        self.sourceIndex = sourceIndex
        self.layout = layout
        self.configuration = configuration
        self.pipeline = pipeline
        batch = RecordBatch(layout: layout)
        switch configuration.format {
        case .json:
            json = JSONRecordParser(layout: layout, options: configuration.conversion, source: object.location)
            json!.setDrift(configuration.driftPolicy)
        case .csv(let d):
            csv = CSVRecordParser(layout: layout, options: configuration.conversion, source: object.location, delimiter: d)
            csv!.setDrift(configuration.driftPolicy)
        case .parquet: parquetBytes = []
        }
    }

    var counts: ParseCounts {
        var c = json?.counts ?? csv?.counts ?? ParseCounts()
        if parquetBytes != nil {
            c.rows = parquetRows
            return c
        }
        c.lines = newlines + (lastByte != nil && lastByte != 0x0a ? 1 : 0)
        return c
    }

    /// Feeds the next bytes of the object as stored.
    func feed(_ chunk: [UInt8]) throws {
        if parquetBytes != nil {
            parquetBytes! += chunk
            return
        }
        try decompressing {
            if decompressor == nil {
                let format = CompressionFormat.detect(prefix: Array(chunk.prefix(64)))
                compression = format
                decompressor = try format.makeDecompressor(source: object.location)
            }
            try decompressor!.feed(chunk[...]) { piece in try consume(piece, isFinal: false) }
        }
    }

    /// Ends the object: flushes the decompressor and the last (possibly unterminated) record.
    func finish() throws {
        if let bytes = parquetBytes, case .parquet(let register) = configuration.format {
            let started = DispatchTime.now().uptimeNanoseconds
            decompressedBytes = Int64(bytes.count)
            switch try ParquetInput.read(bytes, object: object, layout: layout, spec: pipeline.writer.router.spec, allowRegister: register) {
            case .register(let file):
                registered = file
                parquetRows = Int(file.recordCount)
            case .rows(let batches):
                for batch in batches {
                    parquetRows += batch.rowCount
                    try pipeline.submit(batch, source: sourceIndex)
                }
            }
            parseNanos += DispatchTime.now().uptimeNanoseconds - started
            return
        }
        if decompressor != nil {
            try decompressing { try decompressor!.finish { piece in try consume(piece, isFinal: false) } }
        }
        try consume([][...], isFinal: true)
        try flushBatch()
    }

    /// Runs `body`, reporting damaged compressed input as ``IngestError/Code/corruptCompressedInput``.
    private func decompressing(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CodecError {
            throw IngestError(.corruptCompressedInput, error.message, cause: error)
        }
    }

    private func consume(_ piece: ArraySlice<UInt8>, isFinal: Bool) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        decompressedBytes += Int64(piece.count)
        piece.withUnsafeBufferPointer { newlines += Self.countNewlines($0) }
        if let last = piece.last { lastByte = last }
        if carry.isEmpty {
            let used = try piece.withUnsafeBufferPointer { try parse($0, isFinal: isFinal) }
            carry = Array(piece[(piece.startIndex + used)...])
        } else {
            carry += piece
            let used = try carry.withUnsafeBufferPointer { try parse($0, isFinal: isFinal) }
            carry.removeFirst(used)
        }
        parseNanos += DispatchTime.now().uptimeNanoseconds - started
        if carry.count > Self.maxRecordBytes {
            throw IngestError(
                .badRecord,
                "\(object.location): a record runs past \(Self.maxRecordBytes >> 20) MiB without ending (is the format '\(configuration.format.name)' right?)")
        }
        if batch.rowCount >= configuration.batchRows || batch.estimatedBytes >= 64 << 20 { try flushBatch() }
    }

    private func parse(_ buffer: UnsafeBufferPointer<UInt8>, isFinal: Bool) throws -> Int {
        if json != nil { return try json!.parse(buffer, isFinal: isFinal, into: &batch, onBadRecord: handle) }
        return try csv!.parse(buffer, isFinal: isFinal, into: &batch, onBadRecord: handle)
    }

    /// Records whose values need a wider column, held back under `add-columns`: the table widens and the
    /// object is parsed again. If it does not (``applyDeferred()``), the bad-record policy applies to them.
    private(set) var deferred: [BadRecord] = []

    /// Applies the bad-record policy to the records held back for a widening that did not happen.
    func applyDeferred() throws {
        let held = deferred
        deferred = []
        for bad in held { try settle(bad) }
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
        if let field = bad.field {
            let kind: DriftFinding.Kind? =
                bad.reason.hasPrefix("expected") || bad.reason.contains("out of range") || bad.reason.contains("does not fit") ? .typeMismatch
                : bad.reason.hasPrefix("required field") ? .missingRequired : nil
            if let kind {
                let key = kind.rawValue + ":" + field
                var finding = findings[key] ?? DriftFinding(kind: kind, field: field, count: 0, examples: [], detail: bad.reason)
                finding.count += 1
                if finding.examples.count < 3 { finding.examples.append("\(bad.source) line \(bad.line)") }
                findings[key] = finding
            }
        }
        try applyPolicy(bad)
    }

    private func applyPolicy(_ bad: BadRecord) throws {
        switch configuration.badRecordPolicy {
        case .fail:
            throw IngestError(.badRecord, "bad record in \(bad.description) (policy 'fail'; use 'skip' or 'dead-letter' to go on)")
        case .skip:
            break
        case .deadLetter:
            deadLetters.append(bad)
        }
        if badExamples.count < 20 { badExamples.append(bad.description) }
    }

    private func flushBatch() throws {
        guard batch.rowCount > 0 else { return }
        try pipeline.submit(batch, source: sourceIndex)
        batch = RecordBatch(layout: layout)
    }

    private static func countNewlines(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = b.baseAddress else { return 0 }
        var count = 0
        var p = base
        let end = base + b.count
        while p < end, let hit = memchr(p, 0x0a, end - p) {
            count += 1
            p = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) + 1
        }
        return count
    }
}
