import Foundation

/// Applies ``TableUpdate``s to table metadata, keeping the spec's invariants: ids assigned from the
/// table's counters, sequence numbers increasing, `main` and `current-snapshot-id` in step, and the
/// snapshot and metadata logs extended.
///
/// ```swift
/// var builder = TableMetadataBuilder(base: table.metadata)
/// try builder.apply(.setProperties(["owner": "ingest"]))
/// let next = builder.build(nowMillis: clock(), previousMetadataLocation: table.metadataLocation)
/// ```
public struct TableMetadataBuilder: Sendable {
    public private(set) var metadata: TableMetadata
    private var lastAddedSchemaID: Int?
    private var lastAddedSpecID: Int?
    private var lastAddedSortOrderID: Int?

    public init(base: TableMetadata) { self.metadata = base }

    /// Metadata of a new v2 table. Field ids are taken as given (they must be unique); the partition spec
    /// and sort order must refer to the schema's fields.
    public static func newTable(
        location: String, schema: Schema, spec: PartitionSpec = .unpartitioned, sortOrder: SortOrder = .unsorted,
        properties: [String: String] = [:], uuid: UUID = UUID(), nowMillis: Int64
    ) throws -> TableMetadata {
        var schema = schema
        schema.id = 0
        try schema.validate()
        var spec = spec
        spec.id = 0
        _ = try spec.partitionType(schema: schema)
        var order = sortOrder
        order.id = order.fields.isEmpty ? 0 : 1
        var properties = properties
        let formatVersion = properties.removeValue(forKey: "format-version").flatMap { Int($0) } ?? 2
        guard formatVersion == 2 else {
            throw IcebergError(.unsupported, "new tables are written as format version 2 (asked for \(formatVersion))")
        }
        return TableMetadata(
            formatVersion: 2, tableUUID: uuid, location: location.hasSuffix("/") ? String(location.dropLast()) : location,
            lastSequenceNumber: 0, lastUpdatedMillis: nowMillis, lastColumnID: schema.highestFieldID, schemas: [schema],
            currentSchemaID: 0, partitionSpecs: [spec], defaultSpecID: 0, lastPartitionID: spec.lastAssignedFieldID,
            properties: properties, sortOrders: order.id == 0 ? [.unsorted] : [.unsorted, order], defaultSortOrderID: order.id)
    }

    /// Applies one update. Throws `.invalidArgument` when the update is not valid for this table.
    public mutating func apply(_ update: TableUpdate) throws {
        func invalid(_ message: String) -> IcebergError { IcebergError(.invalidArgument, "\(update.action): \(message)") }
        switch update {
        case .assignUUID(let uuid):
            metadata.tableUUID = uuid
        case .upgradeFormatVersion(let version):
            guard version >= metadata.formatVersion, version <= 2 else {
                throw invalid("cannot move format version \(metadata.formatVersion) to \(version)")
            }
            metadata.formatVersion = version
        case .addSchema(var schema, let lastColumnID):
            try schema.validate()
            if let existing = metadata.schemas.first(where: { $0.fields == schema.fields && $0.identifierFieldIDs == schema.identifierFieldIDs }) {
                lastAddedSchemaID = existing.id
            } else {
                schema.id = (metadata.schemas.map(\.id).max() ?? -1) + 1
                metadata.schemas.append(schema)
                lastAddedSchemaID = schema.id
            }
            metadata.lastColumnID = max(metadata.lastColumnID, lastColumnID, schema.highestFieldID)
        case .setCurrentSchema(let id):
            let target = id == -1 ? lastAddedSchemaID : id
            guard let target, metadata.schema(id: target) != nil else { throw invalid("no schema \(id)") }
            metadata.currentSchemaID = target
        case .addSpec(var spec):
            _ = try spec.partitionType(schema: metadata.currentSchema)
            if let existing = metadata.partitionSpecs.first(where: { $0.fields == spec.fields }) {
                lastAddedSpecID = existing.id
            } else {
                spec.id = (metadata.partitionSpecs.map(\.id).max() ?? -1) + 1
                metadata.partitionSpecs.append(spec)
                lastAddedSpecID = spec.id
            }
            metadata.lastPartitionID = max(metadata.lastPartitionID, spec.lastAssignedFieldID)
        case .setDefaultSpec(let id):
            let target = id == -1 ? lastAddedSpecID : id
            guard let target, metadata.spec(id: target) != nil else { throw invalid("no partition spec \(id)") }
            metadata.defaultSpecID = target
        case .addSortOrder(var order):
            if let existing = metadata.sortOrders.first(where: { $0.fields == order.fields }) {
                lastAddedSortOrderID = existing.id
            } else {
                order.id = (metadata.sortOrders.map(\.id).max() ?? 0) + 1
                metadata.sortOrders.append(order)
                lastAddedSortOrderID = order.id
            }
        case .setDefaultSortOrder(let id):
            let target = id == -1 ? lastAddedSortOrderID : id
            guard let target, metadata.sortOrders.contains(where: { $0.id == target }) else { throw invalid("no sort order \(id)") }
            metadata.defaultSortOrderID = target
        case .addSnapshot(let snapshot):
            guard metadata.snapshot(id: snapshot.id) == nil else { throw invalid("snapshot \(snapshot.id) already exists") }
            if metadata.formatVersion >= 2 {
                guard snapshot.sequenceNumber > metadata.lastSequenceNumber else {
                    throw IcebergError(
                        .commitConflict,
                        "add-snapshot: sequence number \(snapshot.sequenceNumber) is not above the table's \(metadata.lastSequenceNumber)")
                }
                metadata.lastSequenceNumber = snapshot.sequenceNumber
            }
            metadata.snapshots.append(snapshot)
        case .setSnapshotRef(let name, let ref):
            guard let snapshot = metadata.snapshot(id: ref.snapshotID) else { throw invalid("no snapshot \(ref.snapshotID)") }
            metadata.refs[name] = ref
            if name == SnapshotRef.mainBranch {
                metadata.currentSnapshotID = ref.snapshotID
                metadata.snapshotLog.append(SnapshotLogEntry(snapshotID: ref.snapshotID, timestampMillis: snapshot.timestampMillis))
            }
        case .removeSnapshots(let ids):
            let removed = Set(ids)
            metadata.snapshots.removeAll { removed.contains($0.id) }
            metadata.refs = metadata.refs.filter { !removed.contains($0.value.snapshotID) }
            if let current = metadata.currentSnapshotID, removed.contains(current) { metadata.currentSnapshotID = nil }
            metadata.snapshotLog.removeAll { removed.contains($0.snapshotID) }
        case .removeSnapshotRef(let name):
            metadata.refs[name] = nil
            if name == SnapshotRef.mainBranch { metadata.currentSnapshotID = nil }
        case .setLocation(let location):
            metadata.location = location
        case .setProperties(let updates):
            metadata.properties.merge(updates) { _, new in new }
        case .removeProperties(let keys):
            for key in keys { metadata.properties[key] = nil }
        }
    }

    /// The new metadata: `last-updated-ms` set to `nowMillis`, and the metadata log extended with the file
    /// being replaced (bounded by `write.metadata.previous-versions-max`, default 100).
    public func build(nowMillis: Int64, previousMetadataLocation: String?, previousLastUpdatedMillis: Int64? = nil) -> TableMetadata {
        var result = metadata
        result.lastUpdatedMillis = max(nowMillis, metadata.snapshots.map(\.timestampMillis).max() ?? 0)
        if let previousMetadataLocation {
            result.metadataLog.append(
                MetadataLogEntry(metadataFile: previousMetadataLocation, timestampMillis: previousLastUpdatedMillis ?? metadata.lastUpdatedMillis))
            let keep = max(1, result.intProperty("write.metadata.previous-versions-max", default: 100))
            if result.metadataLog.count > keep { result.metadataLog.removeFirst(result.metadataLog.count - keep) }
        }
        return result
    }
}
