import Foundation
import IcebergCore
import IcebergS3
import S3Reader
import Synchronization
import Testing
import TestSupport

@testable import IcebergIngest

/// An input object replaced by its producer after the run listed it, before or between its reads: the run
/// never reads a mix of two versions; it stops with a retryable `input-changed` naming the object and commits
/// nothing of it, and the next run ingests the new version exactly (read back by PyIceberg and DuckDB). One
/// deleted after the listing stops the run the same way, and the next run goes on without it.
@Suite(.serialized, .withinOneHour) struct ReplacedInputTests {
    /// A source that runs `change` (another producer replacing or deleting an object) just before its
    /// `trigger`-th read of the object at `location` (of any object when nil).
    static func changing(
        _ inner: any IngestSource, location: String? = nil, beforeRead trigger: Int, change: @escaping @Sendable () async throws -> Void
    ) -> InterceptingSource {
        let reads = Mutex(0)
        return InterceptingSource(inner) { object, range, inner in
            if location == nil || object.location == location {
                let count = reads.withLock { count in
                    count += 1
                    return count
                }
                if count == trigger { try await change() }
            }
            return try await inner.read(object, range: range)
        }
    }

    /// A client of `s3` and two new buckets on it: the input's and the warehouse's.
    static func buckets(on s3: S3TestEndpoint) async throws -> (client: S3Client, raw: String, lake: String) {
        let client = s3.client()
        let raw = TestEnvironment.uniqueBucketName("raw"), lake = TestEnvironment.uniqueBucketName("lake")
        try await client.createBucket(raw)
        try await client.createBucket(lake)
        return (client, raw, lake)
    }

    /// Runs `first` (whose input object at `location` changes at one of its reads) and expects it to stop with
    /// a retryable `input-changed` naming the object, saying each of `says`, read at `byte`, with nothing
    /// committed; then a run of `second` lists one object and ingests exactly `rows`.
    static func expectChangeCaught(
        first: any IngestSource, second: any IngestSource, byte: Int64, location: String, says: [String], catalog: SQLiteCatalog,
        catalogPath: String, warehouse: String, rows: String, endpoint: String, dir: URL
    ) async throws {
        var configuration = try PipelineSupport.configuration()
        configuration.readChunkBytes = 1_024  // the object is several reads
        do {
            _ = try await Ingestor(configuration: configuration, catalog: catalog, source: first).run()
            Issue.record("a run that read a changed object succeeded")
        } catch let error as IngestError {
            #expect(error.code == .inputChanged && error.isRetryable, "\(error)")
            #expect(error.message.contains(location) && error.message.contains("read at byte \(byte)"), "\(error.message)")
            for text in says { #expect(error.message.contains(text), "\(error.message)") }
        }
        #expect(try await catalog.loadTable(configuration.table).metadata.currentSnapshot == nil, "nothing of the changed object's batch is committed")

        let summary = try await Ingestor(configuration: configuration, catalog: catalog, source: second).run()
        #expect(summary.objectsListed == 1 && summary.objectsIngested == 1)
        let output = try await PipelineSupport.check(
            catalogPath: catalogPath, warehouse: warehouse, table: "db.events", expected: rows, endpoint: endpoint, in: dir)
        #expect(output.hasPrefix("OK 200"), "\(output)")
    }

    @Test(arguments: [1, 2]) func anS3ObjectReplacedAfterItWasListedIsNeverReadAsAMix(trigger: Int) async throws {
        let (s3, dir) = (try TestEnvironment.s3(), try TestEnvironment.temporaryDirectory("replaced-s3"))
        defer { TestEnvironment.cleanUp(dir) }
        let (client, raw, lake) = try await Self.buckets(on: s3)
        let hour = PrefixLayout.hour(of: Date()) - 2
        // The version listed, and the one that replaces it (in another prefix until then): 200 records each,
        // gzip, several read chunks of 1 KiB.
        _ = try await PipelineSupport.generate(into: "s3://\(raw)/events/", firstHour: hour, hours: 1, files: 1, records: 200, firstID: 1, endpoint: s3.endpoint)
        let newRows = try await PipelineSupport.generate(
            into: "s3://\(raw)/next/", firstHour: hour, hours: 1, files: 1, records: 200, firstID: 10_000, endpoint: s3.endpoint)
        let listed = try await client.listObjectsV2(bucket: raw, prefix: "events/").objects
        let replacement = try await client.listObjectsV2(bucket: raw, prefix: "next/").objects
        try #require(listed.count == 1 && replacement.count == 1)
        let key = listed[0].key
        let newBytes = try await client.getObject(bucket: raw, key: replacement[0].key)
        #expect(newBytes.count > 2_048, "the object takes more than two reads")

        // The client's conditional read: the listed ETag (quoted or not) reads, another fails with a 412.
        let head = try await client.getObject(bucket: raw, key: key, range: 0..<10, ifMatch: listed[0].etag)
        #expect(head.count == 10)
        #expect(try await client.getObject(bucket: raw, key: key, range: 0..<10, ifMatch: "\"\(listed[0].etag)\"") == head)
        do {
            _ = try await client.getObject(bucket: raw, key: key, range: 0..<10, ifMatch: "0123456789abcdef0123456789abcdef")
            Issue.record("a read with another ETag succeeded")
        } catch let error as S3Error {
            #expect(error.isPreconditionFailure, "\(error)")
        }

        let plain = S3Source(client: client, bucket: raw, root: "events/", layout: .firehose)
        // Replaced before the first read (trigger 1) or after the first 1 KiB (trigger 2).
        let replacing = Self.changing(plain, beforeRead: trigger) {
            _ = try await client.putObject(bucket: raw, key: key, body: newBytes)
        }
        let catalogPath = dir.appendingPathComponent("catalog.db").path
        let warehouse = "s3://\(lake)/wh"
        let catalog = try SQLiteCatalog(path: catalogPath, warehouse: warehouse, io: S3FileIO(client: client))
        try await Self.expectChangeCaught(
            first: replacing, second: plain, byte: Int64(trigger - 1) * 1_024, location: "s3://\(raw)/\(key)", says: ["replaced since it was listed"],
            catalog: catalog, catalogPath: catalogPath, warehouse: warehouse, rows: newRows, endpoint: s3.endpoint, dir: dir)
    }

    /// What the run says of an object deleted after the listing.
    static let gone = ["gone since it was listed", "nothing of its batch is committed"]

    /// An S3 object deleted after the run listed it, before its first read (trigger 1) or after its first
    /// 1 KiB (trigger 2): the run stops with a retryable `input-changed` that names it and says it is gone,
    /// commits nothing, and the next run, which no longer lists it, ingests the other object exactly.
    @Test(arguments: [1, 2]) func anS3ObjectDeletedAfterItWasListedStopsTheRunAndTheNextGoesOn(trigger: Int) async throws {
        let (s3, dir) = (try TestEnvironment.s3(), try TestEnvironment.temporaryDirectory("deleted-s3"))
        defer { TestEnvironment.cleanUp(dir) }
        let (client, raw, lake) = try await Self.buckets(on: s3)
        let hour = PrefixLayout.hour(of: Date()) - 2
        // The object deleted (in the later hour) and the one that stays, 200 records each, several 1 KiB reads.
        _ = try await PipelineSupport.generate(into: "s3://\(raw)/events/", firstHour: hour, hours: 1, files: 1, records: 200, firstID: 1, endpoint: s3.endpoint)
        let keptRows = try await PipelineSupport.generate(
            into: "s3://\(raw)/events/", firstHour: hour - 1, hours: 1, files: 1, records: 200, firstID: 10_000, endpoint: s3.endpoint)
        let deleted = try #require(try await client.listObjectsV2(bucket: raw, prefix: "events/" + PrefixLayout.firehose.prefix(forHour: hour)).objects.first)
        #expect(deleted.size > 2_048, "the object takes more than two reads")

        let plain = S3Source(client: client, bucket: raw, root: "events/", layout: .firehose)
        let location = "s3://\(raw)/\(deleted.key)"
        let deleting = Self.changing(plain, location: location, beforeRead: trigger) { try await client.deleteObject(bucket: raw, key: deleted.key) }
        let catalogPath = dir.appendingPathComponent("catalog.db").path
        let warehouse = "s3://\(lake)/wh"
        let catalog = try SQLiteCatalog(path: catalogPath, warehouse: warehouse, io: S3FileIO(client: client))
        try await Self.expectChangeCaught(
            first: deleting, second: plain, byte: Int64(trigger - 1) * 1_024, location: location, says: Self.gone, catalog: catalog,
            catalogPath: catalogPath, warehouse: warehouse, rows: keptRows, endpoint: s3.endpoint, dir: dir)
    }

    /// The same for a local file deleted after the run listed it.
    @Test(arguments: [1, 2]) func aLocalFileDeletedAfterItWasListedStopsTheRunAndTheNextGoesOn(trigger: Int) async throws {
        let dir = try TestEnvironment.temporaryDirectory("deleted-local")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 2
        let input = dir.appendingPathComponent("in").path
        _ = try await PipelineSupport.generate(into: input, firstHour: hour, hours: 1, files: 1, records: 200, firstID: 1)
        let keptRows = try await PipelineSupport.generate(into: input, firstHour: hour - 1, hours: 1, files: 1, records: 200, firstID: 10_000)
        let folder = input + "/" + PrefixLayout.firehose.prefix(forHour: hour)
        let path = folder + (try #require(try FileManager.default.contentsOfDirectory(atPath: folder).first))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0 > 2_048, "the file takes more than two reads")

        let plain = LocalFolderSource(root: input, layout: .firehose)
        let deleting = Self.changing(plain, location: path, beforeRead: trigger) { try FileManager.default.removeItem(atPath: path) }
        let catalogPath = dir.appendingPathComponent("catalog.db").path
        let warehouse = dir.appendingPathComponent("warehouse").path
        let catalog = try SQLiteCatalog(path: catalogPath, warehouse: warehouse)
        try await Self.expectChangeCaught(
            first: deleting, second: plain, byte: Int64(trigger - 1) * 1_024, location: path, says: Self.gone, catalog: catalog,
            catalogPath: catalogPath, warehouse: "file://" + warehouse, rows: keptRows, endpoint: "", dir: dir)
    }

    @Test(arguments: [1, 2]) func aLocalFileRewrittenAfterItWasListedIsNeverReadAsAMix(trigger: Int) async throws {
        let dir = try TestEnvironment.temporaryDirectory("replaced-local")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 2
        let input = dir.appendingPathComponent("in").path, next = dir.appendingPathComponent("next").path
        _ = try await PipelineSupport.generate(into: input, firstHour: hour, hours: 1, files: 1, records: 200, firstID: 1)
        let newRows = try await PipelineSupport.generate(into: next, firstHour: hour, hours: 1, files: 1, records: 200, firstID: 10_000)
        let folder = PrefixLayout.firehose.prefix(forHour: hour)
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: input + "/" + folder).first)
        let replacementName = try #require(try FileManager.default.contentsOfDirectory(atPath: next + "/" + folder).first)
        let path = input + "/" + folder + name
        let newBytes = try Data(contentsOf: URL(fileURLWithPath: next + "/" + folder + replacementName))
        #expect(newBytes.count > 2_048, "the file takes more than two reads")

        let plain = LocalFolderSource(root: input, layout: .firehose)
        let replacing = Self.changing(plain, beforeRead: trigger) { try newBytes.write(to: URL(fileURLWithPath: path)) }
        let catalogPath = dir.appendingPathComponent("catalog.db").path
        let warehouse = dir.appendingPathComponent("warehouse").path
        let catalog = try SQLiteCatalog(path: catalogPath, warehouse: warehouse)
        try await Self.expectChangeCaught(
            first: replacing, second: plain, byte: Int64(trigger - 1) * 1_024, location: path, says: ["rewritten since it was listed"], catalog: catalog,
            catalogPath: catalogPath, warehouse: "file://" + warehouse, rows: newRows, endpoint: "", dir: dir)
    }
}
