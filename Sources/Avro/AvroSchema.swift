/// An Avro schema (Avro 1.11 specification, "Schema Declaration"), with the extra properties Iceberg
/// relies on (`field-id`, `element-id`, `key-id`, `value-id`, `logicalType`, `adjust-to-utc`) kept.
///
/// ```swift
/// let entry = AvroSchema.record(AvroRecord(name: "r2", fields: [
///     AvroField(name: "file_path", type: .string, properties: ["field-id": .int(100)]),
///     AvroField(name: "record_count", type: .long, properties: ["field-id": .int(103)]),
/// ]))
/// let text = entry.jsonText   // {"type":"record","name":"r2","fields":[...]}
/// ```
package indirect enum AvroSchema: Sendable, Equatable {
    case null, boolean, int, long, float, double, bytes, string
    case record(AvroRecord)
    case enumeration(name: String, symbols: [String])
    case array(items: AvroSchema, properties: AvroProperties)
    case map(values: AvroSchema, properties: AvroProperties)
    case union([AvroSchema])
    case fixed(name: String, size: Int, properties: AvroProperties)
    /// A primitive with properties such as `logicalType` (`{"type":"int","logicalType":"date"}`).
    case annotated(AvroSchema, properties: AvroProperties)

    /// The schema without a wrapping annotation.
    package var base: AvroSchema {
        if case .annotated(let inner, _) = self { return inner.base }
        return self
    }

    /// `["null", type]`, the way Iceberg writes optional fields.
    package static func optional(_ type: AvroSchema) -> AvroSchema { .union([.null, type]) }

    /// The index of the null branch of a union, if any.
    package var nullBranch: Int? {
        if case .union(let branches) = base { return branches.firstIndex { $0.base == .null } }
        return nil
    }
}

/// A record schema.
package struct AvroRecord: Sendable, Equatable {
    package var name: String
    package var namespace: String?
    package var fields: [AvroField]
    package var properties: AvroProperties

    package init(name: String, namespace: String? = nil, fields: [AvroField], properties: AvroProperties = [:]) {
        self.name = name
        self.namespace = namespace
        self.fields = fields
        self.properties = properties
    }

    /// The index of the field named `name`.
    package func index(of name: String) -> Int? { fields.firstIndex { $0.name == name } }
}

/// A field of a record.
package struct AvroField: Sendable, Equatable {
    package var name: String
    package var type: AvroSchema
    package var doc: String?
    /// The default, as JSON text (`null`, `0`, `"x"`), used when reading data written without this field.
    package var defaultJSON: String?
    package var properties: AvroProperties

    package init(name: String, type: AvroSchema, doc: String? = nil, defaultJSON: String? = nil, properties: AvroProperties = [:]) {
        self.name = name
        self.type = type
        self.doc = doc
        self.defaultJSON = defaultJSON
        self.properties = properties
    }

    /// Iceberg's `field-id` property.
    package var fieldID: Int? {
        if case .int(let id)? = properties["field-id"] { return Int(id) }
        return nil
    }
}

/// Extra schema properties: JSON scalars (what Iceberg and logical types use).
package typealias AvroProperties = [String: AvroPropertyValue]

package enum AvroPropertyValue: Sendable, Equatable {
    case int(Int64)
    case string(String)
    case bool(Bool)

    var json: String {
        switch self {
        case .int(let i): String(i)
        case .string(let s): AvroSchema.quote(s)
        case .bool(let b): b ? "true" : "false"
        }
    }
}

// MARK: JSON

extension AvroSchema {
    /// The schema's JSON text, properties in sorted order (stable output).
    package var jsonText: String {
        var named = Set<String>()
        return json(&named)
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count) + String(c.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func props(_ properties: AvroProperties) -> String {
        properties.keys.sorted().map { ",\(quote($0)):\(properties[$0]!.json)" }.joined()
    }

    private func json(_ named: inout Set<String>) -> String {
        switch self {
        case .null: return "\"null\""
        case .boolean: return "\"boolean\""
        case .int: return "\"int\""
        case .long: return "\"long\""
        case .float: return "\"float\""
        case .double: return "\"double\""
        case .bytes: return "\"bytes\""
        case .string: return "\"string\""
        case .record(let r):
            let fullName = r.namespace.map { "\($0).\(r.name)" } ?? r.name
            if named.contains(fullName) { return Self.quote(fullName) }
            named.insert(fullName)
            var text = "{\"type\":\"record\",\"name\":\(Self.quote(r.name))"
            if let ns = r.namespace { text += ",\"namespace\":\(Self.quote(ns))" }
            text += ",\"fields\":["
            text += r.fields.map { field -> String in
                var f = "{\"name\":\(Self.quote(field.name)),\"type\":\(field.type.json(&named))"
                if let doc = field.doc { f += ",\"doc\":\(Self.quote(doc))" }
                if let d = field.defaultJSON { f += ",\"default\":\(d)" }
                return f + Self.props(field.properties) + "}"
            }.joined(separator: ",")
            return text + "]" + Self.props(r.properties) + "}"
        case .enumeration(let name, let symbols):
            if named.contains(name) { return Self.quote(name) }
            named.insert(name)
            return "{\"type\":\"enum\",\"name\":\(Self.quote(name)),\"symbols\":[\(symbols.map(Self.quote).joined(separator: ","))]}"
        case .array(let items, let p):
            return "{\"type\":\"array\",\"items\":\(items.json(&named))\(Self.props(p))}"
        case .map(let values, let p):
            return "{\"type\":\"map\",\"values\":\(values.json(&named))\(Self.props(p))}"
        case .union(let branches):
            return "[" + branches.map { $0.json(&named) }.joined(separator: ",") + "]"
        case .fixed(let name, let size, let p):
            if named.contains(name) { return Self.quote(name) }
            named.insert(name)
            return "{\"type\":\"fixed\",\"name\":\(Self.quote(name)),\"size\":\(size)\(Self.props(p))}"
        case .annotated(let inner, let p):
            let innerText = inner.json(&named)
            // A primitive's JSON is a quoted name; annotate it as an object.
            if innerText.hasPrefix("\"") { return "{\"type\":\(innerText)\(Self.props(p))}" }
            return innerText
        }
    }
}
