import IcebergCore

/// The Glue table and database records, as Iceberg's Java `GlueCatalog` and PyIceberg's `GlueCatalog` write them.
extension GlueCatalog {
    /// Glue table parameters (`Parameters`) that Iceberg readers look for.
    enum Parameter {
        static let tableType = "table_type"
        static let iceberg = "ICEBERG"
        static let metadataLocation = "metadata_location"
        static let previousMetadataLocation = "previous_metadata_location"
    }

    /// `TableInput` for CreateTable and UpdateTable: an `EXTERNAL_TABLE` whose parameters keep what the table
    /// had (`existing`) and set `table_type=ICEBERG`, `metadata_location` and, on update,
    /// `previous_metadata_location`; the storage descriptor holds the location and the columns (those of the
    /// current schema, then the dropped ones of older schemas, each with its Iceberg field id, whether it is
    /// optional and whether it is current).
    static func tableInput(
        name: String, metadata: TableMetadata, metadataLocation: String, previousMetadataLocation: String?, existing: [String: String]
    ) -> JSONValue {
        var parameters = existing
        parameters[Parameter.tableType] = Parameter.iceberg
        parameters[Parameter.metadataLocation] = metadataLocation
        if let previousMetadataLocation { parameters[Parameter.previousMetadataLocation] = previousMetadataLocation }
        var members: [(String, JSONValue)] = [
            ("Name", .string(name)),
            ("TableType", .string("EXTERNAL_TABLE")),
            ("Parameters", .object(parameters.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("StorageDescriptor", .object([("Columns", .array(columns(metadata))), ("Location", .string(metadata.location))])),
        ]
        if let comment = metadata.properties["comment"] { members.append(("Description", .string(comment))) }
        return .object(members)
    }

    static func columns(_ metadata: TableMetadata) -> [JSONValue] {
        var seen = Set<String>()
        var result: [JSONValue] = []
        func add(_ field: NestedField, current: Bool) {
            guard seen.insert(field.name).inserted else { return }
            var column: [(String, JSONValue)] = [
                ("Name", .string(field.name)),
                ("Type", .string(glueType(field.type))),
                ("Parameters", .object([
                    ("iceberg.field.id", .string(String(field.id))),
                    ("iceberg.field.optional", .string(field.isRequired ? "false" : "true")),
                    ("iceberg.field.current", .string(current ? "true" : "false")),
                ])),
            ]
            if let doc = field.doc { column.append(("Comment", .string(doc))) }
            result.append(.object(column))
        }
        for field in metadata.currentSchema.fields { add(field, current: true) }
        for schema in metadata.schemas where schema.id != metadata.currentSchemaID {
            for field in schema.fields { add(field, current: false) }
        }
        return result
    }

    /// The Hive type name Glue shows (and Athena reads) for an Iceberg type.
    static func glueType(_ type: IcebergType) -> String {
        switch type {
        case .primitive(let primitive):
            switch primitive {
            case .boolean: "boolean"
            case .int: "int"
            case .long: "bigint"
            case .float: "float"
            case .double: "double"
            case .decimal(let precision, let scale): "decimal(\(precision),\(scale))"
            case .date: "date"
            case .time, .string, .uuid: "string"
            case .timestamp, .timestamptz: "timestamp"
            case .fixed, .binary: "binary"
            }
        case .struct(let structType): "struct<\(structType.fields.map { "\($0.name):\(glueType($0.type))" }.joined(separator: ","))>"
        case .list(let list): "array<\(glueType(list.element))>"
        case .map(let map): "map<\(glueType(map.key)),\(glueType(map.value))>"
        }
    }

    /// `DatabaseInput` for CreateDatabase: `location` becomes `LocationUri`, `Description` the description,
    /// the rest `Parameters` (as PyIceberg does).
    static func databaseInput(name: String, properties: [String: String]) -> JSONValue {
        var members: [(String, JSONValue)] = [("Name", .string(name))]
        var parameters: [(String, JSONValue)] = []
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "location": members.append(("LocationUri", .string(value)))
            case "Description": members.append(("Description", .string(value)))
            default: parameters.append((key, .string(value)))
            }
        }
        members.append(("Parameters", .object(parameters)))
        return .object(members)
    }
}
