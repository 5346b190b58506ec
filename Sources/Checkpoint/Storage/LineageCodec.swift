import IcebergCore

/// The JSON form of a ``CommitLineage`` (one small file per committed version; readable with any tool).
///
/// ```json
/// {"format": 1, "version": 7, "snapshot-id": 42, "kind": "ingest",
///  "data-files": ["s3://lake/wh/db/events/data/x.parquet"], "replaced-data-files": [],
///  "objects": [{"key": "events/2026/11/24/10/a.gz", "size": 912, "etag": "9b2c", "last-modified-ms": 0,
///               "hour": 494458, "data-files": [0], "new-fields": {"browser": "\"firefox\""}, "widenings": {}}]}
/// ```
package enum LineageCodec {
    static let format: Int64 = 1

    package static func encode(_ lineage: CommitLineage) -> [UInt8] {
        let objects: [JSONValue] = lineage.objects.map { o in
            .object([
                ("key", .string(o.object.key)), ("size", .int(o.object.size)), ("etag", .string(o.object.etag)),
                ("last-modified-ms", .int(o.object.lastModifiedMillis)), ("hour", .int(Int64(o.hour))),
                ("data-files", .array(o.dataFiles.map { .int(Int64($0)) })),
                ("new-fields", o.newFields.jsonObject), ("widenings", o.widenings.jsonObject),
            ])
        }
        let value = JSONValue.object([
            ("format", .int(format)), ("version", .int(lineage.version)), ("snapshot-id", .int(lineage.snapshotID)),
            ("kind", .string(lineage.kind.rawValue)), ("data-files", .array(lineage.dataFiles.map(JSONValue.string))),
            ("replaced-data-files", .array(lineage.replacedDataFiles.map(JSONValue.string))), ("objects", .array(objects)),
        ])
        return Array(value.serialized().utf8)
    }

    package static func decode(_ bytes: [UInt8], location: String) throws -> CommitLineage {
        do {
            let root = JSONReader(try JSONValue.parse(bytes, source: location), source: location)
            let format = try root.required("format").int64
            guard format == Self.format else { throw root.error("lineage format \(format) is not known (expected \(Self.format))") }
            let kindText = try root.required("kind").string
            guard let kind = CommitLineage.Kind(rawValue: kindText) else { throw root.error("unknown kind '\(kindText)'") }
            let dataFiles = try root.required("data-files").array.map { try $0.string }
            let objects = try root.required("objects").array.map { o in
                let indexes = try o.required("data-files").array.map { try $0.int }
                if let bad = indexes.first(where: { $0 < 0 || $0 >= dataFiles.count }) {
                    throw o.error("data file index \(bad) is out of range (\(dataFiles.count) files)")
                }
                return ObjectLineage(
                    object: ObjectVersion(
                        key: try o.required("key").string, size: try o.required("size").int64, etag: try o.required("etag").string,
                        lastModifiedMillis: try o.required("last-modified-ms").int64),
                    hour: Int32(truncatingIfNeeded: try o.required("hour").int64), dataFiles: indexes,
                    newFields: try o.optional("new-fields")?.stringMap ?? [:], widenings: try o.optional("widenings")?.stringMap ?? [:])
            }
            return CommitLineage(
                version: try root.required("version").int64, snapshotID: try root.required("snapshot-id").int64, kind: kind,
                dataFiles: dataFiles, objects: objects,
                replacedDataFiles: try root.optional("replaced-data-files")?.array.map { try $0.string } ?? [])
        } catch let error as IcebergError {
            throw CheckpointError(.corrupt, "lineage file \(location) does not decode: \(error.message)", cause: error)
        }
    }
}
