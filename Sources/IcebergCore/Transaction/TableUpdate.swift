import Foundation

/// One change to a table's metadata, named as in the Iceberg REST catalog spec (`TableUpdate`).
/// A commit is a list of updates plus the ``TableRequirement``s they assume.
public enum TableUpdate: Sendable, Equatable {
    case assignUUID(UUID)
    case upgradeFormatVersion(Int)
    /// Adds a schema; `lastColumnID` is the table's new last-column-id.
    case addSchema(Schema, lastColumnID: Int)
    /// -1 means the schema added last in this commit.
    case setCurrentSchema(Int)
    case addSpec(PartitionSpec)
    /// -1 means the spec added last in this commit.
    case setDefaultSpec(Int)
    case addSortOrder(SortOrder)
    case setDefaultSortOrder(Int)
    case addSnapshot(Snapshot)
    case setSnapshotRef(name: String, ref: SnapshotRef)
    case removeSnapshots([Int64])
    case removeSnapshotRef(String)
    case setLocation(String)
    case setProperties([String: String])
    case removeProperties([String])

    /// The REST spec's `action` name.
    public var action: String {
        switch self {
        case .assignUUID: "assign-uuid"
        case .upgradeFormatVersion: "upgrade-format-version"
        case .addSchema: "add-schema"
        case .setCurrentSchema: "set-current-schema"
        case .addSpec: "add-spec"
        case .setDefaultSpec: "set-default-spec"
        case .addSortOrder: "add-sort-order"
        case .setDefaultSortOrder: "set-default-sort-order"
        case .addSnapshot: "add-snapshot"
        case .setSnapshotRef: "set-snapshot-ref"
        case .removeSnapshots: "remove-snapshots"
        case .removeSnapshotRef: "remove-snapshot-ref"
        case .setLocation: "set-location"
        case .setProperties: "set-properties"
        case .removeProperties: "remove-properties"
        }
    }

    /// The update as the REST catalog's JSON.
    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [("action", .string(action))]
        switch self {
        case .assignUUID(let uuid): pairs.append(("uuid", .string(uuid.uuidString.lowercased())))
        case .upgradeFormatVersion(let v): pairs.append(("format-version", .int(Int64(v))))
        case .addSchema(let schema, let lastColumnID):
            pairs += [("schema", schema.json), ("last-column-id", .int(Int64(lastColumnID)))]
        case .setCurrentSchema(let id): pairs.append(("schema-id", .int(Int64(id))))
        case .addSpec(let spec): pairs.append(("spec", spec.json))
        case .setDefaultSpec(let id): pairs.append(("spec-id", .int(Int64(id))))
        case .addSortOrder(let order): pairs.append(("sort-order", order.json))
        case .setDefaultSortOrder(let id): pairs.append(("sort-order-id", .int(Int64(id))))
        case .addSnapshot(let snapshot): pairs.append(("snapshot", snapshot.json))
        case .setSnapshotRef(let name, let ref):
            pairs.append(("ref-name", .string(name)))
            if case .object(let refPairs) = ref.json { pairs += refPairs }
        case .removeSnapshots(let ids): pairs.append(("snapshot-ids", .array(ids.map { .int($0) })))
        case .removeSnapshotRef(let name): pairs.append(("ref-name", .string(name)))
        case .setLocation(let location): pairs.append(("location", .string(location)))
        case .setProperties(let updates): pairs.append(("updates", updates.jsonObject))
        case .removeProperties(let keys): pairs.append(("removals", .array(keys.map { .string($0) })))
        }
        return .object(pairs)
    }
}

/// A condition a commit assumes of the table's current metadata (REST catalog spec `TableRequirement`).
/// The catalog checks them against the metadata it is about to replace; any that fails is a conflict.
public enum TableRequirement: Sendable, Equatable {
    /// The table must not exist.
    case assertCreate
    case assertTableUUID(UUID)
    /// The ref must point at this snapshot (nil: the ref must not exist).
    case assertRefSnapshotID(ref: String, snapshotID: Int64?)
    case assertLastAssignedFieldID(Int)
    case assertCurrentSchemaID(Int)
    case assertLastAssignedPartitionID(Int)
    case assertDefaultSpecID(Int)
    case assertDefaultSortOrderID(Int)

    public var type: String {
        switch self {
        case .assertCreate: "assert-create"
        case .assertTableUUID: "assert-table-uuid"
        case .assertRefSnapshotID: "assert-ref-snapshot-id"
        case .assertLastAssignedFieldID: "assert-last-assigned-field-id"
        case .assertCurrentSchemaID: "assert-current-schema-id"
        case .assertLastAssignedPartitionID: "assert-last-assigned-partition-id"
        case .assertDefaultSpecID: "assert-default-spec-id"
        case .assertDefaultSortOrderID: "assert-default-sort-order-id"
        }
    }

    /// The requirement as the REST catalog's JSON.
    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [("type", .string(type))]
        switch self {
        case .assertCreate: break
        case .assertTableUUID(let uuid): pairs.append(("uuid", .string(uuid.uuidString.lowercased())))
        case .assertRefSnapshotID(let ref, let id): pairs += [("ref", .string(ref)), ("snapshot-id", id.map { .int($0) } ?? .null)]
        case .assertLastAssignedFieldID(let id): pairs.append(("last-assigned-field-id", .int(Int64(id))))
        case .assertCurrentSchemaID(let id): pairs.append(("current-schema-id", .int(Int64(id))))
        case .assertLastAssignedPartitionID(let id): pairs.append(("last-assigned-partition-id", .int(Int64(id))))
        case .assertDefaultSpecID(let id): pairs.append(("default-spec-id", .int(Int64(id))))
        case .assertDefaultSortOrderID(let id): pairs.append(("default-sort-order-id", .int(Int64(id))))
        }
        return .object(pairs)
    }

    /// Checks the requirement against `metadata` (nil: the table does not exist).
    /// Throws `.commitConflict` naming the table and what differs.
    public func check(_ metadata: TableMetadata?, table: String) throws {
        func conflict(_ what: String) -> IcebergError {
            IcebergError(.commitConflict, "commit to \(table) conflicts: \(what)")
        }
        if case .assertCreate = self {
            guard metadata == nil else { throw conflict("the table already exists") }
            return
        }
        guard let metadata else { throw IcebergError(.notFound, "table \(table) does not exist") }
        switch self {
        case .assertCreate: break
        case .assertTableUUID(let uuid):
            guard metadata.tableUUID == uuid else { throw conflict("table UUID is \(metadata.tableUUID), expected \(uuid)") }
        case .assertRefSnapshotID(let ref, let id):
            let actual = metadata.refs[ref]?.snapshotID
            guard actual == id else {
                throw conflict("branch '\(ref)' is at snapshot \(actual.map(String.init) ?? "none"), expected \(id.map(String.init) ?? "none")")
            }
        case .assertLastAssignedFieldID(let id):
            guard metadata.lastColumnID == id else { throw conflict("last-column-id is \(metadata.lastColumnID), expected \(id)") }
        case .assertCurrentSchemaID(let id):
            guard metadata.currentSchemaID == id else { throw conflict("current schema is \(metadata.currentSchemaID), expected \(id)") }
        case .assertLastAssignedPartitionID(let id):
            guard metadata.lastPartitionID == id else { throw conflict("last-partition-id is \(metadata.lastPartitionID), expected \(id)") }
        case .assertDefaultSpecID(let id):
            guard metadata.defaultSpecID == id else { throw conflict("default spec is \(metadata.defaultSpecID), expected \(id)") }
        case .assertDefaultSortOrderID(let id):
            guard metadata.defaultSortOrderID == id else { throw conflict("default sort order is \(metadata.defaultSortOrderID), expected \(id)") }
        }
    }
}
