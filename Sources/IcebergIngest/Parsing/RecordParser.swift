import IcebergCore

/// Parses one text format's records from decompressed bytes into a ``RecordBatch``. The bytes come in
/// chunks: `parse` uses every complete record and returns how many bytes it used; the caller feeds the rest
/// again with more bytes after it. With `isFinal`, the input ends with the buffer: an incomplete record is
/// bad, and the whole buffer is used.
///
/// A bad record goes to `onBadRecord` (which throws to stop the run, or returns to go on); its
/// ``BadRecord/kind`` says what was wrong. Fields the schema lacks are drift: each parser reports them to
/// its ``DriftTracker``, which applies the ``DriftPolicy`` the same way for every format. A new format is
/// one new file: a type conforming to this protocol, and a case in ``InputFormat/makeRecordParser(layout:options:source:drift:)``.
package protocol RecordParser {
    /// Records that became rows, bad records, header lines.
    var counts: ParseCounts { get }
    /// Fields the schema lacks, values needing wider types, rescued values.
    var drift: DriftTracker { get }
    mutating func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, isFinal: Bool, into batch: inout RecordBatch, onBadRecord: (BadRecord) throws -> Void
    ) throws -> Int
    /// Where the next record starts: the line and byte offset in the decompressed input.
    var position: InputPosition { get }
    /// Records longer than this many bytes are bad records (`Int.max` unless ``RecordStream`` sets its bound).
    var maxRecordBytes: Int { get set }
    /// Counts the record at ``position`` as bad: the caller gave up on it (it ran past the longest record
    /// allowed) and skips its bytes with ``advance(bytes:lines:)``. Throws when the input cannot go on
    /// without that record (a CSV header).
    mutating func abandonRecord() throws
    /// Moves ``position`` past `bytes` bytes holding `lines` line ends that the caller skipped.
    mutating func advance(bytes: Int, lines: Int)
    /// The bytes that follow are another input (the next entry of a ZIP archive), named `source` in
    /// messages: lines and byte offsets count from its start again, and a CSV header is read again. Counts
    /// and drift go on adding up.
    mutating func startInput(source: String)
}

extension InputFormat {
    /// The record parser of a text format (nil for Parquet and Avro, which are read whole, not record by record).
    package func makeRecordParser(layout: ColumnLayout, options: ConversionOptions, source: String, drift: DriftPolicy) -> (any RecordParser)? {
        switch self {
        case .json: JSONRecordParser(layout: layout, options: options, source: source, drift: drift)
        case .csv(let delimiter): CSVRecordParser(layout: layout, options: options, source: source, delimiter: delimiter, drift: drift)
        case .text: TextRecordParser(layout: layout, source: source)
        case .parquet, .avro: nil
        }
    }
}

/// What one object's parse found of schema drift, shared by every ``RecordParser``: fields the schema
/// lacks (counted, with where first seen, and sampled so `add-columns` can type the new column), values
/// that need a wider column type, and under `rescue` the current record's rescued values.
package struct DriftTracker {
    package let policy: DriftPolicy
    /// Keys found in the input that the schema lacks (dotted paths for nested ones), with how often.
    package private(set) var unknownFields: [String: Int] = [:]
    /// The first place each unknown field was seen (`file line N`).
    package private(set) var unknownFieldExamples: [String: String] = [:]
    /// A sample value of each unknown field (every policy but `fail`): add-columns types the new column from
    /// it, and the lineage keeps it so a later evolution knows the type without reading the object again.
    package private(set) var samples: [String: JSONValue] = [:]
    /// Top-level columns whose values need a wider type, with the widest type seen.
    package private(set) var widenings: [String: PrimitiveType] = [:]
    /// `rescue`: the `_rescued_data` column (nil when the policy is another, or the schema lacks it).
    package let rescueField: Int?
    /// The current record's rescued members, as the inside of a JSON object.
    private var rescued: [UInt8] = []
    /// The unknown fields counted in the current record (uncounted if the record is read again).
    private var countedInRecord: [String] = []

    package init(policy: DriftPolicy, layout: ColumnLayout) {
        self.policy = policy
        rescueField =
            policy == .rescue
            ? layout.topLevel.firstIndex { $0.name == RescuedData.column && $0.field.type == .primitive(.string) } : nil
    }

    /// Whether values that do not fit, and fields the schema lacks, are kept in `_rescued_data`.
    package var rescues: Bool { rescueField != nil }

    /// Counts a field the schema lacks, seen at `place` (`file line N`).
    package mutating func unknownField(_ path: String, at place: @autoclosure () -> String) {
        unknownFields[path, default: 0] += 1
        countedInRecord.append(path)
        if unknownFieldExamples[path] == nil { unknownFieldExamples[path] = place() }
    }

    /// The current record will be read again from its start (the bytes so far ended inside it): its unknown
    /// fields are uncounted, so that each record counts once however the input was cut into pieces.
    package mutating func forgetRecord() {
        for path in countedInRecord {
            unknownFields[path, default: 1] -= 1
            if unknownFields[path] == 0 { unknownFields[path] = nil }
        }
        countedInRecord.removeAll(keepingCapacity: true)
    }

    /// Notes where an unknown field was first seen, without counting it (a CSV header names a column once).
    package mutating func firstSeen(_ path: String, at place: @autoclosure () -> String) {
        if unknownFieldExamples[path] == nil { unknownFieldExamples[path] = place() }
    }

    /// Whether an unknown field still wants a sample value (so the caller parses one only when needed).
    package func wantsSample(_ path: String) -> Bool { policy != .fail && samples[path] == nil }

    /// Keeps `value` as the sample of an unknown field (the first non-null one is kept).
    package mutating func sample(_ path: String, _ value: JSONValue?) {
        guard wantsSample(path), let value, value != .null else { return }
        samples[path] = value
    }

    /// Notes that a value of `column` needs the wider type `wider`.
    package mutating func widen(_ column: String, to wider: PrimitiveType) {
        if let known = widenings[column], known.isWider(than: wider) { return }
        widenings[column] = wider
    }

    /// Takes over what a tracker of the same policy found in the input that follows: counts add up, and the
    /// first place, first sample and widest type seen stay as one tracker reading both in order would keep them.
    package mutating func absorb(_ later: DriftTracker) {
        for (path, count) in later.unknownFields { unknownFields[path, default: 0] += count }
        for (path, place) in later.unknownFieldExamples where unknownFieldExamples[path] == nil { unknownFieldExamples[path] = place }
        for (path, value) in later.samples where samples[path] == nil { samples[path] = value }
        for (column, wider) in later.widenings { widen(column, to: wider) }
    }

    /// Starts a record: no rescued members yet.
    package mutating func beginRecord() {
        // Per record: emptying an empty array still checks it is unique, so only what holds something is emptied.
        if !rescued.isEmpty { rescued.removeAll(keepingCapacity: true) }
        if !countedInRecord.isEmpty { countedInRecord.removeAll(keepingCapacity: true) }
    }

    /// Adds a member to the current record's rescued data: `value` is JSON text as it was in the input.
    package mutating func rescue(key: String, json value: UnsafeBufferPointer<UInt8>) {
        rescued.append(rescued.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
        rescued += Array(JSONValue.string(key).serialized().utf8)
        rescued.append(UInt8(ascii: ":"))
        rescued += value
    }

    /// Adds a member to the current record's rescued data: `text` (a CSV cell) as a JSON string.
    package mutating func rescue(key: String, text: [UInt8]) {
        let value = Array(JSONValue.string(String(decoding: text, as: UTF8.self)).serialized().utf8)
        value.withUnsafeBufferPointer { rescue(key: key, json: $0) }
    }

    /// Fills the `_rescued_data` column of the current record: the rescued members, or null.
    package mutating func finishRecord(into batch: inout RecordBatch) {
        guard let rescueField else { return }
        if rescued.isEmpty {
            batch.appendNull(field: rescueField)
        } else {
            rescued.append(UInt8(ascii: "}"))
            rescued.withUnsafeBufferPointer { batch.leaves[batch.layout.topLevel[rescueField].leaves.lowerBound].append(bytes: $0) }
        }
    }

    /// The drift findings of new fields, for the run summary.
    package var newFieldFindings: [DriftFinding] {
        unknownFields.sorted { $0.key < $1.key }.map { field, count in
            DriftFinding(kind: .newField, field: field, count: count, examples: unknownFieldExamples[field].map { [$0] } ?? [], detail: nil)
        }
    }
}
