import Foundation
import IcebergCore

/// Plain text lines (`format: text`), for logs: each line, without its line end (`\n` or `\r\n`), is a row
/// whose first string column holds the line; the schema's other columns are null. Blank lines are skipped
/// (counted as lines, not rows). A line that is not UTF-8 text, or runs past `ingest.max_record_bytes`,
/// is a bad record naming its line and byte offset.
///
/// ```swift
/// var parser = TextRecordParser(layout: layout, source: "s3://logs/app/2026/11/24/10/app.log.gz")
/// let used = try parser.parse(buffer, isFinal: true, into: &batch) { bad in skipped.append(bad) }
/// ```
package struct TextRecordParser: RecordParser {
    package let layout: ColumnLayout
    package private(set) var source: String
    package private(set) var position = InputPosition()
    package private(set) var counts = ParseCounts()
    package private(set) var drift: DriftTracker
    package var maxRecordBytes = Int.max
    /// The top-level field the line goes to: the first string column (nil when the schema has none).
    private let target: Int?

    package init(layout: ColumnLayout, source: String) {
        self.layout = layout
        self.source = source
        drift = DriftTracker(policy: .ignore, layout: layout)
        target = Self.lineColumn(in: layout)
    }

    /// The top-level field text lines fill: the schema's first string column.
    package static func lineColumn(in layout: ColumnLayout) -> Int? {
        layout.topLevel.firstIndex { $0.field.type == .primitive(.string) && $0.name != RescuedData.column }
    }

    package mutating func abandonRecord() { counts.badRecords += 1 }

    package mutating func advance(bytes: Int, lines: Int) {
        position.byteOffset += Int64(bytes)
        position.line += lines
    }

    package mutating func startInput(source: String) {
        self.source = source
        position = InputPosition()
    }

    package mutating func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, isFinal: Bool, into batch: inout RecordBatch, onBadRecord: (BadRecord) throws -> Void
    ) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var i = 0
        defer { position.byteOffset += Int64(i) }
        while i < buffer.count {
            let start = i
            let newline = memchr(base + start, 0x0a, buffer.count - start).map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base }
            guard let lineEnd = newline ?? (isFinal ? buffer.count : nil) else { return i }
            i = newline.map { $0 + 1 } ?? buffer.count
            let line = position.line
            if newline != nil { position.line += 1 }
            var end = lineEnd
            if end > start, buffer[end - 1] == 0x0d { end -= 1 }
            if end == start { continue }
            let text = UnsafeBufferPointer(rebasing: buffer[start..<end])
            func bad(_ reason: String, at offset: Int) throws {
                counts.badRecords += 1
                try onBadRecord(
                    BadRecord(
                        kind: .malformed, source: source, line: line, byteOffset: position.byteOffset + Int64(offset), field: nil,
                        reason: reason, raw: Array(text.prefix(1 << 20))))
            }
            if end - start > maxRecordBytes {
                try bad(RecordStream.tooLong(maxRecordBytes), at: start)
                continue
            }
            guard let target else {
                try bad("format 'text' needs a string column in the schema to hold the line", at: start)
                continue
            }
            if let invalid = Self.firstInvalidUTF8(text) {
                try bad("the line is not UTF-8 text (byte \(invalid) of the line)", at: start + invalid)
                continue
            }
            let mark = batch.beginRecord()
            var missing: String?
            for (f, field) in layout.topLevel.enumerated() {
                if f == target {
                    batch.leaves[field.leaves.lowerBound].append(bytes: text)
                } else if field.field.isRequired {
                    missing = field.name
                    break
                } else {
                    batch.appendNull(field: f)
                }
            }
            if let missing {
                batch.rollBack(to: mark)
                counts.badRecords += 1
                try onBadRecord(
                    BadRecord(
                        kind: .missingRequired, source: source, line: line, byteOffset: position.byteOffset + Int64(start), field: missing,
                        reason: "required field '\(missing)' has no value in a text line (only '\(layout.topLevel[target].name)' is filled)",
                        raw: Array(text.prefix(1 << 20))))
                continue
            }
            batch.endRecord()
            counts.rows += 1
        }
        return i
    }

    /// The offset of the first byte that is not part of valid UTF-8, or nil when the text is valid.
    static func firstInvalidUTF8(_ text: UnsafeBufferPointer<UInt8>) -> Int? {
        // ASCII is the common case: check it word-free and fast, decode only from the first high byte.
        guard let high = text.firstIndex(where: { $0 >= 0x80 }) else { return nil }
        var decoder = UTF8()
        var iterator = text[high...].makeIterator()
        var offset = high
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
