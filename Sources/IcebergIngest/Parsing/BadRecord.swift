import IcebergCore

/// A record that could not be parsed or does not fit the schema, with where it is.
public struct BadRecord: Sendable, Equatable {
    /// What was wrong with a record.
    public enum Kind: Sendable, Equatable {
        /// Not a record of the format: not valid JSON or CSV, a key twice, a cell count unlike the header's,
        /// text that is not UTF-8, input that ends inside the record.
        case malformed
        /// A value that does not fit its column's type. `widening` is a wider type of the column that would
        /// hold it (int to long, float to double, more decimal digits), when there is one.
        case typeMismatch(widening: PrimitiveType?)
        /// A required field is missing, null or empty.
        case missingRequired
        /// A field the table's schema lacks (a bad record only under the drift policy `fail`, which stops the run).
        case unknownField
        /// An object whose bytes are damaged (its compression, or its Parquet or Avro container): under
        /// `dead-letter` one entry of this kind, with line 0 and no record, stands for the whole object, which
        /// was left out.
        case damagedObject
    }

    /// What was wrong.
    public var kind: Kind
    /// The object or file it came from.
    public var source: String
    /// 1-based line where the record starts (in the decompressed input); 0 for a damaged object.
    public var line: Int
    /// Byte offset, in the decompressed input, of the problem (the field's value, or the record's start).
    public var byteOffset: Int64
    /// The field involved, when the problem is one field's value.
    public var field: String?
    /// What was wrong: what was expected and what was found.
    public var reason: String
    /// The record's bytes as read (cut at 1 MiB).
    public var raw: [UInt8]
    /// A value of the record needs a wider column type (int to long, float to double, more decimal digits):
    /// under the drift policy `add-columns` the table widens and the record is parsed again, so it is not bad.
    package var needsWidening = false

    public init(kind: Kind, source: String, line: Int, byteOffset: Int64, field: String?, reason: String, raw: [UInt8]) {
        self.kind = kind
        self.source = source
        self.line = line
        self.byteOffset = byteOffset
        self.field = field
        self.reason = reason
        self.raw = raw
    }

    /// `s3://raw/e/2026/11/24/10/a.gz line 17, byte 4410, field 'amount': expected long, found a string 'x'`
    public var description: String {
        "\(source) line \(line), byte \(byteOffset)\(field.map { ", field '\($0)'" } ?? ""): \(reason)"
    }
}

/// What a run does with a bad record.
///
/// The policy also decides what becomes of an object whose bytes are damaged (its compression, or its Parquet
/// or Avro container): `fail` stops the run naming it; `skip` and `dead-letter` leave it out whole, count
/// and name it (``RunSummary/damagedObjects``) and record it as done, so that one damaged object does not
/// stop every run after it.
public enum BadRecordPolicy: String, Sendable, CaseIterable, Codable {
    /// Stop the run with an error naming the file, line, byte offset, field and what was found; nothing of
    /// the batch is committed.
    case fail
    /// Leave the record out; it is counted and the first ones are listed in the run summary. A damaged
    /// object is left out whole.
    case skip
    /// Write the record as it was, with the reason, to the dead-letter location; counted in the summary. A
    /// damaged object is left out whole, and one entry of kind `damaged-object` stands for it.
    case deadLetter = "dead-letter"
}

/// Where the position in an input stream is, for messages.
package struct InputPosition: Sendable, Equatable {
    /// Bytes of the decompressed input before the buffer being parsed.
    package var byteOffset: Int64 = 0
    /// 1-based line at the start of that buffer.
    package var line = 1
    package init() {}
}

/// What a parser counted in one input.
package struct ParseCounts: Sendable, Equatable {
    /// Records that became rows.
    package var rows = 0
    /// Records that were bad (failed, skipped or dead-lettered).
    package var badRecords = 0
    /// Lines in the decompressed input (a last line without a newline counts), so that every input line
    /// is accounted for: for line-delimited input, lines = rows + bad records + header + blank lines (routing
    /// by a field: plus the records of other tables and the unroutable ones, which a pass skips).
    package var lines = 0
    /// Header lines (CSV).
    package var headerLines = 0

    package init() {}
}

/// Where a parser found a record's first problem: what, in which field, at which index of the buffer.
package struct RecordProblem {
    package var kind: BadRecord.Kind
    package var field: String?
    package var reason: String
    package var at: Int

    package init(_ kind: BadRecord.Kind, field: String?, _ reason: String, at: Int) {
        self.kind = kind
        self.field = field
        self.reason = reason
        self.at = at
    }

    package init(_ failure: ConversionFailure, field: String, at: Int) {
        self.init(failure.kind, field: field, failure.reason, at: at)
    }
}
