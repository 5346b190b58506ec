import Foundation
import IcebergCore
import IcebergS3
import S3Reader
import Testing
import TestSupport

/// The object-store catalog on S3 (the local server, or any endpoint in `S3_ENDPOINT`): conditional creates
/// (`If-None-Match: *`) decide racing commits, so 8 committers × 50 rounds give one linear history. Each
/// commit sets a property (appends race on a local folder in IcebergCoreTests; here the catalog's atomicity
/// is what is tested, and the local server is slow).
@Suite(.serialized) struct ObjectStoreCatalogS3Tests {
    @Test func racingCommittersOnS3() async throws {
        let s3 = try TestEnvironment.s3()
        let bucket = TestEnvironment.uniqueBucketName("objectstore")
        let client = s3.client()
        try await client.createBucket(bucket)
        let warehouse = "s3://\(bucket)/wh"
        // The README's line, with its bucket: a catalog kept in the bucket itself.
        do {
            let catalog = ObjectStoreCatalog(warehouse: "s3://lake/warehouse", io: S3FileIO(client: client))
            #expect(catalog.warehouse == "s3://lake/warehouse")
        }
        let outcome = try await CatalogRace.run(table: TableIdentifier(namespace: ["db"], name: "race"), committers: 8, rounds: 50, kind: .properties) {
            ObjectStoreCatalog(warehouse: warehouse, io: S3FileIO(client: client))
        }
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        #expect(outcome.committed.count == 400)
        print("object-store catalog on S3: 400 commits by 8 committers in \(String(format: "%.1f", outcome.seconds)) s, \(outcome.retries) conflicts retried")
        // Versions v1...v401, each written once.
        let versions = try await S3FileIO(client: client).list(prefix: outcome.table.metadata.location + "/metadata/v")
            .map { ($0.location as NSString).lastPathComponent }.filter { $0.hasSuffix(".metadata.json") }
        #expect(Set(versions) == Set((1...401).map { "v\($0).metadata.json" }))

        // PyIceberg reads the newest version from the bucket: every commit is in it, and its metadata log
        // names the versions before it in order.
        let output = try await PythonTool.run(
            """
            import sys, json
            from pyiceberg.table import StaticTable
            t = StaticTable.from_metadata(sys.argv[1], properties={"s3.endpoint": sys.argv[2], "s3.region": sys.argv[3],
                "s3.access-key-id": sys.argv[4], "s3.secret-access-key": sys.argv[5]})
            log = [int(e.metadata_file.rsplit("/v", 1)[1].split(".")[0]) for e in t.metadata.metadata_log]
            print(json.dumps({"commits": len([k for k in t.properties if k.startswith("race.")]), "log_in_order": log == list(range(log[0], 401))}))
            """, arguments: [outcome.table.metadataLocation, s3.endpoint, s3.region, s3.accessKeyID, s3.secretAccessKey])
        let json = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["commits"] == .int(400) && json["log_in_order"] == .bool(true), "\(output)")
    }
}
