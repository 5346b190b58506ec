import Foundation
import Testing
import TestSupport

@testable import IcebergCore

/// Metadata files written by PyIceberg 0.12 (Fixtures/iceberg, see Fixtures/README.md) parse, round-trip,
/// and what we write loads in PyIceberg with the same schema, spec and snapshots.
@Suite struct TableMetadataTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: TestEnvironment.fixtures.appendingPathComponent("iceberg/\(name)")))
    }

    @Test func pyIcebergV2MetadataParsesAndRoundTrips() throws {
        let metadata = try TableMetadata(json: Self.fixture("pyiceberg-v2-partitioned.metadata.json"), location: "v2")
        #expect(metadata.formatVersion == 2)
        #expect(metadata.snapshots.count == 2)
        #expect(metadata.ancestors().count == 2)
        #expect(metadata.currentSnapshot?.summary["total-records"] == "6")
        #expect(metadata.schemas.count == 2)
        #expect(metadata.currentSchema.field(named: "extra")?.type == .primitive(.int))
        #expect(metadata.currentSchema.field(named: "device.os")?.id == 12)
        #expect(metadata.currentSchema.field(named: "attrs.value")?.id == 11)  // PyIceberg assigns fresh ids level by level
        #expect(metadata.currentSchema.field(named: "tags.element")?.id == 9)
        #expect(metadata.currentSchema.identifierFieldIDs == [1])
        #expect(metadata.defaultSpec.fields.map(\.transform) == [.hour, .bucket(8), .truncate(4), .day, .identity])
        #expect(metadata.lastPartitionID == 1004)
        #expect(metadata.refs["main"]?.snapshotID == metadata.currentSnapshotID)
        let partitionType = try metadata.defaultSpec.partitionType(schema: metadata.currentSchema)
        #expect(partitionType.fields.map(\.type) == [.primitive(.int), .primitive(.int), .primitive(.string), .primitive(.date), .primitive(.boolean)])

        let written = Array(metadata.jsonText().utf8)
        let again = try TableMetadata(json: written, location: "rewritten")
        #expect(again == metadata)
    }

    @Test func pyIcebergV1MetadataReadsAsV2Model() throws {
        let metadata = try TableMetadata(json: Self.fixture("pyiceberg-v1.metadata.json"), location: "v1")
        #expect(metadata.formatVersion == 1)
        #expect(metadata.snapshots.count == 1)
        #expect(metadata.currentSchema.fields.map(\.name) == ["id", "name"])
        let again = try TableMetadata(json: Array(metadata.jsonText().utf8), location: "rewritten")
        #expect(again.currentSchema == metadata.currentSchema)
        #expect(again.snapshots == metadata.snapshots)
    }

    /// PyIceberg reads the metadata we write: same schema, spec, snapshots and properties.
    @Test func pyIcebergLoadsMetadataWeWrite() async throws {
        let metadata = try TableMetadata(json: Self.fixture("pyiceberg-v2-partitioned.metadata.json"), location: "v2")
        let dir = try TestEnvironment.temporaryDirectory("metadata")
        defer { TestEnvironment.cleanUp(dir) }
        let path = dir.appendingPathComponent("00009-ours.metadata.json")
        try metadata.jsonText().write(to: path, atomically: true, encoding: .utf8)
        let output = try await PythonTool.run(
            """
            import sys, json
            from pyiceberg.table import StaticTable
            t = StaticTable.from_metadata(sys.argv[1])
            m = t.metadata
            print(json.dumps({
                "fields": [f.name for f in t.schema().fields], "schema_id": t.schema().schema_id,
                "spec": [str(f.transform) for f in t.spec().fields], "snapshots": len(m.snapshots),
                "current": m.current_snapshot_id, "props": m.properties, "last_column_id": m.last_column_id,
                "ids": sorted(t.schema()._lazy_id_to_field.keys()) if hasattr(t.schema(), "_lazy_id_to_field") else [],
            }))
            """, arguments: [path.path])
        let result = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(result["fields"] == .array(metadata.currentSchema.fields.map { .string($0.name) }))
        #expect(result["schema_id"] == .int(Int64(metadata.currentSchemaID)))
        #expect(result["spec"] == .array(["hour", "bucket[8]", "truncate[4]", "day", "identity"].map { .string($0) }))
        #expect(result["snapshots"] == .int(2))
        #expect(result["current"] == .int(metadata.currentSnapshotID!))
        #expect(result["props"]?["owner"] == .string("fixtures"))
        #expect(result["last_column_id"] == .int(Int64(metadata.lastColumnID)))
    }

    @Test func malformedMetadataNamesTheFileAndTheField() throws {
        let text = String(decoding: try Self.fixture("pyiceberg-v2-partitioned.metadata.json"), as: UTF8.self)
        func error(_ mutated: String) -> IcebergError? {
            #expect(throws: IcebergError.self) { try TableMetadata(json: Array(mutated.utf8), location: "s3://b/t/metadata/00002.metadata.json") }
        }
        let missing = error(text.replacingOccurrences(of: "\"location\"", with: "\"locationx\""))
        #expect(missing?.message.contains("s3://b/t/metadata/00002.metadata.json") == true)
        #expect(missing?.message.contains("missing required field 'location'") == true)
        let badType = error(text.replacingOccurrences(of: "\"type\":\"timestamptz\"", with: "\"type\":\"timestamp_zz\""))
        #expect(badType?.message.contains("schemas[0].fields[1].type") == true, "\(badType?.message ?? "")")
        let truncated = error(String(text.prefix(text.count / 2)))
        #expect(truncated?.message.contains("invalid JSON at line") == true)
        #expect(error("[1, 2]")?.message.contains("expected an object") == true)
    }

    @Test func typeJSONRoundTrip() throws {
        let schema = Schema(
            id: 3,
            fields: [
                .required(1, "id", .primitive(.long)),
                .optional(2, "amount", .primitive(.decimal(precision: 38, scale: 9))),
                .optional(3, "hash", .primitive(.fixed(length: 16))),
                .optional(4, "tags", .list(ListType(elementID: 5, element: .primitive(.string), elementRequired: true))),
                .optional(6, "m", .map(MapType(keyID: 7, key: .primitive(.string), valueID: 8,
                    value: .struct(StructType([.optional(9, "x", .primitive(.uuid), doc: "d")])), valueRequired: false))),
            ], identifierFieldIDs: [1])
        try schema.validate()
        let parsed = try Schema(json: try JSONValue.parse(schema.json.serialized()))
        #expect(parsed == schema)
        #expect(parsed.highestFieldID == 9)
        #expect(parsed.name(of: 9) == "m.value.x")
        let duplicate = Schema(id: 0, fields: [.optional(1, "a", .primitive(.int)), .optional(1, "b", .primitive(.int))])
        #expect(throws: IcebergError.self) { try duplicate.validate() }
    }
}
