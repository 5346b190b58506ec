import Foundation

/// Keeps, in one routed table's pass, the records whose route field names that table (routing by a field,
/// ``TableRouting/field``): the JSON parser finds the field's value in each record before parsing it, and a
/// record that belongs to another table is skipped without being parsed (not a row, not a bad record).
///
/// A record without a usable route value (the field missing, null or not a scalar; a value that cannot become
/// a table name, not in `table.allow`, past `table.max_tables`) is *unroutable*: it is no table's row, and
/// it is reported through `unroutable` rather than as each table's bad record, so that the passes of several
/// tables over one object report it once.
package final class RouteFilter: Sendable, Equatable {
    /// What becomes of a record with a route value.
    package enum Decision: Sendable, Equatable {
        /// This pass's table: the record is parsed into a row.
        case keep
        /// Another table's record: skipped.
        case elsewhere
        /// No table may have it, for this reason.
        case unroutable(String)
    }

    /// The route field's path (`["event_type"]`, `["meta", "type"]` for `meta.type`).
    package let path: [String]
    /// The path's names as UTF-8, compared with the keys as they are in the input.
    let pathBytes: [[UInt8]]
    /// Where a route value goes, and whether the answer holds for the rest of the pass (a parser keeps those
    /// per value, and asks again for the others); `record` is the whole record's JSON text (a new table's
    /// first records are kept to infer its schema from).
    package let decide: @Sendable (_ value: String, _ record: UnsafeBufferPointer<UInt8>) -> (Decision, cacheable: Bool)
    /// Called with each unroutable record (its place, reason and text); true stops the run (bad-record policy `fail`).
    package let unroutable: @Sendable (BadRecord) -> Bool

    package init(
        path: [String], decide: @escaping @Sendable (String, UnsafeBufferPointer<UInt8>) -> (Decision, cacheable: Bool),
        unroutable: @escaping @Sendable (BadRecord) -> Bool
    ) {
        self.path = path
        pathBytes = path.map { Array($0.utf8) }
        self.decide = decide
        self.unroutable = unroutable
    }

    package static func == (a: RouteFilter, b: RouteFilter) -> Bool { a === b }

    /// The route field's path as written in the job (`meta.type`).
    package var pathText: String { path.joined(separator: ".") }
}

extension JSONRecordParser {
    /// The route value of the record at `start`, and where the record ends: the field at `path` as text (a
    /// string's characters; a number's or boolean's literal); nil when the field is missing, null, an object
    /// or an array. Throws ``Stop/needMore`` when the buffer ends inside the record, ``Stop/syntax`` when it
    /// is not a JSON object.
    ///
    /// One walk over the record: the keys, colons and commas of the objects on the path are checked; other
    /// values are skipped by their brackets (as the parser skips a field the schema lacks). Every table's pass
    /// finds the same records in the same places: the pass that keeps a record ends it here too, whatever its
    /// parse finds.
    static func routeValue(_ b: UnsafeBufferPointer<UInt8>, from start: Int, path: [String]) throws(Stop) -> (value: String?, end: Int) {
        let (value, end) = try routeValueText(b, from: start, path: path.map { Array($0.utf8) })
        return (value.map { text(b, $0) }, end)
    }

    /// Where the route value's text is, and where the record ends; see ``routeValue(_:from:path:)``.
    static func routeValueText(_ b: UnsafeBufferPointer<UInt8>, from start: Int, path: [[UInt8]]) throws(Stop) -> (value: RouteValueText?, end: Int) {
        guard b[start] == UInt8(ascii: "{") else { throw .syntax("a record must be a JSON object", at: start) }
        var i = start
        let value = try scanObject(b, &i, path[...])
        return (value, i)
    }

    /// The place of a route value in the input: a string's characters without its quotes (`escaped` when
    /// they hold escapes), or a number's or boolean's literal.
    struct RouteValueText {
        var range: Range<Int>
        var escaped: Bool
    }

    /// The route value as text.
    static func text(_ b: UnsafeBufferPointer<UInt8>, _ value: RouteValueText) -> String {
        value.escaped ? unescapedString(b, value.range.lowerBound, value.range.upperBound) : String(decoding: UnsafeBufferPointer(rebasing: b[value.range]), as: UTF8.self)
    }

    /// Consumes the object at `i` (`i` ends past its `}`) and returns the scalar at `path` in it.
    private static func scanObject(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ path: ArraySlice<[UInt8]>) throws(Stop) -> RouteValueText? {
        let n = b.count
        i += 1
        skipBlank(b, &i)
        guard i < n else { throw .needMore }
        if b[i] == UInt8(ascii: "}") {
            i += 1
            return nil
        }
        var found: RouteValueText?
        while true {
            guard b[i] == UInt8(ascii: "\"") else { throw .syntax("expected a key in double quotes", at: i) }
            let keyStart = i + 1
            let (keyEnd, escaped, _) = try scanString(b, from: keyStart)
            var matches = false
            if found == nil, let key = path.first {
                matches = escaped
                    ? Array(unescapedString(b, keyStart, keyEnd).utf8) == key
                    : keyEnd - keyStart == key.count && key.withUnsafeBufferPointer { memcmp(b.baseAddress! + keyStart, $0.baseAddress!, $0.count) == 0 }
            }
            i = keyEnd + 1
            skipBlank(b, &i)
            guard i < n else { throw .needMore }
            guard b[i] == UInt8(ascii: ":") else { throw .syntax("expected ':' after a key", at: i) }
            i += 1
            skipBlank(b, &i)
            guard i < n else { throw .needMore }
            let valueStart = i
            if matches, path.count > 1, b[i] == UInt8(ascii: "{") {
                found = try scanObject(b, &i, path.dropFirst())
            } else {
                _ = try skipValue(b, &i)
                if matches, path.count == 1 {
                    switch b[valueStart] {
                    case UInt8(ascii: "\""):
                        let inner = (valueStart + 1)..<(i - 1)
                        found = RouteValueText(range: inner, escaped: UnsafeBufferPointer(rebasing: b[inner]).contains(UInt8(ascii: "\\")))
                    case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "n"): break
                    default: found = RouteValueText(range: valueStart..<i, escaped: false)
                    }
                }
            }
            skipBlank(b, &i)
            guard i < n else { throw .needMore }
            if b[i] == UInt8(ascii: ",") {
                i += 1
                skipBlank(b, &i)
                guard i < n else { throw .needMore }
                continue
            }
            guard b[i] == UInt8(ascii: "}") else { throw .syntax("expected ',' or '}' in an object", at: i) }
            i += 1
            return found
        }
    }

    private static func skipBlank(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) {
        while i < b.count, b[i] <= 0x20 { i += 1 }
    }
}
