import Foundation
import IcebergCore
import S3Reader
import Testing
import TestSupport

@testable import IcebergIngest

/// `glue:` catalog URIs: what they parse to, the errors, and a pipeline run on Glue (moto) read back row by
/// row by PyIceberg's GlueCatalog and DuckDB.
@Suite(.withinOneHour) struct GlueCatalogURITests {
    @Test func glueFormsParse() throws {
        #expect(try CatalogURI(parsing: "glue:") == .glue(region: nil, endpoint: nil, catalogID: nil))
        #expect(try CatalogURI(parsing: "glue") == .glue(region: nil, endpoint: nil, catalogID: nil))
        #expect(
            try CatalogURI(parsing: "glue:?region=eu-west-1&endpoint=http://127.0.0.1:5000&catalog-id=123456789012")
                == .glue(region: "eu-west-1", endpoint: "http://127.0.0.1:5000", catalogID: "123456789012"))
        #expect(try CatalogURI(parsing: "glue://?region=us-east-2") == .glue(region: "us-east-2", endpoint: nil, catalogID: nil))
    }

    @Test func glueErrorsNameTheURIAndTheProblem() throws {
        let cases: [(String, String)] = [
            ("glue:?region=eu-west-1&colour=blue", "catalog 'glue:?region=eu-west-1&colour=blue': unknown glue setting 'colour'"),
            ("glue:?region=", "catalog 'glue:?region=': glue setting 'region' has no value"),
            ("glue:?endpoint=localhost:5000", "catalog 'glue:?endpoint=localhost:5000': glue endpoint 'localhost:5000' is not an http(s) URL"),
            ("glue:eu-west-1", "catalog 'glue:eu-west-1': glue: takes its settings as a query"),
            ("gluey:", "catalog 'gluey:': unknown kind of catalog"),
        ]
        for (text, message) in cases {
            do {
                _ = try CatalogURI(parsing: text)
                Issue.record("'\(text)' parsed")
            } catch let error as IngestError {
                #expect(error.code == .invalidConfiguration)
                #expect(error.message.hasPrefix(message), "\(error.message)")
            }
        }
    }

    /// A catalog URI's `user:password@` never reaches an error message: the URI is named with it redacted.
    @Test func errorsRedactTheUserInfo() throws {
        let cases: [(String, String)] = [
            ("rest+htps://id:s3cr3t@catalog.example.com/api", "catalog 'rest+htps://***@catalog.example.com/api': unknown kind of catalog"),
            ("rest+https:/id:s3cr3t@catalog.example.com/api", "catalog 'rest+https:/***@catalog.example.com/api': unknown kind of catalog"),
            ("glue:?endpoint=htp://id:s3cr3t@127.0.0.1:5000", "catalog 'glue:?endpoint=htp://***@127.0.0.1:5000': glue endpoint 'htp://***@127.0.0.1:5000' is not"),
        ]
        for (text, message) in cases {
            let error = #expect(throws: IngestError.self) { try CatalogURI(parsing: text) }
            #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "")")
            #expect(error?.description.contains("s3cr3t") == false)
        }
        // Valid URIs with user info still parse (the REST catalog takes it from there).
        #expect(try CatalogURI(parsing: "rest+https://id:s3cr3t@catalog.example.com/api") == .rest(url: "https://id:s3cr3t@catalog.example.com/api"))
    }

    /// The pipeline on `glue:?region=...&endpoint=<moto>`: the ingestor creates the database and the table
    /// in Glue and commits; PyIceberg's GlueCatalog reads every row; a second run is incremental.
    @Test func pipelineRunOnGlue() async throws {
        let s3 = try TestEnvironment.s3()
        let dir = try TestEnvironment.temporaryDirectory("uri-glue")
        defer { TestEnvironment.cleanUp(dir) }
        let bucket = TestEnvironment.uniqueBucketName("uri-glue")
        try await s3.client().createBucket(bucket)
        let input = dir.appendingPathComponent("in").path
        let first = PrefixLayout.hour(of: Date()) - 3
        let part1 = try await PipelineSupport.generate(into: input, firstHour: first, hours: 2, files: 2, records: 40, firstID: 1)
        // moto keeps Glue databases for the server's life: a database of this run's own.
        let table = "db_\(UUID().uuidString.prefix(8).lowercased()).events"
        var job = IngestJob(sourceURI: input, tableName: table, schema: PipelineSupport.schemaText)
        job.catalogURI = "glue:?region=\(s3.region)&endpoint=\(s3.endpoint)"
        job.warehouse = "s3://\(bucket)/warehouse"
        job.partition = "hour(event_time)"
        job.lateArrivalHours = 6
        job.s3Endpoint = s3.endpoint
        job.s3Region = s3.region
        #expect(try await job.catalog().name == "glue")
        let summary = try await job.ingestor().run()
        #expect(summary.rows == 160)

        let part2 = try await PipelineSupport.generate(into: input, firstHour: first + 2, hours: 1, files: 1, records: 30, firstID: 10_000)
        let second = try await job.ingestor().run()
        #expect(second.rows == 30, "the second run should read only the new object")

        let check = try await PipelineSupport.check(
            catalogPath: "glue:", warehouse: "", table: table, expected: try PipelineSupport.merge([part1, part2]), endpoint: s3.endpoint, in: dir)
        #expect(check.hasPrefix("OK 190"), "\(check)")
    }
}
