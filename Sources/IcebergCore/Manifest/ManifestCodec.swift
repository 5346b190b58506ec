import Avro

/// Writes and reads manifests and manifest lists (format version 2 written; 1 and 2 read).
///
/// Reading goes by field name through the writer's schema, so manifests written by Java, PyIceberg or
/// iceberg-rust (whose schemas add, omit or reorder optional fields) read the same.
public enum ManifestCodec {
    // MARK: Manifests

    /// The bytes of a manifest holding `entries`, all of partition spec `spec` over `schema`.
    public static func writeManifest(
        entries: [ManifestEntry], spec: PartitionSpec, schema: Schema, codec: String = "deflate"
    ) throws -> [UInt8] {
        let partitionType = try spec.partitionType(schema: schema)
        let avroSchema = ManifestSchemas.manifestEntry(partition: partitionType)
        let specFields = spec.jsonValue["fields"] ?? .array([])
        var writer = try AvroContainerWriter(
            schema: avroSchema, codec: AvroCodec(rawValue: codec) ?? .deflate,
            metadata: [
                "schema": Array(schema.json.serialized().utf8), "schema-id": Array(String(schema.id).utf8),
                "partition-spec": Array(specFields.serialized().utf8), "partition-spec-id": Array(String(spec.id).utf8),
                "format-version": Array("2".utf8), "content": Array("data".utf8),
            ])
        let partitionTypes = partitionType.fields.map { $0.type.primitive ?? .string }
        for entry in entries {
            let file = entry.dataFile
            guard file.partition.count == partitionTypes.count else {
                throw IcebergError(
                    .invalidArgument,
                    "data file \(file.filePath): \(file.partition.count) partition values for spec \(spec.id) with \(partitionTypes.count) fields")
            }
            func longMap(_ map: [Int: Int64]) -> AvroValue {
                map.isEmpty ? .null : .array(map.keys.sorted().map { .record([.int(Int32($0)), .long(map[$0]!)]) })
            }
            func bytesMap(_ map: [Int: [UInt8]]) -> AvroValue {
                map.isEmpty ? .null : .array(map.keys.sorted().map { .record([.int(Int32($0)), .bytes(map[$0]!)]) })
            }
            let dataFile = AvroValue.record([
                .int(Int32(file.content)), .string(file.filePath), .string(file.fileFormat),
                .record(zip(file.partition, partitionTypes).map { AvroMapping.avroValue($0, type: $1) }),
                .long(file.recordCount), .long(file.fileSizeInBytes), longMap(file.columnSizes), longMap(file.valueCounts),
                longMap(file.nullValueCounts), longMap(file.nanValueCounts), bytesMap(file.lowerBounds), bytesMap(file.upperBounds),
                .null, file.splitOffsets.map { .array($0.map { .long($0) }) } ?? .null, .null,
                file.sortOrderID.map { .int(Int32($0)) } ?? .null,
            ])
            try writer.append(.record([
                .int(Int32(entry.status.rawValue)), entry.snapshotID.map { .long($0) } ?? .null,
                entry.sequenceNumber.map { .long($0) } ?? .null, entry.fileSequenceNumber.map { .long($0) } ?? .null, dataFile,
            ]))
        }
        return try writer.finish()
    }

    /// The entries of a manifest, with sequence numbers and snapshot ids inherited from `manifest` where the
    /// entries leave them out (spec: "Sequence Number Inheritance").
    public static func readManifest(_ bytes: [UInt8], manifest: ManifestFile?, schema: Schema, specs: [PartitionSpec], location: String) throws -> [ManifestEntry] {
        let reader: AvroContainerReader
        do { reader = try AvroContainerReader(bytes, source: location) } catch let error as AvroError {
            throw IcebergError(.invalidMetadata, "manifest \(location): \(error.message)")
        }
        let specID = reader.metadataString("partition-spec-id").flatMap { Int($0) } ?? manifest?.specID ?? 0
        guard case .record(let entrySchema) = reader.schema.base,
            let fileIndex = entrySchema.index(of: "data_file"), case .record(let fileSchema) = entrySchema.fields[fileIndex].type.base
        else { throw IcebergError(.invalidMetadata, "manifest \(location): not a manifest_entry schema") }
        // Partition field types: from the table's spec when known, else from the file's own spec metadata.
        var spec = specs.first { $0.id == specID }
        if spec == nil, let text = reader.metadataString("partition-spec") {
            spec = try? PartitionSpec(json: .object([("spec-id", .int(Int64(specID))), ("fields", try JSONValue.parse(text))]))
        }
        let partitionType = try (spec ?? .unpartitioned).partitionType(schema: schema)
        var result: [ManifestEntry] = []
        try reader.forEachRecord { value in
            guard case .record(let values) = value else { return }
            func field(_ name: String) -> AvroValue { entrySchema.index(of: name).map { values[$0] } ?? .null }
            guard case .record(let fileValues) = field("data_file") else {
                throw IcebergError(.invalidMetadata, "manifest \(location): an entry without data_file")
            }
            func fileField(_ name: String) -> AvroValue { fileSchema.index(of: name).map { fileValues[$0] } ?? .null }
            func longMap(_ name: String) -> [Int: Int64] {
                guard case .array(let items) = fileField(name) else { return [:] }
                var map: [Int: Int64] = [:]
                for case .record(let kv) in items where kv.count == 2 { if let k = kv[0].int64, let v = kv[1].int64 { map[Int(k)] = v } }
                return map
            }
            func bytesMap(_ name: String) -> [Int: [UInt8]] {
                guard case .array(let items) = fileField(name) else { return [:] }
                var map: [Int: [UInt8]] = [:]
                for case .record(let kv) in items where kv.count == 2 { if let k = kv[0].int64, case .bytes(let v) = kv[1] { map[Int(k)] = v } }
                return map
            }
            // Partition values by field id of the file's partition record.
            var partition: [Literal?] = []
            if case .record(let partitionValues) = fileField("partition"),
                let partitionIndex = fileSchema.index(of: "partition"),
                case .record(let partitionRecord) = fileSchema.fields[partitionIndex].type.base
            {
                for field in partitionType.fields {
                    let index = partitionRecord.fields.firstIndex { $0.fieldID == field.id } ?? partitionRecord.index(of: field.name)
                    partition.append(try index.flatMap { try AvroMapping.literal(partitionValues[$0], type: field.type.primitive ?? .string) })
                }
            }
            guard case .string(let path) = fileField("file_path"), let recordCount = fileField("record_count").int64,
                let size = fileField("file_size_in_bytes").int64, let statusValue = field("status").int64,
                let status = ManifestEntry.Status(rawValue: Int(statusValue))
            else { throw IcebergError(.invalidMetadata, "manifest \(location): an entry misses a required field") }
            var splitOffsets: [Int64]?
            if case .array(let offsets) = fileField("split_offsets") { splitOffsets = offsets.compactMap(\.int64) }
            let formatText: String
            if case .string(let f) = fileField("file_format") { formatText = f } else { formatText = "PARQUET" }
            let dataFile = DataFile(
                filePath: path, fileFormat: formatText, specID: specID, partition: partition, recordCount: recordCount,
                fileSizeInBytes: size, columnSizes: longMap("column_sizes"), valueCounts: longMap("value_counts"),
                nullValueCounts: longMap("null_value_counts"), nanValueCounts: longMap("nan_value_counts"),
                lowerBounds: bytesMap("lower_bounds"), upperBounds: bytesMap("upper_bounds"), splitOffsets: splitOffsets,
                sortOrderID: fileField("sort_order_id").int64.map { Int($0) }, content: fileField("content").int64.map { Int($0) } ?? 0)
            var entry = ManifestEntry(
                status: status, snapshotID: field("snapshot_id").int64, sequenceNumber: field("sequence_number").int64,
                fileSequenceNumber: field("file_sequence_number").int64, dataFile: dataFile)
            if let manifest {
                if entry.snapshotID == nil { entry.snapshotID = manifest.addedSnapshotID }
                if entry.sequenceNumber == nil, status == .added || manifest.sequenceNumber == 0 { entry.sequenceNumber = manifest.sequenceNumber }
                if entry.fileSequenceNumber == nil, status == .added || manifest.sequenceNumber == 0 { entry.fileSequenceNumber = manifest.sequenceNumber }
            }
            result.append(entry)
        }
        return result
    }

    // MARK: Manifest lists

    /// The bytes of a manifest list for snapshot `snapshotID`.
    public static func writeManifestList(
        _ manifests: [ManifestFile], snapshotID: Int64, parentID: Int64?, sequenceNumber: Int64, codec: String = "deflate"
    ) throws -> [UInt8] {
        var metadata: [String: [UInt8]] = [
            "snapshot-id": Array(String(snapshotID).utf8), "sequence-number": Array(String(sequenceNumber).utf8),
            "format-version": Array("2".utf8),
        ]
        metadata["parent-snapshot-id"] = Array((parentID.map(String.init) ?? "null").utf8)
        var writer = try AvroContainerWriter(schema: ManifestSchemas.manifestFile, codec: AvroCodec(rawValue: codec) ?? .deflate, metadata: metadata)
        for m in manifests {
            let partitions: AvroValue = .array(m.partitions.map {
                .record([.boolean($0.containsNull), $0.containsNaN.map { .boolean($0) } ?? .null,
                         $0.lowerBound.map { .bytes($0) } ?? .null, $0.upperBound.map { .bytes($0) } ?? .null])
            })
            try writer.append(.record([
                .string(m.path), .long(m.length), .int(Int32(m.specID)), .int(Int32(m.content)), .long(m.sequenceNumber),
                .long(m.minSequenceNumber), .long(m.addedSnapshotID), .int(Int32(m.addedFilesCount)),
                .int(Int32(m.existingFilesCount)), .int(Int32(m.deletedFilesCount)), .long(m.addedRowsCount),
                .long(m.existingRowsCount), .long(m.deletedRowsCount), partitions, .null,
            ]))
        }
        return try writer.finish()
    }

    /// The manifests of a manifest list (v1 lists: sequence numbers 0, v1 field names accepted).
    public static func readManifestList(_ bytes: [UInt8], location: String) throws -> [ManifestFile] {
        let reader: AvroContainerReader
        do { reader = try AvroContainerReader(bytes, source: location) } catch let error as AvroError {
            throw IcebergError(.invalidMetadata, "manifest list \(location): \(error.message)")
        }
        guard case .record(let schema) = reader.schema.base else {
            throw IcebergError(.invalidMetadata, "manifest list \(location): not a record schema")
        }
        var result: [ManifestFile] = []
        try reader.forEachRecord { value in
            guard case .record(let values) = value else { return }
            func field(_ names: String...) -> AvroValue {
                for name in names { if let i = schema.index(of: name) { return values[i] } }
                return .null
            }
            guard case .string(let path) = field("manifest_path"), let length = field("manifest_length").int64 else {
                throw IcebergError(.invalidMetadata, "manifest list \(location): an entry misses manifest_path or manifest_length")
            }
            var partitions: [FieldSummary] = []
            if case .array(let summaries) = field("partitions") {
                for case .record(let s) in summaries where s.count >= 4 {
                    var nan: Bool?
                    if case .boolean(let b) = s[1] { nan = b }
                    var lower: [UInt8]?, upper: [UInt8]?
                    if case .bytes(let b) = s[2] { lower = b }
                    if case .bytes(let b) = s[3] { upper = b }
                    if case .boolean(let containsNull) = s[0] {
                        partitions.append(FieldSummary(containsNull: containsNull, containsNaN: nan, lowerBound: lower, upperBound: upper))
                    }
                }
            }
            let sequence = field("sequence_number").int64 ?? 0
            result.append(ManifestFile(
                path: path, length: length, specID: Int(field("partition_spec_id").int64 ?? 0),
                content: Int(field("content").int64 ?? 0), sequenceNumber: sequence,
                minSequenceNumber: field("min_sequence_number").int64 ?? sequence,
                addedSnapshotID: field("added_snapshot_id").int64 ?? 0,
                addedFilesCount: Int(field("added_files_count", "added_data_files_count").int64 ?? 0),
                existingFilesCount: Int(field("existing_files_count", "existing_data_files_count").int64 ?? 0),
                deletedFilesCount: Int(field("deleted_files_count", "deleted_data_files_count").int64 ?? 0),
                addedRowsCount: field("added_rows_count").int64 ?? 0, existingRowsCount: field("existing_rows_count").int64 ?? 0,
                deletedRowsCount: field("deleted_rows_count").int64 ?? 0, partitions: partitions))
        }
        return result
    }
}
