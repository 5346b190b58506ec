/// How a table's rows are partitioned (spec: "Partitioning").
///
/// ```swift
/// let spec = PartitionSpec(id: 0, fields: [
///     PartitionField(sourceID: 2, fieldID: 1000, name: "event_time_hour", transform: .hour),
/// ])
/// let type = try spec.partitionType(schema: schema)   // struct<event_time_hour: int>
/// ```
public struct PartitionSpec: Sendable, Hashable {
    /// `spec-id`.
    public var id: Int
    public var fields: [PartitionField]

    public init(id: Int, fields: [PartitionField]) {
        self.id = id
        self.fields = fields
    }

    /// The unpartitioned spec.
    public static let unpartitioned = PartitionSpec(id: 0, fields: [])

    /// Partition field ids start at 1000 (spec: "partition field ids ... start at 1000").
    public static let firstFieldID = 1000

    public var isUnpartitioned: Bool { fields.allSatisfy { $0.transform == .void } }

    /// The highest partition field id, or 999 when there are none.
    public var lastAssignedFieldID: Int { fields.map(\.fieldID).max() ?? Self.firstFieldID - 1 }

    /// The struct type of the partition tuple (the `partition` field of `data_file`), checking that every
    /// source field exists in `schema` and can be transformed.
    public func partitionType(schema: Schema) throws -> StructType {
        let byID = schema.fieldsByID
        return StructType(try fields.map { field in
            guard let source = byID[field.sourceID] else {
                throw IcebergError(.invalidArgument, "partition field '\(field.name)': source field id \(field.sourceID) is not in schema \(schema.id)")
            }
            guard let type = source.type.primitive, field.transform.canTransform(type) else {
                throw IcebergError(.invalidArgument, "partition field '\(field.name)': \(field.transform) cannot apply to \(source.name) (\(source.type))")
            }
            return NestedField.optional(field.fieldID, field.name, .primitive(field.transform.resultType(type)))
        })
    }

    /// The partition path of a tuple, as Java and PyIceberg write it: `name=value/...`, URL-encoded.
    public func partitionPath(_ values: [Literal?]) -> String {
        zip(fields, values).map { field, value in
            "\(Self.escape(field.name))=\(Self.escape(field.transform.humanString(value)))"
        }.joined(separator: "/")
    }

    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.*")
        return (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text).replacingOccurrences(of: "%20", with: "+")
    }

    /// Whether two specs partition the same way (ids aside).
    public func isCompatible(with other: PartitionSpec) -> Bool {
        fields.map { [$0.sourceID, $0.fieldID] } == other.fields.map { [$0.sourceID, $0.fieldID] }
            && fields.map(\.transform) == other.fields.map(\.transform)
    }
}

/// One field of a partition spec.
public struct PartitionField: Sendable, Hashable {
    /// `source-id`: the schema field the value comes from.
    public var sourceID: Int
    /// `field-id`: the partition field's own id (1000 and up).
    public var fieldID: Int
    public var name: String
    public var transform: Transform

    public init(sourceID: Int, fieldID: Int, name: String, transform: Transform) {
        self.sourceID = sourceID
        self.fieldID = fieldID
        self.name = name
        self.transform = transform
    }
}

/// A sort order (spec: "Sorting"). Order id 0 is reserved for the unsorted order.
public struct SortOrder: Sendable, Hashable {
    public var id: Int
    public var fields: [SortField]

    public init(id: Int, fields: [SortField]) {
        self.id = id
        self.fields = fields
    }

    public static let unsorted = SortOrder(id: 0, fields: [])
}

/// One key of a sort order.
public struct SortField: Sendable, Hashable {
    public enum Direction: String, Sendable { case ascending = "asc", descending = "desc" }
    public enum NullOrder: String, Sendable { case nullsFirst = "nulls-first", nullsLast = "nulls-last" }

    public var sourceID: Int
    public var transform: Transform
    public var direction: Direction
    public var nullOrder: NullOrder

    public init(sourceID: Int, transform: Transform = .identity, direction: Direction = .ascending, nullOrder: NullOrder = .nullsFirst) {
        self.sourceID = sourceID
        self.transform = transform
        self.direction = direction
        self.nullOrder = nullOrder
    }
}

import Foundation
