import Codecs
import IcebergCore

/// Writes each object's bad records to `<dead-letter location>/<object key, made safe>.bad.jsonl`: one JSON
/// object per record with the source, line, byte offset, field, kind, reason and the record as read. The
/// name is fixed per object, so a run repeated after a crash rewrites the same file.
///
/// An object key is data, never a path: ``safeRelativePath(forKey:)`` turns it into a path that stays inside
/// the dead-letter folder whatever the key holds (`..`, `.`, `//`, control characters, very long keys).
struct DeadLetters {
    let configuration: IngestConfiguration
    let table: Table

    var base: String { configuration.deadLetterLocation ?? table.metadata.location + "/dead-letter" }

    func write(_ objects: [PendingObject]) async throws {
        for item in objects where !item.report.deadLetters.isEmpty {
            try await table.io.write(location(forKey: item.object.key), bytes: Self.lines(item.report.deadLetters))
        }
    }

    /// One JSON object per record: source, line, byte offset, field, kind, reason and the record as read.
    static func lines(_ records: [BadRecord]) -> [UInt8] {
        var lines = ""
        for record in records {
            let fields: [(String, JSONValue)] = [
                ("source", .string(record.source)), ("line", .int(Int64(record.line))), ("byte_offset", .int(record.byteOffset)),
                ("field", record.field.map(JSONValue.string) ?? .null), ("kind", .string(record.kind.name)),
                ("reason", .string(record.reason)), ("record", .string(String(decoding: record.raw, as: UTF8.self))),
            ]
            lines += JSONValue.object(fields).serialized() + "\n"
        }
        return Array(lines.utf8)
    }

    func location(forKey key: String) -> String { base + "/" + Self.safeRelativePath(forKey: key) + ".bad.jsonl" }

    /// A relative path for `key` that cannot leave its folder and names each key once: every `/`-separated
    /// segment is percent-encoded (bytes other than letters, digits, `-`, `_`, `.`, `~` and non-ASCII UTF-8),
    /// `.` and `..` become `%2E` and `%2E%2E`, an empty segment (`//`) becomes `%`, and a segment past 200
    /// bytes is cut and ends with `~` and a hash of the whole segment (file names are at most 255 bytes).
    static func safeRelativePath(forKey key: String) -> String {
        key.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            if segment.isEmpty { return "%" }
            if segment == "." { return "%2E" }
            if segment == ".." { return "%2E%2E" }
            var out: [UInt8] = []
            for byte in segment.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), 0x80...0xff:
                    out.append(byte)
                default:
                    let hex = Array("0123456789ABCDEF".utf8)
                    out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
                }
            }
            if out.count > 200 {
                var cut = Array(out.prefix(200))
                // Never cut inside a UTF-8 sequence or an escape.
                while let last = cut.last, last >= 0x80 || cut.suffix(2).contains(UInt8(ascii: "%")) { cut.removeLast() }
                let hash = String(FNV1a64.hash(segment.utf8), radix: 16)
                out = cut + Array("~\(hash)".utf8)
            }
            return String(decoding: out, as: UTF8.self)
        }.joined(separator: "/")
    }
}

extension BadRecord.Kind {
    /// `malformed`, `type-mismatch`, `missing-required`, `unknown-field` or `damaged-object`, as dead-letter
    /// files and JSON output name it.
    public var name: String {
        switch self {
        case .malformed: "malformed"
        case .typeMismatch: "type-mismatch"
        case .missingRequired: "missing-required"
        case .unknownField: "unknown-field"
        case .damagedObject: "damaged-object"
        }
    }
}
