import Foundation
import IcebergCore
import IcebergS3
import S3Reader
import Testing
import TestSupport

@testable import Catalogs

/// A REST catalog whose warehouse is an S3 bucket (the local moto server): the server vends S3 settings
/// and keys in each table's `config`, our client writes manifests and metadata through S3 with them, and
/// PyIceberg's RestCatalog reads the rows back from the same bucket.
@Suite(.serialized) struct RESTS3WarehouseTests {
    @Test func tablesInS3UseTheVendedConfig() async throws {
        let s3 = try TestEnvironment.s3()
        let bucket = TestEnvironment.uniqueBucketName("rest-wh")
        let client = s3.client()
        try await client.createBucket(bucket)
        var vended = [
            "s3.endpoint": s3.endpoint, "s3.region": s3.region, "s3.access-key-id": s3.accessKeyID,
            "s3.secret-access-key": s3.secretAccessKey, "s3.path-style-access": "true",
        ]
        if let token = s3.sessionToken { vended["s3.session-token"] = token }
        let server = try RESTTestServer(prefix: "s3", warehouse: "s3://\(bucket)/wh", tableConfig: vended, catalogProperties: vended)
        try await server.run { server in
            // The caller knows nothing of S3: no endpoint, and credentials that are not the vended ones.
            let catalog = try await RESTCatalog(
                uri: server.url, credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "caller", secretAccessKey: "caller")))
            try await catalog.createNamespace(["db"])
            let id = TableIdentifier(namespace: ["db"], name: "events")
            var table = try await catalog.createTable(id, schema: RESTTestData.schema, spec: RESTTestData.spec)
            #expect(table.metadata.location.hasPrefix("s3://\(bucket)/wh/"))
            let io = try #require(table.io as? RESTFileIO)
            #expect(io.s3.client.configuration.endpoint == s3.endpoint)
            #expect(try await io.s3.client.credentials.credentials().accessKeyID == s3.accessKeyID)

            // Parquet files made locally by pyarrow, uploaded under the table's data folder.
            let local = try TestEnvironment.temporaryDirectory("rest-s3-data")
            defer { TestEnvironment.cleanUp(local) }
            let dataRoot = "\(table.metadata.location)/data"
            let files = try await RESTTestData.dataFiles(at: local.path, files: 2, rows: 15, start: 0) { path in
                dataRoot + path.dropFirst(local.path.count)
            }
            for file in files {
                let localPath = local.path + file.filePath.dropFirst(dataRoot.count)
                try await table.io.write(file.filePath, contentsOfFile: localPath)
            }
            var append = FastAppend(table: table, catalog: catalog)
            append.add(contentsOf: files)
            table = try await append.commit()
            #expect(table.metadataLocation.hasPrefix("s3://\(bucket)/wh/"))
            let metadataPrefix = try S3FileIO.split("\(table.metadata.location)/metadata/").key
            let keys = try await client.listObjectsV2(bucket: bucket, prefix: metadataPrefix).objects.map(\.key)
            #expect(keys.contains { $0.hasSuffix(".avro") && $0.contains("snap-") }, "the manifest list went to S3: \(keys)")

            let read = try await RESTTestData.readWithPyIceberg(server: server.url, table: "db.events", properties: [:])
            #expect(read["rows"] == .int(30))
            #expect(read["id_sum"] == .int(RESTTestData.idSum(files: 2, rows: 15, start: 0)))
            #expect(read["metadata"] == .string(table.metadataLocation))
        }
    }
}
