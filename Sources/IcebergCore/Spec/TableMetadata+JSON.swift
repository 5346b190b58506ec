import Foundation

/// The table metadata file format (spec: "Table Metadata Fields"; Appendix C). Reads v1 and v2, writes v2.
extension TableMetadata {
    /// Parses a metadata file; `location` names it in errors.
    public init(json bytes: [UInt8], location: String) throws {
        try self.init(json: JSONReader(try JSONValue.parse(bytes, source: location), source: location))
    }

    /// Parses metadata that arrived as part of another JSON document (a REST catalog's `LoadTableResult`);
    /// `source` names it in errors.
    public init(json: JSONValue, source: String) throws {
        try self.init(json: JSONReader(json, source: source))
    }

    init(json: JSONReader) throws {
        let version = try json.required("format-version").int
        guard version == 1 || version == 2 else {
            throw json.error("format-version \(version) is not supported (1 and 2 are)")
        }
        let uuidText = try json.optional("table-uuid")?.string
        guard let uuid = uuidText.map({ UUID(uuidString: $0) }) ?? (version == 1 ? UUID() : nil) else {
            throw json.error(uuidText == nil ? "missing required field 'table-uuid'" : "table-uuid '\(uuidText!)' is not a UUID")
        }
        // Schemas: v2 has `schemas` + `current-schema-id`; v1 may have only `schema`.
        var schemas: [Schema]
        var currentSchemaID: Int
        if let list = try json.optional("schemas") {
            schemas = try list.array.map { try Schema(json: $0) }
            currentSchemaID = try json.optional("current-schema-id")?.int ?? schemas.first?.id ?? 0
        } else if version == 1, let single = try json.optional("schema") {
            let schema = try Schema(json: single)
            schemas = [schema]
            currentSchemaID = schema.id
        } else {
            throw json.error("missing required field 'schemas'")
        }
        guard schemas.contains(where: { $0.id == currentSchemaID }) else {
            throw json.error("current-schema-id \(currentSchemaID) names no schema")
        }
        // Partition specs: v2 has `partition-specs`; v1 may have only `partition-spec` (fields of spec 0).
        var specs: [PartitionSpec]
        if let list = try json.optional("partition-specs") {
            specs = try list.array.map(PartitionSpec.init(json:))
        } else if version == 1, let fields = try json.optional("partition-spec") {
            specs = [PartitionSpec(id: 0, fields: try Self.partitionFields(fields, v1StartID: PartitionSpec.firstFieldID))]
        } else {
            throw json.error("missing required field 'partition-specs'")
        }
        let defaultSpecID = try json.optional("default-spec-id")?.int ?? specs.first?.id ?? 0
        let lastPartitionID =
            try json.optional("last-partition-id")?.int
            ?? specs.map(\.lastAssignedFieldID).max() ?? PartitionSpec.firstFieldID - 1
        let sortOrders = try json.optional("sort-orders")?.array.map(SortOrder.init(json:)) ?? [.unsorted]
        var currentSnapshotID = try json.optional("current-snapshot-id")?.int64
        if currentSnapshotID == -1 { currentSnapshotID = nil }  // older writers use -1 for "none"
        let snapshots = try json.optional("snapshots")?.array.map(Snapshot.init(json:)) ?? []
        var refs: [String: SnapshotRef] = [:]
        if let refsJSON = try json.optional("refs") {
            for (name, ref) in try refsJSON.members { refs[name] = try SnapshotRef(json: ref) }
        }
        if refs[SnapshotRef.mainBranch] == nil, let currentSnapshotID {
            refs[SnapshotRef.mainBranch] = SnapshotRef(snapshotID: currentSnapshotID, kind: .branch)
        }
        self.init(
            formatVersion: version, tableUUID: uuid, location: try json.required("location").string,
            lastSequenceNumber: version == 1 ? 0 : try json.required("last-sequence-number").int64,
            lastUpdatedMillis: try json.required("last-updated-ms").int64,
            lastColumnID: try json.required("last-column-id").int, schemas: schemas, currentSchemaID: currentSchemaID,
            partitionSpecs: specs, defaultSpecID: defaultSpecID, lastPartitionID: lastPartitionID,
            properties: try json.optional("properties")?.stringMap ?? [:], currentSnapshotID: currentSnapshotID,
            snapshots: snapshots,
            snapshotLog: try json.optional("snapshot-log")?.array.map {
                SnapshotLogEntry(snapshotID: try $0.required("snapshot-id").int64, timestampMillis: try $0.required("timestamp-ms").int64)
            } ?? [],
            metadataLog: try json.optional("metadata-log")?.array.map {
                MetadataLogEntry(metadataFile: try $0.required("metadata-file").string, timestampMillis: try $0.required("timestamp-ms").int64)
            } ?? [],
            sortOrders: sortOrders,
            defaultSortOrderID: try json.optional("default-sort-order-id")?.int ?? sortOrders.first?.id ?? 0, refs: refs,
            statistics: try json.optional("statistics")?.array.map(\.value) ?? [],
            partitionStatistics: try json.optional("partition-statistics")?.array.map(\.value) ?? [])
        guard defaultSpec.id == defaultSpecID || specs.isEmpty else {
            throw json.error("default-spec-id \(defaultSpecID) names no partition spec")
        }
    }

    static func partitionFields(_ json: JSONReader, v1StartID: Int) throws -> [PartitionField] {
        try json.array.enumerated().map { index, field in
            PartitionField(
                sourceID: try field.required("source-id").int,
                fieldID: try field.optional("field-id")?.int ?? v1StartID + index,
                name: try field.required("name").string,
                transform: try Self.transform(field.required("transform")))
        }
    }

    static func transform(_ json: JSONReader) throws -> Transform {
        let text = try json.string
        do { return try Transform(parsing: text) } catch { throw json.error("unknown transform '\(text)'") }
    }

    /// The metadata as a v2 JSON document.
    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("format-version", .int(Int64(formatVersion))),
            ("table-uuid", .string(tableUUID.uuidString.lowercased())),
            ("location", .string(location)),
            ("last-sequence-number", .int(lastSequenceNumber)),
            ("last-updated-ms", .int(lastUpdatedMillis)),
            ("last-column-id", .int(Int64(lastColumnID))),
            ("current-schema-id", .int(Int64(currentSchemaID))),
            ("schemas", .array(schemas.map(\.json))),
            ("default-spec-id", .int(Int64(defaultSpecID))),
            ("partition-specs", .array(partitionSpecs.map(\.json))),
            ("last-partition-id", .int(Int64(lastPartitionID))),
            ("default-sort-order-id", .int(Int64(defaultSortOrderID))),
            ("sort-orders", .array(sortOrders.map(\.json))),
            ("properties", properties.jsonObject),
        ]
        if let currentSnapshotID { pairs.append(("current-snapshot-id", .int(currentSnapshotID))) }
        pairs.append(("refs", .object(refs.sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) })))
        pairs.append(("snapshots", .array(snapshots.map(\.json))))
        pairs.append(("statistics", .array(statistics)))
        pairs.append(("partition-statistics", .array(partitionStatistics)))
        pairs.append((
            "snapshot-log",
            .array(snapshotLog.map { .object([("snapshot-id", .int($0.snapshotID)), ("timestamp-ms", .int($0.timestampMillis))]) })
        ))
        pairs.append((
            "metadata-log",
            .array(metadataLog.map { .object([("metadata-file", .string($0.metadataFile)), ("timestamp-ms", .int($0.timestampMillis))]) })
        ))
        return .object(pairs)
    }

    /// The metadata file's text (v2, indented).
    public func jsonText() -> String { json.serialized(pretty: true) }
}

extension PartitionSpec {
    var json: JSONValue {
        .object([
            ("spec-id", .int(Int64(id))),
            ("fields", .array(fields.map {
                .object([
                    ("source-id", .int(Int64($0.sourceID))), ("field-id", .int(Int64($0.fieldID))),
                    ("name", .string($0.name)), ("transform", .string($0.transform.description)),
                ])
            })),
        ])
    }

    init(json: JSONReader) throws {
        self.init(
            id: try json.required("spec-id").int,
            fields: try TableMetadata.partitionFields(json.required("fields"), v1StartID: PartitionSpec.firstFieldID))
    }

    /// Parses a partition spec JSON object.
    public init(json: JSONValue, source: String = "partition spec") throws {
        try self.init(json: JSONReader(json, source: source))
    }

    /// The spec's JSON object.
    public var jsonValue: JSONValue { json }
}

extension SortOrder {
    /// The sort order's JSON object (`order-id` and `fields`).
    public var jsonValue: JSONValue { json }

    var json: JSONValue {
        .object([
            ("order-id", .int(Int64(id))),
            ("fields", .array(fields.map {
                .object([
                    ("transform", .string($0.transform.description)), ("source-id", .int(Int64($0.sourceID))),
                    ("direction", .string($0.direction.rawValue)), ("null-order", .string($0.nullOrder.rawValue)),
                ])
            })),
        ])
    }

    init(json: JSONReader) throws {
        self.init(
            id: try json.required("order-id").int,
            fields: try json.required("fields").array.map { field in
                let directionText = try field.required("direction").string, nullText = try field.required("null-order").string
                guard let direction = SortField.Direction(rawValue: directionText) else {
                    throw field.error("unknown sort direction '\(directionText)'")
                }
                guard let nullOrder = SortField.NullOrder(rawValue: nullText) else {
                    throw field.error("unknown null order '\(nullText)'")
                }
                return SortField(
                    sourceID: try field.required("source-id").int, transform: try TableMetadata.transform(field.required("transform")),
                    direction: direction, nullOrder: nullOrder)
            })
    }
}

extension Snapshot {
    var json: JSONValue {
        var pairs: [(String, JSONValue)] = [("snapshot-id", .int(id))]
        if let parentID { pairs.append(("parent-snapshot-id", .int(parentID))) }
        pairs += [
            ("sequence-number", .int(sequenceNumber)), ("timestamp-ms", .int(timestampMillis)),
            ("manifest-list", .string(manifestList)), ("summary", summary.jsonObject),
        ]
        if let schemaID { pairs.append(("schema-id", .int(Int64(schemaID)))) }
        return .object(pairs)
    }

    init(json: JSONReader) throws {
        guard let manifestList = try json.optional("manifest-list")?.string else {
            if try json.optional("manifests") != nil {
                throw IcebergError(.unsupported, "\(json.source): \(json.path): v1 snapshots with an inline 'manifests' list are not supported")
            }
            throw json.error("missing required field 'manifest-list'")
        }
        var summary = try json.optional("summary")?.stringMap ?? [:]
        if summary["operation"] == nil { summary["operation"] = "append" }
        self.init(
            id: try json.required("snapshot-id").int64, parentID: try json.optional("parent-snapshot-id")?.int64,
            sequenceNumber: try json.optional("sequence-number")?.int64 ?? 0,
            timestampMillis: try json.required("timestamp-ms").int64, manifestList: manifestList, summary: summary,
            schemaID: try json.optional("schema-id")?.int)
    }
}

extension SnapshotRef {
    var json: JSONValue {
        var pairs: [(String, JSONValue)] = [("snapshot-id", .int(snapshotID)), ("type", .string(kind.rawValue))]
        if let minSnapshotsToKeep { pairs.append(("min-snapshots-to-keep", .int(Int64(minSnapshotsToKeep)))) }
        if let maxSnapshotAgeMillis { pairs.append(("max-snapshot-age-ms", .int(maxSnapshotAgeMillis))) }
        if let maxRefAgeMillis { pairs.append(("max-ref-age-ms", .int(maxRefAgeMillis))) }
        return .object(pairs)
    }

    init(json: JSONReader) throws {
        let kindText = try json.required("type").string
        guard let kind = Kind(rawValue: kindText) else { throw json.error("unknown ref type '\(kindText)'") }
        self.init(
            snapshotID: try json.required("snapshot-id").int64, kind: kind,
            minSnapshotsToKeep: try json.optional("min-snapshots-to-keep")?.int,
            maxSnapshotAgeMillis: try json.optional("max-snapshot-age-ms")?.int64,
            maxRefAgeMillis: try json.optional("max-ref-age-ms")?.int64)
    }
}
