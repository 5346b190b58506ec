import Foundation
import IcebergCore
import IcebergIngest
import S3Reader
import Testing
import TestSupport

/// The README's ingestion example, compiled and run (without @testable: only the public API).
@Suite(.withinOneHour) struct ReadmeExampleTests {
    @Test func ingestExampleRuns() async throws {
        let dir = try TestEnvironment.temporaryDirectory("readme-ingest")
        defer { TestEnvironment.cleanUp(dir) }
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let input = dir.appendingPathComponent("in").path
        let hour = PrefixLayout.hour(of: Date()) - 1
        let folder = input + "/" + PrefixLayout.firehose.prefix(forHour: hour)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let seconds = Int64(hour) * 3600
        try Data("""
            {"id": 1, "event_time": \(seconds), "user": {"name": "ann", "country": "DE"}, "amount": "9.99"}
            {"id": 2, "event_time": \(seconds * 1000 + 5), "amount": 1.5}
            {"id": "three"}

            """.utf8).write(to: URL(fileURLWithPath: folder + "/a.json"))

        // --- README example (keep in step with README.md) ---
        let schema = try SchemaText.schema(
            "id long not null, event_time timestamptz, user struct<name string, country string>, amount decimal(10,2)")
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "analytics.clicks"), schema: schema)
        configuration.partitionSpec = try SchemaText.partitionSpec("hour(event_time)", schema: schema)
        configuration.badRecordPolicy = .deadLetter  // or .fail (the default), .skip
        configuration.lateArrivalHours = 2  // files may still land in an hour for 2 hours after it

        let catalog = try SQLiteCatalog(path: "\(warehouse)/catalog.db", warehouse: warehouse)
        let source = LocalFolderSource(root: input, layout: .firehose)  // or S3Source(client:bucket:root:layout:)
        let ingestor = Ingestor(configuration: configuration, catalog: catalog, source: source)
        let summary = try await ingestor.run()  // creates the table when missing
        print(summary.rows, summary.badRecords, summary.snapshotIDs)
        let status = try await ingestor.status()  // watermark, open-window objects, lag
        print(status.checkpointVersion, status.lagHours ?? -1)
        // --- end of the README example ---

        #expect(summary.rows == 2 && summary.badRecords == 1 && summary.deadLettered == 1)
        #expect(status.checkpointVersion == 1 && status.lagHours == 2)
        #expect(status.totalRecords == 2)
    }
}
