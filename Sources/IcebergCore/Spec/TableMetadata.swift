import Foundation

/// The state of a table as one metadata file holds it (spec: "Table Metadata").
///
/// ```swift
/// let metadata = try TableMetadata(json: bytes, location: "s3://wh/db/t/metadata/00003-....metadata.json")
/// metadata.currentSchema.fields.map(\.name)
/// metadata.currentSnapshot?.summary["total-records"]
/// let text = metadata.jsonText()   // v2 JSON
/// ```
public struct TableMetadata: Sendable, Equatable {
    /// `format-version`: 1 or 2 (tables are written as 2).
    public var formatVersion: Int
    public var tableUUID: UUID
    /// The table's base location.
    public var location: String
    public var lastSequenceNumber: Int64
    public var lastUpdatedMillis: Int64
    /// `last-column-id`: the highest field id ever assigned.
    public var lastColumnID: Int
    public var schemas: [Schema]
    public var currentSchemaID: Int
    public var partitionSpecs: [PartitionSpec]
    public var defaultSpecID: Int
    /// `last-partition-id`: the highest partition field id ever assigned.
    public var lastPartitionID: Int
    public var properties: [String: String]
    public var currentSnapshotID: Int64?
    public var snapshots: [Snapshot]
    public var snapshotLog: [SnapshotLogEntry]
    public var metadataLog: [MetadataLogEntry]
    public var sortOrders: [SortOrder]
    public var defaultSortOrderID: Int
    public var refs: [String: SnapshotRef]
    /// `statistics` and `partition-statistics`, kept as they were read.
    public var statistics: [JSONValue]
    public var partitionStatistics: [JSONValue]

    public init(
        formatVersion: Int = 2, tableUUID: UUID, location: String, lastSequenceNumber: Int64 = 0,
        lastUpdatedMillis: Int64, lastColumnID: Int, schemas: [Schema], currentSchemaID: Int,
        partitionSpecs: [PartitionSpec], defaultSpecID: Int, lastPartitionID: Int, properties: [String: String] = [:],
        currentSnapshotID: Int64? = nil, snapshots: [Snapshot] = [], snapshotLog: [SnapshotLogEntry] = [],
        metadataLog: [MetadataLogEntry] = [], sortOrders: [SortOrder] = [.unsorted], defaultSortOrderID: Int = 0,
        refs: [String: SnapshotRef] = [:], statistics: [JSONValue] = [], partitionStatistics: [JSONValue] = []
    ) {
        self.formatVersion = formatVersion
        self.tableUUID = tableUUID
        self.location = location
        self.lastSequenceNumber = lastSequenceNumber
        self.lastUpdatedMillis = lastUpdatedMillis
        self.lastColumnID = lastColumnID
        self.schemas = schemas
        self.currentSchemaID = currentSchemaID
        self.partitionSpecs = partitionSpecs
        self.defaultSpecID = defaultSpecID
        self.lastPartitionID = lastPartitionID
        self.properties = properties
        self.currentSnapshotID = currentSnapshotID
        self.snapshots = snapshots
        self.snapshotLog = snapshotLog
        self.metadataLog = metadataLog
        self.sortOrders = sortOrders
        self.defaultSortOrderID = defaultSortOrderID
        self.refs = refs
        self.statistics = statistics
        self.partitionStatistics = partitionStatistics
    }

    /// The current schema.
    public var currentSchema: Schema {
        schemas.first { $0.id == currentSchemaID } ?? schemas[schemas.count - 1]
    }

    /// The default partition spec.
    public var defaultSpec: PartitionSpec {
        partitionSpecs.first { $0.id == defaultSpecID } ?? .unpartitioned
    }

    /// The current snapshot (of the main branch), if any.
    public var currentSnapshot: Snapshot? { currentSnapshotID.flatMap(snapshot(id:)) }

    public func snapshot(id: Int64) -> Snapshot? { snapshots.first { $0.id == id } }

    public func schema(id: Int) -> Schema? { schemas.first { $0.id == id } }

    public func spec(id: Int) -> PartitionSpec? { partitionSpecs.first { $0.id == id } }

    /// The snapshots from `snapshotID` (default: current) back through its parents, newest first.
    public func ancestors(of snapshotID: Int64? = nil) -> [Snapshot] {
        var result: [Snapshot] = []
        var next = snapshotID ?? currentSnapshotID
        var seen = Set<Int64>()
        while let id = next, seen.insert(id).inserted, let snapshot = snapshot(id: id) {
            result.append(snapshot)
            next = snapshot.parentID
        }
        return result
    }

    /// A table property as an integer, or `defaultValue`.
    public func intProperty(_ key: String, default defaultValue: Int) -> Int {
        properties[key].flatMap { Int($0) } ?? defaultValue
    }
}
