import Dispatch
import Foundation
import IcebergCore
import Synchronization

/// JSON text held whole (a small gzip object inflated at once, a plain object up to 32 MiB) parsed in parts on
/// several threads when a pass has threads to spare (its last objects), each part with a parser of its own started at the part's byte offset and line, so rows,
/// bad records and their places are those of one parser reading it all.
///
/// Parts end where a record ends: a newline with `}` before it and `{` after it (whitespace aside), which
/// inside a JSON value could only be a syntax error. A part whose parser is still inside a record at the
/// part's end (a broken record there) means the cut was not a record boundary after all: the split is given
/// up and the text parsed in one piece, so nothing depends on where the cuts fell.
///
/// ```swift
/// let cuts = SplitParse.cuts(in: text, parts: 2, minimumPart: 2 << 20)   // [0, 16_777_304, 33_554_100]
/// if let parts = SplitParse.parse(text, cuts: cuts, layout: layout, configuration: configuration, source: location) { ... }
/// ```
package enum SplitParse {
    /// One part's outcome: its batches in order, its bad records in order, its parser (counts, drift, the
    /// position it ended at), and the error that stopped it, if any.
    package struct Part: @unchecked Sendable {
        package var batches: [RecordBatch] = []
        package var bad: [BadRecord] = []
        package var parser: JSONRecordParser
        package var error: (any Error)?
    }

    /// Offsets that cut `text` into up to `parts` parts of at least `minimumPart` bytes at record boundaries:
    /// `[0, ..., text.count]`, fewer cuts where no boundary is found near the even split.
    package static func cuts(in text: [UInt8], parts: Int, minimumPart: Int) -> [Int] {
        let count = min(parts, text.count / max(1, minimumPart))
        guard count > 1 else { return [0, text.count] }
        var cuts = [0]
        text.withUnsafeBufferPointer { b in
            for k in 1..<count {
                let target = k * b.count / count
                // A boundary has a `{` after it, so it is inside the text, never its end.
                guard target > cuts.last! + minimumPart / 2, let cut = boundary(b, from: target, limit: min(b.count, target + (1 << 20))) else { continue }
                cuts.append(cut)
            }
        }
        cuts.append(text.count)
        return cuts
    }

    /// The first offset at or after `from` (and before `limit`) just past a newline that has `}` before it and
    /// `{` after it, whitespace aside.
    static func boundary(_ b: UnsafeBufferPointer<UInt8>, from: Int, limit: Int) -> Int? {
        var k = from
        while k < limit {
            guard let base = b.baseAddress, let hit = memchr(base + k, 0x0a, limit - k) else { return nil }
            let newline = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
            k = newline + 1
            var before = newline - 1
            while before >= 0, isSpace(b[before]) { before -= 1 }
            guard before >= 0, b[before] == UInt8(ascii: "}") else { continue }
            var after = newline + 1
            while after < b.count, isSpace(b[after]) { after += 1 }
            if after < b.count, b[after] == UInt8(ascii: "{") { return newline + 1 }
        }
        return nil
    }

    @inline(__always)
    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 }

    /// Parses the parts between `cuts` at once, one thread each; nil when a part other than the last ends
    /// inside a record (parse the text in one piece then). The last part ends the input (`isFinal`).
    package static func parse(
        _ text: [UInt8], cuts: [Int], layout: ColumnLayout, configuration: IngestConfiguration, source: String
    ) -> [Part]? {
        let count = cuts.count - 1
        guard count > 1 else { return nil }
        // Where each part starts: its byte offset, and its line (newlines before it, plus one).
        var lines = [0]
        text.withUnsafeBufferPointer { b in
            for k in 1..<count { lines.append(lines[k - 1] + JSONRecordParser.newlines(b, from: cuts[k - 1], to: cuts[k])) }
        }
        let starts = lines
        let results = Mutex<[Part?]>(Array(repeating: nil, count: count))
        DispatchQueue.concurrentPerform(iterations: count) { k in
            var parser = JSONRecordParser(layout: layout, options: configuration.conversion, source: source, drift: configuration.driftPolicy)
            parser.advance(bytes: cuts[k], lines: starts[k])
            var stream = RecordStream(parser: parser, maxRecordBytes: configuration.maxRecordBytes, source: source)
            var part = Part(parser: parser)
            var batch = RecordBatch(layout: layout)
            var whole = true
            do {
                var at = cuts[k]
                while at < cuts[k + 1] {
                    let end = min(cuts[k + 1], at + (1 << 20))
                    try stream.consume(text[at..<end], isFinal: false, into: &batch) { part.bad.append($0) }
                    if batch.isFull(batchRows: configuration.batchRows) {
                        part.batches.append(batch)
                        batch = batch.emptyWithRoom()
                    }
                    at = end
                }
                if k == count - 1 {
                    try stream.consume([][...], isFinal: true, into: &batch) { part.bad.append($0) }
                } else {
                    whole = stream.isBetweenRecords
                }
            } catch {
                part.error = error
            }
            if batch.rowCount > 0 { part.batches.append(batch) }
            if let json = stream.parser as? JSONRecordParser { part.parser = json }
            let done = whole ? part : nil
            results.withLock { $0[k] = done }
        }
        let parts = results.withLock { $0 }
        // A part that ended inside a record voids the split; an error stops at its part (later parts are
        // dropped, as one parser would have stopped there).
        var out: [Part] = []
        for part in parts {
            guard let part else { return nil }
            out.append(part)
            if part.error != nil { break }
        }
        return out
    }
}
