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
    /// Where a route value goes; `record` is the whole record's JSON text (a new table's first records are
    /// kept to infer its schema from).
    package let decide: @Sendable (_ value: String, _ record: UnsafeBufferPointer<UInt8>) -> Decision
    /// Called with each unroutable record (its place, reason and text); true stops the run (bad-record policy `fail`).
    package let unroutable: @Sendable (BadRecord) -> Bool

    package init(
        path: [String], decide: @escaping @Sendable (String, UnsafeBufferPointer<UInt8>) -> Decision,
        unroutable: @escaping @Sendable (BadRecord) -> Bool
    ) {
        self.path = path
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
    static func routeValue(_ b: UnsafeBufferPointer<UInt8>, from start: Int, path: [String]) throws(Stop) -> (value: String?, end: Int) {
        guard b[start] == UInt8(ascii: "{") else { throw .syntax("a record must be a JSON object", at: start) }
        var end = start
        _ = try skipValue(b, &end)
        return (try lookUp(UnsafeBufferPointer(rebasing: b[..<end]), start, path[...]), end)
    }

    /// The scalar at `path` inside the object at `start`; `b` ends with the record, whose brackets balance.
    private static func lookUp(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ path: ArraySlice<String>) throws(Stop) -> String? {
        guard let key = path.first, b[start] == UInt8(ascii: "{") else { return nil }
        var i = start + 1
        skipBlank(b, &i)
        guard i < b.count, b[i] != UInt8(ascii: "}") else { return nil }
        while true {
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw .syntax("expected a key in double quotes", at: i) }
            let keyStart = i + 1
            let (keyEnd, escaped) = try scanString(b, from: keyStart)
            let name = escaped ? unescapedString(b, keyStart, keyEnd) : String(decoding: UnsafeBufferPointer(rebasing: b[keyStart..<keyEnd]), as: UTF8.self)
            i = keyEnd + 1
            skipBlank(b, &i)
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw .syntax("expected ':' after a key", at: i) }
            i += 1
            skipBlank(b, &i)
            let valueStart = i
            do { _ = try skipValue(b, &i) } catch .needMore where i >= b.count - 1 {
                // A number ending the buffer (the record's last byte is its '}', so this is a bad record).
                throw .syntax("the record ends inside a value", at: i)
            }
            if name == key {
                return path.count > 1 ? try lookUp(UnsafeBufferPointer(rebasing: b[..<i]), valueStart, path.dropFirst()) : scalar(b, valueStart, i)
            }
            skipBlank(b, &i)
            guard i < b.count, b[i] == UInt8(ascii: ",") else { return nil }
            i += 1
            skipBlank(b, &i)
        }
    }

    private static func scalar(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String? {
        switch b[start] {
        case UInt8(ascii: "\""):
            let text = UnsafeBufferPointer(rebasing: b[(start + 1)..<(end - 1)])
            return text.contains(UInt8(ascii: "\\")) ? unescapedString(b, start + 1, end - 1) : String(decoding: text, as: UTF8.self)
        case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "n"): return nil
        default: return String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
        }
    }

    private static func skipBlank(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) {
        while i < b.count, b[i] <= 0x20 { i += 1 }
    }
}
