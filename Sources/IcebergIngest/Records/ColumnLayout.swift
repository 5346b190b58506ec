import IcebergCore
import Parquet

/// How an Iceberg schema lands in Parquet and in the column builders: the Parquet tree with field ids
/// (Iceberg spec, Appendix A), the leaf columns with their levels, and which leaves each top-level field owns.
///
/// ```swift
/// let layout = try ColumnLayout(schema: schema)
/// layout.topLevel[2].name        // "tags"
/// layout.topLevel[2].leaves      // 3..<4 (the list's element column)
/// ```
package struct ColumnLayout: Sendable {
    /// One top-level field of the schema.
    package struct TopField: Sendable {
        package var field: NestedField
        /// The field's name as UTF-8, compared against input keys.
        package var nameBytes: [UInt8]
        /// Indexes into ``ColumnLayout/leaves`` of the leaf columns under this field.
        package var leaves: Range<Int>
        package var name: String { field.name }
        package var isPrimitive: Bool { field.type.primitive != nil }
    }

    /// A leaf column: its Iceberg type, its Parquet levels and its dotted path for messages.
    package struct Leaf: Sendable {
        package var type: PrimitiveType
        package var fieldID: Int
        package var path: String
        package var maxDefinition: Int
        package var maxRepetition: Int
        package var storage: LeafStorageKind
    }

    package let schema: Schema
    package let parquetSchema: ParquetSchema
    package let leaves: [Leaf]
    package let topLevel: [TopField]

    package init(schema: Schema) throws {
        self.schema = schema
        var nodes: [ParquetNode] = []
        var primitives: [PrimitiveType] = []
        var top: [TopField] = []
        for field in schema.fields {
            let first = primitives.count
            nodes.append(try Self.node(name: field.name, id: field.id, type: field.type, required: field.isRequired, primitives: &primitives))
            top.append(TopField(field: field, nameBytes: Array(field.name.utf8), leaves: first..<primitives.count))
        }
        parquetSchema = ParquetSchema(nodes: nodes)
        precondition(parquetSchema.leaves.count == primitives.count)
        leaves = zip(parquetSchema.leaves, primitives).map { leaf, type in
            Leaf(
                type: type, fieldID: leaf.column.fieldID, path: leaf.path.filter { $0 != "list" && $0 != "key_value" }.joined(separator: "."),
                maxDefinition: leaf.maxDefinitionLevel, maxRepetition: leaf.maxRepetitionLevel, storage: LeafStorageKind(type))
        }
        topLevel = top
    }

    /// The Parquet node of a field, collecting its leaves' primitive types in schema order.
    private static func node(name: String, id: Int, type: IcebergType, required: Bool, primitives: inout [PrimitiveType]) throws -> ParquetNode {
        switch type {
        case .primitive(let p):
            primitives.append(p)
            return .primitive(ParquetColumn(name: name, fieldID: id, type: parquetType(p), isRequired: required))
        case .struct(let s):
            let children = try s.fields.map { try node(name: $0.name, id: $0.id, type: $0.type, required: $0.isRequired, primitives: &primitives) }
            guard !children.isEmpty else { throw IngestError(.invalidConfiguration, "struct field '\(name)' has no fields; Parquet cannot store it") }
            return .group(name: name, fieldID: id, isRequired: required, children: children)
        case .list(let l):
            let element = try node(name: "element", id: l.elementID, type: l.element, required: l.elementRequired, primitives: &primitives)
            return .list(name: name, fieldID: id, isRequired: required, element: element)
        case .map(let m):
            let key = try node(name: "key", id: m.keyID, type: m.key, required: true, primitives: &primitives)
            let value = try node(name: "value", id: m.valueID, type: m.value, required: m.valueRequired, primitives: &primitives)
            return .map(name: name, fieldID: id, isRequired: required, key: key, value: value)
        }
    }

    /// The Parquet representation of an Iceberg primitive.
    package static func parquetType(_ type: PrimitiveType) -> ParquetValueType {
        switch type {
        case .boolean: .boolean
        case .int: .int
        case .long: .long
        case .float: .float
        case .double: .double
        case .decimal(let p, let s): .decimal(precision: p, scale: s)
        case .date: .date
        case .time: .time
        case .timestamp: .timestamp(adjustedToUTC: false)
        case .timestamptz: .timestamp(adjustedToUTC: true)
        case .string: .string
        case .uuid: .uuid
        case .fixed(let l): .fixed(l)
        case .binary: .binary
        }
    }
}

/// Which typed array holds a leaf's values (Parquet's physical types).
package enum LeafStorageKind: Sendable, Equatable {
    case boolean, int32, int64, float, double, bytes

    init(_ type: PrimitiveType) {
        switch type {
        case .boolean: self = .boolean
        case .int, .date: self = .int32
        case .long, .time, .timestamp, .timestamptz: self = .int64
        case .decimal(let p, _): self = p <= 9 ? .int32 : (p <= 18 ? .int64 : .bytes)
        case .float: self = .float
        case .double: self = .double
        case .string, .uuid, .fixed, .binary: self = .bytes
        }
    }
}
