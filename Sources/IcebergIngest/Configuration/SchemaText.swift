import Foundation
import IcebergCore

/// Short text forms of a schema and a partition spec, for configuration files and flags.
///
/// ```swift
/// let schema = try SchemaText.schema("id long not null, event_time timestamptz, tags list<string>, user struct<name string, age int>")
/// let spec = try SchemaText.partitionSpec("hour(event_time), bucket(16, id)", schema: schema)
/// ```
///
/// Columns are `name type [not null]`, separated by commas. Types are Iceberg's names (`long`,
/// `decimal(10,2)`, `fixed[16]`, `timestamptz` ...) and `struct<field type, ...>`, `list<type>`,
/// `map<key type, value type>`. Field ids are assigned in order from 1. Partition fields are `transform(column)`
/// with `identity`, `year`, `month`, `day`, `hour`, `bucket(n, column)`, `truncate(w, column)`, or a bare column
/// name for identity.
public enum SchemaText {
    /// Parses a column list. All of the text must be columns: anything after the last one (a missing comma, a
    /// `;`) is an error naming it and the character where it starts.
    public static func schema(_ text: String) throws -> Schema {
        var nextID = 1
        var parser = Parser(text: Array(text.unicodeScalars), source: text)
        let fields = try parser.fields(nextID: &nextID, until: nil)
        try parser.end()
        let schema = Schema(id: 0, fields: fields)
        try schema.validate()
        return schema
    }

    public static func partitionSpec(_ text: String, schema: Schema) throws -> PartitionSpec {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return .unpartitioned }
        var fields: [PartitionField] = []
        for part in splitTopLevel(trimmed) {
            let item = part.trimmingCharacters(in: .whitespaces)
            var transform = Transform.identity
            var column = item
            if let open = item.firstIndex(of: "("), item.hasSuffix(")") {
                let name = item[..<open].trimmingCharacters(in: .whitespaces).lowercased()
                let arguments = item[item.index(after: open)..<item.index(before: item.endIndex)].split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                switch (name, arguments.count) {
                case ("bucket", 2), ("truncate", 2):
                    guard let n = Int(arguments[0]), n > 0 else {
                        throw IngestError(.invalidConfiguration, "partition '\(item)': \(name) needs a positive number first, as \(name)(16, column)")
                    }
                    transform = try Transform(parsing: "\(name)[\(n)]")
                    column = arguments[1]
                case (_, 1):
                    do { transform = try Transform(parsing: name) } catch {
                        throw IngestError(.invalidConfiguration, "partition '\(item)': unknown transform '\(name)'")
                    }
                    column = arguments[0]
                default:
                    throw IngestError(.invalidConfiguration, "partition '\(item)' is not transform(column), bucket(n, column) or truncate(w, column)")
                }
            }
            guard let source = schema.field(named: column) else {
                throw IngestError(.invalidConfiguration, "partition '\(item)': the schema has no column '\(column)'")
            }
            guard let primitive = source.type.primitive, transform.canTransform(primitive) else {
                throw IngestError(.invalidConfiguration, "partition '\(item)': \(transform) cannot apply to column '\(column)' of type \(source.type)")
            }
            let suffix: String =
                switch transform {
                case .identity: ""
                case .bucket: "_bucket"
                case .truncate: "_trunc"
                case .year: "_year"
                case .month: "_month"
                case .day: "_day"
                case .hour: "_hour"
                case .void: "_null"
                }
            fields.append(PartitionField(sourceID: source.id, fieldID: PartitionSpec.firstFieldID + fields.count, name: column + suffix, transform: transform))
        }
        return PartitionSpec(id: 0, fields: fields)
    }

    /// Splits on commas outside `<>` and `()`.
    static func splitTopLevel(_ text: String) -> [String] {
        var parts: [String] = [], current = "", depth = 0
        for c in text {
            if c == "<" || c == "(" { depth += 1 }
            if c == ">" || c == ")" { depth -= 1 }
            if c == ",", depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty { parts.append(current) }
        return parts
    }

    private struct Parser {
        let text: [Unicode.Scalar]
        let source: String
        var i = 0

        func fail(_ why: String) -> IngestError {
            IngestError(.invalidConfiguration, "schema '\(source)', at character \(i + 1): \(why)")
        }

        mutating func space() { while i < text.count, text[i].properties.isWhitespace { i += 1 } }

        mutating func word() -> String {
            space()
            var out = ""
            while i < text.count, text[i].properties.isAlphabetic || text[i].properties.numericType != nil || text[i] == "_" || text[i] == "-" {
                out.unicodeScalars.append(text[i])
                i += 1
            }
            return out
        }

        mutating func expect(_ c: Unicode.Scalar) throws {
            space()
            guard i < text.count, text[i] == c else { throw fail("expected '\(c)'") }
            i += 1
        }

        mutating func peek(_ c: Unicode.Scalar) -> Bool {
            space()
            return i < text.count && text[i] == c
        }

        /// Throws unless only whitespace is left: text after the last column (a missing comma, a `;`) is an
        /// error naming it, not columns silently dropped.
        mutating func end() throws {
            space()
            guard i < text.count else { return }
            var rest = ""
            rest.unicodeScalars.append(contentsOf: text[i...])
            let shown = rest.count > 40 ? String(rest.prefix(40)) + "..." : rest
            throw fail("unexpected '\(shown)' after the last column (columns are separated by commas)")
        }

        /// `name type [not null], ...` up to `close` (or the end).
        mutating func fields(nextID: inout Int, until close: Unicode.Scalar?) throws -> [NestedField] {
            var fields: [NestedField] = []
            while true {
                space()
                if let close, peek(close) { break }
                if close == nil, i >= text.count { break }
                let name = word()
                guard !name.isEmpty else { throw fail("expected a column name") }
                if peek(":") { i += 1 }
                let id = nextID
                nextID += 1
                let type = try self.type(nextID: &nextID)
                var required = false
                let save = i
                if word().lowercased() == "not" {
                    guard word().lowercased() == "null" else { throw fail("expected 'not null'") }
                    required = true
                } else {
                    i = save
                }
                fields.append(NestedField(id: id, name: name, type: type, isRequired: required))
                if peek(",") { i += 1; continue }
                break
            }
            return fields
        }

        mutating func type(nextID: inout Int) throws -> IcebergType {
            let name = word().lowercased()
            switch name {
            case "struct":
                try expect("<")
                let fields = try self.fields(nextID: &nextID, until: ">")
                try expect(">")
                return .struct(StructType(fields))
            case "list", "array":
                try expect("<")
                let id = nextID
                nextID += 1
                let element = try type(nextID: &nextID)
                try expect(">")
                return .list(ListType(elementID: id, element: element, elementRequired: false))
            case "map":
                try expect("<")
                let keyID = nextID, valueID = nextID + 1
                nextID += 2
                let key = try type(nextID: &nextID)
                try expect(",")
                let value = try type(nextID: &nextID)
                try expect(">")
                return .map(MapType(keyID: keyID, key: key, valueID: valueID, value: value, valueRequired: false))
            case "decimal":
                try expect("(")
                let p = word()
                try expect(",")
                let s = word()
                try expect(")")
                return try IcebergType(parsing: "decimal(\(p),\(s))")
            case "fixed":
                try expect("[")
                let l = word()
                try expect("]")
                return try IcebergType(parsing: "fixed[\(l)]")
            case "":
                throw fail("expected a type")
            default:
                let aliases = ["bigint": "long", "integer": "int", "bool": "boolean", "varchar": "string", "text": "string", "real": "float", "timestamp_tz": "timestamptz"]
                do { return try IcebergType(parsing: aliases[name] ?? name) } catch { throw fail("unknown type '\(name)'") }
            }
        }
    }
}
