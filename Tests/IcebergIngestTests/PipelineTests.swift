import Foundation
import Synchronization
import IcebergCore
import IcebergS3
import Logging
import S3Reader
import Testing
import TestSupport

@testable import IcebergIngest

/// End to end: Firehose-style files in, a partitioned table out, read back by PyIceberg and DuckDB with
/// every value equal to the source.
@Suite(.serialized, .withinOneHour) struct PipelineTests {
    /// Whole hours since the epoch, now.
    static var nowHour: Int32 { PrefixLayout.hour(of: Date()) }

    @Test func localFolderToPartitionedTable() async throws {
        let dir = try TestEnvironment.temporaryDirectory("pipeline-local")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("input").path
        let first = Self.nowHour - 4
        let expected = try await PipelineSupport.generate(into: input, firstHour: first, hours: 3, files: 2, records: 150, firstID: 1)
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        var configuration = try PipelineSupport.configuration()
        configuration.targetFileSizeBytes = 1 << 20
        let ingestor = Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: input, layout: .firehose))
        let summary = try await ingestor.run()
        #expect(summary.objectsIngested == 6)
        #expect(summary.rows == 900 && summary.badRecords == 0)
        #expect(summary.lines == 900)
        #expect(summary.unknownFields == ["unknown_field": 900 / 11])
        #expect(summary.dataFiles == 3)  // one per hour partition
        #expect(summary.snapshotIDs.count == 1)
        let output = try await PipelineSupport.check(catalogPath: warehouse + "/catalog.db", warehouse: "file://" + warehouse, table: "db.events", expected: expected, in: dir)
        #expect(output.hasPrefix("OK 900 1 3"))

        // Nothing new: nothing read, nothing committed.
        let again = try await ingestor.run()
        #expect(again.objectsIngested == 0 && again.snapshotIDs.isEmpty)
        #expect(again.objectsAlreadyIngested == 6)

        // The status reports the checkpoint and lag.
        let status = try await ingestor.status()
        #expect(status.checkpointVersion == 1)
        #expect(status.totalRecords == 900)
        #expect(status.watermarkHour == Self.nowHour - 6)
        #expect(status.lagHours == 6)
        #expect(status.trackedObjects == 6)
    }

    /// A namespace create whose connection fails (a POST is not resent blindly, so the REST client gives up
    /// at once) is asked again once the catalog says the namespace is not there; the run goes on.
    @Test func aFailedNamespaceCreateIsAskedAgain() async throws {
        let dir = try TestEnvironment.temporaryDirectory("pipeline-namespace")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("input").path
        _ = try await PipelineSupport.generate(into: input, firstHour: Self.nowHour - 2, hours: 1, files: 1, records: 5, firstID: 1)
        let failures = Mutex(0)
        var catalog = ForwardingCatalog(inner: InMemoryCatalog(warehouse: dir.appendingPathComponent("wh").path))
        catalog.beforeCreateNamespace = { _ in
            guard failures.withLock({ count in defer { count += 1 }; return count == 0 }) else { return }
            throw IcebergError(.catalog, "POST /v1/namespaces failed: Send failed since rewinding of the data stream failed", isRetryable: true)
        }
        let ingestor = Ingestor(configuration: try PipelineSupport.configuration(), catalog: catalog, source: LocalFolderSource(root: input, layout: .firehose))
        #expect(try await ingestor.run().rows == 5)
        #expect(failures.withLock { $0 } == 2, "one failed create, then one that worked")
    }

    @Test func badRecordPolicies() async throws {
        let dir = try TestEnvironment.temporaryDirectory("pipeline-bad")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = Self.nowHour - 1
        let folder = try PipelineSupport.hourFolder(in: dir, hour: hour)
        let t = "\"event_time\": \(Int64(hour) * 3600)"
        let lines = [
            "{\"id\": 1, \(t)}", "{\"id\": \"two\", \(t)}", "", "{\"id\": 3, \(t), \"amount\": \"1.005\"}", "{\"id\": 4, \(t)", "{\"id\": 5, \(t)}",
        ]
        try Data(lines.joined(separator: "\n").utf8).write(to: folder.appendingPathComponent("a.json"))
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        let source = LocalFolderSource(root: dir.appendingPathComponent("in").path, layout: .firehose)

        // fail: the error names the file, line, byte offset, field and value; nothing is committed.
        var configuration = try PipelineSupport.configuration(table: "db.fail")
        configuration.badRecordPolicy = .fail
        do {
            _ = try await Ingestor(configuration: configuration, catalog: catalog, source: source).run()
            Issue.record("a bad record under 'fail' must stop the run")
        } catch let error as IngestError {
            #expect(error.code == .badRecord)
            #expect(error.message.contains("a.json line 2, byte 43, field 'id': expected long, found a string 'two'"))
        }
        #expect(try await catalog.loadTable(configuration.table).metadata.currentSnapshot == nil)

        // skip: counted, every line accounted for (6 lines = 3 rows + 2 bad + 1 blank).
        configuration.table = try TableIdentifier(parsing: "db.skip")
        configuration.badRecordPolicy = .skip
        let skipped = try await Ingestor(configuration: configuration, catalog: catalog, source: source).run()
        #expect(skipped.rows == 2 && skipped.badRecords == 3 && skipped.lines == 6)
        #expect(skipped.badRecordExamples.count == 3)

        // dead-letter: the records as read, with the reasons, in one file per input object.
        configuration.table = try TableIdentifier(parsing: "db.dead")
        configuration.badRecordPolicy = .deadLetter
        configuration.deadLetterLocation = dir.appendingPathComponent("dead").path
        let dead = try await Ingestor(configuration: configuration, catalog: catalog, source: source).run()
        #expect(dead.rows == 2 && dead.deadLettered == 3)
        let letters = try String(contentsOf: dir.appendingPathComponent("dead/" + PrefixLayout.firehose.prefix(forHour: hour) + "a.json.bad.jsonl"), encoding: .utf8)
        let records = letters.split(separator: "\n").map { try? JSONValue.parse(String($0)) }
        #expect(records.count == 3)
        #expect(records[0]?["line"] == .int(2) && records[0]?["field"] == .string("id"))
        #expect(records[1]?["reason"] == .string("'1.005' has more than 2 decimal places for decimal(10,2)"))
        #expect(records[2]?["record"] == .string("{\"id\": 4, \(t)\n"))
    }

    /// Firehose-style gzip JSON on the local S3 server, the warehouse there too: a first run, a second run
    /// that GETs nothing, a late file in an old hour inside the window, then PyIceberg and DuckDB read it all.
    @Test func s3EndToEndIsIncremental() async throws {
        let s3 = try TestEnvironment.s3()
        let dir = try TestEnvironment.temporaryDirectory("pipeline-s3")
        defer { TestEnvironment.cleanUp(dir) }
        let transport = CountingTransport()
        let client = s3.client(transport: transport)
        let sourceBucket = TestEnvironment.uniqueBucketName("raw")
        let lakeBucket = TestEnvironment.uniqueBucketName("lake")
        try await client.createBucket(sourceBucket)
        try await client.createBucket(lakeBucket)
        let first = Self.nowHour - 5
        let part1 = try await PipelineSupport.generate(
            into: "s3://\(sourceBucket)/events/", firstHour: first, hours: 4, files: 3, records: 100, firstID: 1, endpoint: s3.endpoint)

        let catalogPath = dir.appendingPathComponent("catalog.db").path
        let catalog = try SQLiteCatalog(path: catalogPath, warehouse: "s3://\(lakeBucket)/wh", io: S3FileIO(client: client))
        let source = S3Source(client: client, bucket: sourceBucket, root: "events/", layout: .firehose)
        var configuration = try PipelineSupport.configuration()
        configuration.commitEveryObjects = 5  // several commits in one run
        configuration.reconcileEverySeconds = nil  // reconciliations only when asked (below), so the pass is the bare incremental one
        let ingestor = Ingestor(configuration: configuration, catalog: catalog, source: source)
        let one = try await ingestor.run()
        #expect(one.objectsIngested == 12 && one.rows == 1200)
        #expect(one.snapshotIDs.count == 3)
        #expect(one.checkpointVersion == 3)

        // Second run: lists the open hours, GETs no source object.
        transport.reset()
        let two = try await ingestor.run()
        #expect(two.objectsIngested == 0 && two.objectsAlreadyIngested == 12)
        #expect(transport.objectGets(bucket: sourceBucket).isEmpty)
        // Listings of the source bucket only (the lease and checkpoint listings go to the lake bucket).
        let lists = transport.listRequests.filter { $0.contains("/\(sourceBucket)?") || $0.contains("/\(sourceBucket)/?") }
        #expect(lists.count == 12)  // the hours after the horizon (now - 12) up to now, one page each

        // A reconciliation lists the 168 closed hours below the horizon too, and reads nothing: the archive
        // says every object there is in. 180 hours are listed flat: one request (12 keys, one page), not 180.
        transport.reset()
        let reconciled = try await ingestor.run(reconcile: true)
        #expect(reconciled.lateFiles == 0 && reconciled.objectsIngested == 0 && reconciled.closedHoursListed == 168)
        #expect(transport.listRequests.filter { $0.contains("/\(sourceBucket)?") || $0.contains("/\(sourceBucket)/?") }.count == 1)
        #expect(transport.objectGets(bucket: sourceBucket).isEmpty)

        // A late file lands in an hour that is already partly ingested, inside the window.
        let part2 = try await PipelineSupport.generate(
            into: "s3://\(sourceBucket)/events/", firstHour: first + 1, hours: 1, files: 1, records: 50, firstID: 100_000, endpoint: s3.endpoint)
        transport.reset()
        let three = try await ingestor.run()
        #expect(three.objectsIngested == 1 && three.rows == 50)
        #expect(Set(transport.objectGets(bucket: sourceBucket).map { $0.components(separatedBy: "?").first! }).count == 1)

        let expected = try PipelineSupport.merge([part1, part2])
        let output = try await PipelineSupport.check(
            catalogPath: catalogPath, warehouse: "s3://\(lakeBucket)/wh", table: "db.events", expected: expected, endpoint: s3.endpoint, in: dir)
        #expect(output.hasPrefix("OK 1250"))
    }
}

/// Keeps the messages logged at info and above, for a test to look for one.
final class CapturedLog: @unchecked Sendable {
    // Safe: `messages` is only touched under `lock`.
    private let lock = NSLock()
    private var messages: [String] = []

    var all: [String] { lock.withLock { messages } }
    func append(_ message: String) { lock.withLock { messages.append(message) } }

    var logger: Logger { Logger(label: "test", factory: { _ in Handler(log: self) }) }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { log.append(event.message.description) }
    }
}

extension PipelineTests {
    /// Objects read over connections slower than the parse (S3 gives one some 100 MB/s; here each is held
    /// to 15 MB/s, far below what a parse reads even with the suite's other tests on the same cores: at
    /// 60 MB/s a loaded run once parsed slower than that and never waited): once a parse has waited for an
    /// object fetched ahead, the run fetches more at once, says so, and still ingests every record once.
    /// The first two objects are read as ramps of four ranges each (1, 2 and 4 MiB, then the rest, asked at
    /// once, their ends inside records): DuckDB reads every id and note back.
    @Test func aSlowConnectionGetsMoreObjectsFetchedAhead() async throws {
        let s3 = try TestEnvironment.s3()
        let dir = try TestEnvironment.temporaryDirectory("prefetch-grows")
        defer { TestEnvironment.cleanUp(dir) }
        var capped = CurlTransport.Configuration()
        capped.maxReceiveBytesPerSecond = 15_000_000
        let client = s3.client(transport: CurlTransport(configuration: capped))
        let sourceBucket = TestEnvironment.uniqueBucketName("raw"), lakeBucket = TestEnvironment.uniqueBucketName("lake")
        try await client.createBucket(sourceBucket)
        try await client.createBucket(lakeBucket)
        // Six objects of 12 MB: two fit the 32 MiB a pass starts with.
        let hour = Self.nowHour - 1
        let time = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(hour) * 3600 + 60))
        let note = String(repeating: "n", count: 200)
        let perObject = 12_000_000 / 250
        for o in 0..<6 {
            var text = ""
            text.reserveCapacity(perObject * 260)
            for i in 0..<perObject { text += "{\"id\":\(o * perObject + i),\"event_time\":\"\(time)\",\"note\":\"\(note)\"}\n" }
            try await client.putObject(bucket: sourceBucket, key: "events/" + PrefixLayout.firehose.prefix(forHour: hour) + "part-\(o).json", body: Array(text.utf8))
        }
        let schema = try SchemaText.schema("id long not null, event_time timestamptz, note string")
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.events"), schema: schema)
        configuration.partitionSpec = try SchemaText.partitionSpec("hour(event_time)", schema: schema)
        configuration.threads = 2
        let catalog = try SQLiteCatalog(path: dir.appendingPathComponent("catalog.db").path, warehouse: "s3://\(lakeBucket)/wh", io: S3FileIO(client: client))
        let log = CapturedLog()
        let ingestor = Ingestor(
            configuration: configuration, catalog: catalog, source: S3Source(client: client, bucket: sourceBucket, root: "events/", layout: .firehose),
            logger: log.logger)
        let summary = try await ingestor.run()
        #expect(summary.objectsIngested == 6 && summary.rows == 6 * perObject && summary.badRecords == 0)
        let grew = log.all.filter { $0.hasPrefix("reading up to 128 MiB ahead: waited") }
        #expect(grew.count == 1, "\(log.all)")
        let table = try await catalog.loadTable(configuration.table)
        #expect(table.metadata.currentSnapshot?.summary["total-records"] == "\(6 * perObject)")
        let read = try await PythonTool.run(
            #"""
            import os, sys, duckdb
            from duckdb_extensions import import_extension
            metadata, endpoint = sys.argv[1:3]
            con = duckdb.connect()
            con.execute("SET autoinstall_known_extensions=false")
            for ext in ("avro", "httpfs", "iceberg"):
                import_extension(ext, con=con)
                con.execute(f"LOAD {ext}")
            env = os.environ.get
            con.execute(f"CREATE SECRET (TYPE s3, KEY_ID '{env('AWS_ACCESS_KEY_ID', 'testing')}', SECRET '{env('AWS_SECRET_ACCESS_KEY', 'testing')}', "
                        f"REGION '{env('AWS_REGION', 'us-east-1')}', ENDPOINT '{endpoint.split('://', 1)[1]}', URL_STYLE 'path', USE_SSL {str(endpoint.startswith('https')).lower()})")
            print(*con.execute(f"SELECT count(*), count(DISTINCT id), min(id), max(id), sum(id), min(length(note)), max(length(note)) FROM iceberg_scan('{metadata}')").fetchone())
            """#, arguments: [table.metadataLocation, s3.endpoint])
        let n = 6 * perObject
        #expect(read.trimmingCharacters(in: .whitespacesAndNewlines) == "\(n) \(n) 0 \(n - 1) \(n * (n - 1) / 2) 200 200")
    }
}
