/// A record that could not be parsed or does not fit the schema, with where it is.
public struct BadRecord: Sendable, Equatable {
    /// The object or file it came from.
    public var source: String
    /// 1-based line where the record starts (in the decompressed input).
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

    public init(source: String, line: Int, byteOffset: Int64, field: String?, reason: String, raw: [UInt8]) {
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
public enum BadRecordPolicy: String, Sendable, CaseIterable, Codable {
    /// Stop the run with an error naming the file, line, byte offset, field and what was found; nothing of
    /// the run is committed.
    case fail
    /// Leave the record out; it is counted and the first ones are listed in the run summary.
    case skip
    /// Write the record as it was, with the reason, to the dead-letter location; counted in the summary.
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
public struct ParseCounts: Sendable, Equatable {
    /// Records that became rows.
    public var rows = 0
    /// Records that were bad (failed, skipped or dead-lettered).
    public var badRecords = 0
    /// Lines in the decompressed input (a last line without a newline counts), so that every input line
    /// is accounted for: for line-delimited input, lines = rows + bad records + header + blank lines.
    public var lines = 0
    /// Header lines (CSV).
    public var headerLines = 0
    /// Keys found in the input that the schema does not have, with how often (drift).
    public var unknownFields: [String: Int] = [:]

    public init() {}

    mutating func add(_ other: ParseCounts) {
        rows += other.rows
        badRecords += other.badRecords
        lines += other.lines
        headerLines += other.headerLines
        for (k, v) in other.unknownFields { unknownFields[k, default: 0] += v }
    }
}
