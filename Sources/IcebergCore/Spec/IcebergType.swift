import Foundation

/// An Iceberg data type (spec: "Schemas and Data Types"; JSON form: Appendix C).
///
/// ```swift
/// let type = try IcebergType(parsing: "decimal(9,2)")   // .primitive(.decimal(precision: 9, scale: 2))
/// print(IcebergType.primitive(.timestamptz))             // timestamptz
/// ```
public indirect enum IcebergType: Sendable, Hashable, CustomStringConvertible {
    case primitive(PrimitiveType)
    case `struct`(StructType)
    case list(ListType)
    case map(MapType)

    public var description: String {
        switch self {
        case .primitive(let p): p.description
        case .struct(let s): "struct<\(s.fields.map { "\($0.name): \($0.type)" }.joined(separator: ", "))>"
        case .list(let l): "list<\(l.element)>"
        case .map(let m): "map<\(m.key), \(m.value)>"
        }
    }

    /// The primitive type, if this is one.
    public var primitive: PrimitiveType? {
        if case .primitive(let p) = self { return p }
        return nil
    }

    /// Whether this is a struct, list or map.
    public var isNested: Bool { primitive == nil }
}

/// The primitive types of format version 2.
public enum PrimitiveType: Sendable, Hashable, CustomStringConvertible {
    case boolean, int, long, float, double
    case decimal(precision: Int, scale: Int)
    case date, time, timestamp, timestamptz
    case string, uuid
    case fixed(length: Int)
    case binary

    /// The JSON name, e.g. `decimal(9,2)`, `fixed[16]`.
    public var description: String {
        switch self {
        case .boolean: "boolean"
        case .int: "int"
        case .long: "long"
        case .float: "float"
        case .double: "double"
        case .decimal(let p, let s): "decimal(\(p),\(s))"
        case .date: "date"
        case .time: "time"
        case .timestamp: "timestamp"
        case .timestamptz: "timestamptz"
        case .string: "string"
        case .uuid: "uuid"
        case .fixed(let l): "fixed[\(l)]"
        case .binary: "binary"
        }
    }

    /// Parses a primitive type's JSON name. Throws `.invalidMetadata` naming the text.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch trimmed {
        case "boolean": self = .boolean
        case "int": self = .int
        case "long": self = .long
        case "float": self = .float
        case "double": self = .double
        case "date": self = .date
        case "time": self = .time
        case "timestamp": self = .timestamp
        case "timestamptz": self = .timestamptz
        case "string": self = .string
        case "uuid": self = .uuid
        case "binary": self = .binary
        default:
            if trimmed.hasPrefix("decimal("), trimmed.hasSuffix(")") {
                let parts = trimmed.dropFirst(8).dropLast().split(separator: ",").map {
                    Int($0.trimmingCharacters(in: .whitespaces))
                }
                if parts.count == 2, let p = parts[0], let s = parts[1], (1...38).contains(p), (0...p).contains(s) {
                    self = .decimal(precision: p, scale: s)
                    return
                }
            } else if trimmed.hasPrefix("fixed["), trimmed.hasSuffix("]"), let l = Int(trimmed.dropFirst(6).dropLast()), l > 0 {
                self = .fixed(length: l)
                return
            }
            throw IcebergError(.invalidMetadata, "unknown Iceberg type '\(text)'")
        }
    }

    /// Whether a column of this type may be changed to `target` without rewriting data
    /// (spec: "Schema Evolution", type promotion: int to long, float to double, decimal precision widening).
    public func canPromote(to target: PrimitiveType) -> Bool {
        switch (self, target) {
        case (let a, let b) where a == b: true
        case (.int, .long), (.float, .double): true
        case (.decimal(let p1, let s1), .decimal(let p2, let s2)): s1 == s2 && p2 >= p1
        default: false
        }
    }
}

extension IcebergType {
    /// Parses a primitive type name (nested types are JSON objects; see ``IcebergTypeJSON``).
    public init(parsing text: String) throws { self = .primitive(try PrimitiveType(parsing: text)) }
}

/// A field of a struct: id, name, type, required or optional, doc (spec: "Nested Types").
public struct NestedField: Sendable, Hashable {
    /// The field id, unique within the table's schemas.
    public var id: Int
    public var name: String
    public var type: IcebergType
    /// Required fields must have a value in every row.
    public var isRequired: Bool
    public var doc: String?

    public init(id: Int, name: String, type: IcebergType, isRequired: Bool = false, doc: String? = nil) {
        self.id = id
        self.name = name
        self.type = type
        self.isRequired = isRequired
        self.doc = doc
    }

    /// An optional field.
    public static func optional(_ id: Int, _ name: String, _ type: IcebergType, doc: String? = nil) -> NestedField {
        NestedField(id: id, name: name, type: type, isRequired: false, doc: doc)
    }

    /// A required field.
    public static func required(_ id: Int, _ name: String, _ type: IcebergType, doc: String? = nil) -> NestedField {
        NestedField(id: id, name: name, type: type, isRequired: true, doc: doc)
    }
}

/// A struct: an ordered list of fields.
public struct StructType: Sendable, Hashable {
    public var fields: [NestedField]
    public init(_ fields: [NestedField]) { self.fields = fields }
}

/// A list whose elements have their own field id (`element-id`).
public struct ListType: Sendable, Hashable {
    public var elementID: Int
    public var element: IcebergType
    public var elementRequired: Bool
    public init(elementID: Int, element: IcebergType, elementRequired: Bool) {
        self.elementID = elementID
        self.element = element
        self.elementRequired = elementRequired
    }
}

/// A map with field ids for its keys (`key-id`) and values (`value-id`); keys are always required.
public struct MapType: Sendable, Hashable {
    public var keyID: Int
    public var key: IcebergType
    public var valueID: Int
    public var value: IcebergType
    public var valueRequired: Bool
    public init(keyID: Int, key: IcebergType, valueID: Int, value: IcebergType, valueRequired: Bool) {
        self.keyID = keyID
        self.key = key
        self.valueID = valueID
        self.value = value
        self.valueRequired = valueRequired
    }
}
