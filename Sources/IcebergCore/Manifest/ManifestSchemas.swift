import Avro

/// The Avro schemas of manifests and manifest lists, format version 2, with the spec's field ids
/// (spec: "Manifests" and "Manifest Lists"). Declared once: writers and readers use these.
enum ManifestSchemas {
    static func id(_ id: Int) -> AvroProperties { ["field-id": .int(Int64(id))] }

    /// An int-keyed map the way Iceberg writes it: an array of key/value records with logicalType map.
    static func intMap(_ fieldID: Int, _ name: String, keyID: Int, valueID: Int, value: AvroSchema) -> AvroField {
        AvroField(
            name: name,
            type: .optional(.array(
                items: .record(AvroRecord(name: "k\(keyID)_v\(valueID)", fields: [
                    AvroField(name: "key", type: .int, properties: id(keyID)),
                    AvroField(name: "value", type: value, properties: id(valueID)),
                ])), properties: ["logicalType": .string("map")])),
            defaultJSON: "null", properties: id(fieldID))
    }

    /// `data_file` (field id 2) for a partition struct.
    static func dataFile(partition: StructType) -> AvroSchema {
        let partitionFields = partition.fields.map { field in
            AvroField(
                name: field.name, type: .optional(AvroMapping.avroType(field.type.primitive ?? .string)), defaultJSON: "null",
                properties: id(field.id))
        }
        return .record(AvroRecord(name: "r2", fields: [
            AvroField(name: "content", type: .int, properties: id(134)),
            AvroField(name: "file_path", type: .string, properties: id(100)),
            AvroField(name: "file_format", type: .string, properties: id(101)),
            AvroField(name: "partition", type: .record(AvroRecord(name: "r102", fields: partitionFields)), properties: id(102)),
            AvroField(name: "record_count", type: .long, properties: id(103)),
            AvroField(name: "file_size_in_bytes", type: .long, properties: id(104)),
            intMap(108, "column_sizes", keyID: 117, valueID: 118, value: .long),
            intMap(109, "value_counts", keyID: 119, valueID: 120, value: .long),
            intMap(110, "null_value_counts", keyID: 121, valueID: 122, value: .long),
            intMap(137, "nan_value_counts", keyID: 138, valueID: 139, value: .long),
            intMap(125, "lower_bounds", keyID: 126, valueID: 127, value: .bytes),
            intMap(128, "upper_bounds", keyID: 129, valueID: 130, value: .bytes),
            AvroField(name: "key_metadata", type: .optional(.bytes), defaultJSON: "null", properties: id(131)),
            AvroField(name: "split_offsets", type: .optional(.array(items: .long, properties: ["element-id": .int(133)])),
                      defaultJSON: "null", properties: id(132)),
            AvroField(name: "equality_ids", type: .optional(.array(items: .int, properties: ["element-id": .int(136)])),
                      defaultJSON: "null", properties: id(135)),
            AvroField(name: "sort_order_id", type: .optional(.int), defaultJSON: "null", properties: id(140)),
        ]))
    }

    /// `manifest_entry`.
    static func manifestEntry(partition: StructType) -> AvroSchema {
        .record(AvroRecord(name: "manifest_entry", fields: [
            AvroField(name: "status", type: .int, properties: id(0)),
            AvroField(name: "snapshot_id", type: .optional(.long), defaultJSON: "null", properties: id(1)),
            AvroField(name: "sequence_number", type: .optional(.long), defaultJSON: "null", properties: id(3)),
            AvroField(name: "file_sequence_number", type: .optional(.long), defaultJSON: "null", properties: id(4)),
            AvroField(name: "data_file", type: dataFile(partition: partition), properties: id(2)),
        ]))
    }

    /// `manifest_file`, the records of a manifest list.
    static let manifestFile = AvroSchema.record(AvroRecord(name: "manifest_file", fields: [
        AvroField(name: "manifest_path", type: .string, properties: id(500)),
        AvroField(name: "manifest_length", type: .long, properties: id(501)),
        AvroField(name: "partition_spec_id", type: .int, properties: id(502)),
        AvroField(name: "content", type: .int, properties: id(517)),
        AvroField(name: "sequence_number", type: .long, properties: id(515)),
        AvroField(name: "min_sequence_number", type: .long, properties: id(516)),
        AvroField(name: "added_snapshot_id", type: .long, properties: id(503)),
        AvroField(name: "added_files_count", type: .int, properties: id(504)),
        AvroField(name: "existing_files_count", type: .int, properties: id(505)),
        AvroField(name: "deleted_files_count", type: .int, properties: id(506)),
        AvroField(name: "added_rows_count", type: .long, properties: id(512)),
        AvroField(name: "existing_rows_count", type: .long, properties: id(513)),
        AvroField(name: "deleted_rows_count", type: .long, properties: id(514)),
        AvroField(
            name: "partitions",
            type: .optional(.array(items: .record(AvroRecord(name: "r508", fields: [
                AvroField(name: "contains_null", type: .boolean, properties: id(509)),
                AvroField(name: "contains_nan", type: .optional(.boolean), defaultJSON: "null", properties: id(518)),
                AvroField(name: "lower_bound", type: .optional(.bytes), defaultJSON: "null", properties: id(510)),
                AvroField(name: "upper_bound", type: .optional(.bytes), defaultJSON: "null", properties: id(511)),
            ])), properties: ["element-id": .int(508)])),
            defaultJSON: "null", properties: id(507)),
        AvroField(name: "key_metadata", type: .optional(.bytes), defaultJSON: "null", properties: id(519)),
    ]))
}
