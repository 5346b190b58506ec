import Foundation

/// Feeds one input's decompressed bytes, in pieces as they come, to a ``RecordParser``: a record cut by a
/// piece's end is carried over to the next piece, and memory stays bounded. A record longer than
/// `maxRecordBytes` is a bad record. When its end is in the bytes at hand the parser finds it and goes on
/// after it; when it is not (a CSV quote that never closes, a line of megabytes, binary data read as text),
/// the first MiB goes to `onBadRecord` and the input resumes after the line end that follows the record's
/// start, as the parsers do after a syntax error. Whatever the input holds, the carried bytes never exceed
/// `maxRecordBytes` plus one piece.
///
/// ```swift
/// var stream = RecordStream(parser: parser, maxRecordBytes: 4 << 20, source: "s3://raw/a.json")
/// for piece in pieces { try stream.consume(piece[...], isFinal: false, into: &batch) { bad.append($0) } }
/// try stream.consume([][...], isFinal: true, into: &batch) { bad.append($0) }
/// ```
package struct RecordStream {
    package private(set) var parser: any RecordParser
    package let maxRecordBytes: Int
    package private(set) var source: String
    /// The start of a record not complete yet.
    private var carry: [UInt8] = []
    /// Before the first three bytes (a byte-order mark is looked for there).
    private var atStart = true
    /// Bytes of an oversized record skipped so far, while looking for the line end that ends the skip.
    private var skipping: Int?

    package init(parser: any RecordParser, maxRecordBytes: Int, source: String) {
        self.parser = parser
        self.maxRecordBytes = max(1, maxRecordBytes)
        self.parser.maxRecordBytes = self.maxRecordBytes
        self.source = source
    }

    /// Why a record past the bound is bad.
    static func tooLong(_ limit: Int) -> String { "the record runs past \(limit) bytes (ingest.max_record_bytes)" }

    /// The bytes that follow are another input (a ZIP archive's next entry), named `source`: call it after
    /// the previous input's final ``consume(_:isFinal:into:onBadRecord:)``. A byte-order mark is looked for
    /// again, and the parser counts lines from the new input's start.
    package mutating func startInput(source: String) {
        self.source = source
        carry = []
        skipping = nil
        atStart = true
        parser.startInput(source: source)
    }

    /// Bytes held for a record not complete yet.
    package var carriedBytes: Int { carry.count }

    /// Whether the bytes so far ended between records: nothing carried, no oversized record being skipped.
    package var isBetweenRecords: Bool { carry.isEmpty && skipping == nil }

    /// Takes over what a JSON parser that read the following part of this input found (see ``SplitParse``):
    /// its counts, drift and position; this stream then stands where that part ended.
    package mutating func absorb(_ part: JSONRecordParser) {
        guard var mine = parser as? JSONRecordParser else { return }
        mine.absorb(part)
        parser = mine
        atStart = false
    }

    /// Parses the complete records of `carry + piece`; with `isFinal` the input ends here.
    package mutating func consume(
        _ piece: ArraySlice<UInt8>, isFinal: Bool, into batch: inout RecordBatch, onBadRecord: (BadRecord) throws -> Void
    ) throws {
        var piece = piece
        if atStart {
            // A UTF-8 byte-order mark (as Windows tools write one) is not part of the first record.
            if carry.count + piece.count < 3, !isFinal {
                carry += piece
                return
            }
            atStart = false
            if !carry.isEmpty {
                piece = ArraySlice(carry + piece)
                carry = []
            }
            if piece.starts(with: [0xEF, 0xBB, 0xBF]) {
                piece = piece.dropFirst(3)
                parser.advance(bytes: 3, lines: 0)
            }
        }
        if let skipped = skipping {
            if let end = piece.firstIndex(of: 0x0a) {
                parser.advance(bytes: skipped + (end - piece.startIndex) + 1, lines: 1)
                skipping = nil
                piece = piece[(end + 1)...]
            } else {
                skipping = skipped + piece.count
                if isFinal {
                    parser.advance(bytes: skipping!, lines: 0)
                    skipping = nil
                }
                return
            }
        }
        if !carry.isEmpty, let lineEnd = Self.firstLineEnd(piece), lineEnd < piece.endIndex {
            // The carried record usually ends at the piece's first line end: complete it with the bytes up to
            // there and parse the rest of the piece in place, rather than copying the whole piece after it.
            carry += piece[..<lineEnd]
            try parseCarry(isFinal: false, into: &batch, onBadRecord: onBadRecord)
            piece = piece[lineEnd...]
        }
        if carry.isEmpty {
            let used = try piece.withUnsafeBufferPointer { try parser.parse($0, isFinal: isFinal, into: &batch, onBadRecord: onBadRecord) }
            carry = Array(piece[(piece.startIndex + used)...])
        } else {
            carry += piece
            try parseCarry(isFinal: isFinal, into: &batch, onBadRecord: onBadRecord)
        }
        while carry.count > maxRecordBytes {
            let position = parser.position
            let bad = BadRecord(
                kind: .malformed, source: source, line: position.line, byteOffset: position.byteOffset, field: nil,
                reason: Self.tooLong(maxRecordBytes) + "; the input resumes at the next line",
                raw: Array(carry.prefix(1 << 20)))
            try parser.abandonRecord()
            try onBadRecord(bad)
            guard let end = carry.firstIndex(of: 0x0a) else {
                skipping = carry.count
                carry = []
                return
            }
            parser.advance(bytes: end + 1, lines: 1)
            carry.removeFirst(end + 1)
            try parseCarry(isFinal: isFinal, into: &batch, onBadRecord: onBadRecord)
        }
    }

    /// The index just past the first newline of `piece`, if any.
    private static func firstLineEnd(_ piece: ArraySlice<UInt8>) -> Int? {
        piece.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress, let hit = memchr(base, 0x0a, b.count) else { return nil }
            return piece.startIndex + (UnsafeRawPointer(hit) - UnsafeRawPointer(base)) + 1
        }
    }

    private mutating func parseCarry(isFinal: Bool, into batch: inout RecordBatch, onBadRecord: (BadRecord) throws -> Void) throws {
        let held = carry
        let used = try held.withUnsafeBufferPointer { try parser.parse($0, isFinal: isFinal, into: &batch, onBadRecord: onBadRecord) }
        carry.removeFirst(used)
    }
}
