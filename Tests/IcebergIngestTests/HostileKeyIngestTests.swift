import Foundation
import IcebergCore
import IcebergS3
import S3Reader
import Testing
import TestSupport

@testable import IcebergIngest

/// An input object whose key holds bytes XML cannot carry (a control character, a carriage return) or
/// spells XML markup. One such key once made every listing of its bucket fail as a malformed answer, so the
/// source was stuck until someone removed the object by hand; a carriage return would have been listed as a
/// line feed and reported missing on every run. Now the listing asks for URL-encoded keys.
@Suite(.withinOneHour) struct HostileKeyIngestTests {
    static let names = ["ctrl-\u{1}\u{7f}\t.gz", "cr-\r.gz", "markup-<&>'\"]]>.gz", "plus+space %41.gz"]

    @Test func objectsWithKeysXMLCannotCarryAreIngestedExactlyOnce() async throws {
        let (s3, dir) = (try TestEnvironment.s3(), try TestEnvironment.temporaryDirectory("hostile-key"))
        defer { TestEnvironment.cleanUp(dir) }
        let (client, raw, lake) = try await ReplacedInputTests.buckets(on: s3)
        let hour = PrefixLayout.hour(of: Date()) - 2
        let folder = "events/" + PrefixLayout.firehose.prefix(forHour: hour)
        // One ordinarily named object, and one object for each hostile name, moved there from a staging prefix.
        var expected = [try await PipelineSupport.generate(into: "s3://\(raw)/events/", firstHour: hour, hours: 1, files: 1, records: 50, firstID: 1, endpoint: s3.endpoint)]
        for (i, name) in Self.names.enumerated() {
            expected.append(
                try await PipelineSupport.generate(
                    into: "s3://\(raw)/staging-\(i)/", firstHour: hour, hours: 1, files: 1, records: 50, firstID: 1_000 * (i + 1), endpoint: s3.endpoint))
            let staged = try #require(try await client.listObjectsV2(bucket: raw, prefix: "staging-\(i)/").objects.first)
            _ = try await client.putObject(bucket: raw, key: folder + name, body: try await client.getObject(bucket: raw, key: staged.key))
            try await client.deleteObject(bucket: raw, key: staged.key)
        }
        let catalogPath = dir.appendingPathComponent("catalog.db").path
        let warehouse = "s3://\(lake)/wh"
        let catalog = try SQLiteCatalog(path: catalogPath, warehouse: warehouse, io: S3FileIO(client: client))
        let configuration = try PipelineSupport.configuration()
        let source = S3Source(client: client, bucket: raw, root: "events/", layout: .firehose)

        let first = try await Ingestor(configuration: configuration, catalog: catalog, source: source).run()
        #expect(first.objectsListed == 1 + Self.names.count && first.objectsIngested == 1 + Self.names.count, "\(first)")
        let again = try await Ingestor(configuration: configuration, catalog: catalog, source: source).run()
        #expect(again.objectsIngested == 0 && again.rows == 0, "a second run ingests nothing: \(again)")
        let output = try await PipelineSupport.check(
            catalogPath: catalogPath, warehouse: warehouse, table: "db.events", expected: try PipelineSupport.merge(expected), endpoint: s3.endpoint, in: dir)
        #expect(output.hasPrefix("OK 250"), "\(output)")
    }
}
