import Foundation
import IcebergCore
import IcebergS3
import Prometheus
import S3Reader
import Synchronization
import Testing
import TestSupport

@testable import IcebergIngest

/// An object whose bytes are damaged (a gzip object cut short or with a flipped byte, a file that is not
/// Parquet) must not stop every run that follows. Under the bad-record policies `skip` and `dead-letter` it
/// is left out whole, counted, named and recorded as done, and every other object's rows are committed
/// exactly once (read back by PyIceberg and DuckDB); under `fail` the run stops naming it and saying how to
/// go on. What is not damage (well-formed input not read here, a file that does not fit the table, a new
/// field under drift `fail`) still stops the run under every policy.
@Suite(.serialized, .withinOneHour) struct DamagedObjectTests {
    /// The expected rows without the ids in `range` (the damaged object's).
    static func without(_ expected: String, ids range: Range<Int64>) throws -> String {
        guard case .array(let rows) = try JSONValue.parse(expected.trimmingCharacters(in: .whitespacesAndNewlines)) else { return expected }
        return JSONValue.array(rows.filter { row in
            guard case .int(let id)? = row["id"] else { return true }
            return !range.contains(id)
        }).serialized()
    }

    /// Four gzip objects of 100 rows on the local S3 server, the third cut short: under `skip` the run commits
    /// the other three exactly (the third came in the middle of a batch, which is read again without it), and
    /// the next run neither reads it again nor fails on it.
    @Test func aTruncatedObjectOnS3IsLeftOutWholeAndNotReadAgain() async throws {
        let s3 = try TestEnvironment.s3()
        let dir = try TestEnvironment.temporaryDirectory("damaged-s3")
        defer { TestEnvironment.cleanUp(dir) }
        let transport = CountingTransport()
        let client = s3.client(transport: transport)
        let (raw, lake) = (TestEnvironment.uniqueBucketName("raw"), TestEnvironment.uniqueBucketName("lake"))
        try await client.createBucket(raw)
        try await client.createBucket(lake)
        let hour = PrefixLayout.hour(of: Date()) - 2
        let expected = try await PipelineSupport.generate(
            into: "s3://\(raw)/events/", firstHour: hour, hours: 1, files: 4, records: 100, firstID: 1, endpoint: s3.endpoint)
        let keys = try await client.listObjectsV2(bucket: raw, prefix: "events/").objects.map(\.key).sorted()
        try #require(keys.count == 4)
        let damagedKey = keys[2]  // ids 201...300
        let whole = try await client.getObject(bucket: raw, key: damagedKey)
        try await client.putObject(bucket: raw, key: damagedKey, body: Array(whole.dropLast(40)))

        let catalogPath = dir.appendingPathComponent("catalog.db").path
        let catalog = try SQLiteCatalog(path: catalogPath, warehouse: "s3://\(lake)/wh", io: S3FileIO(client: client))
        var configuration = try PipelineSupport.configuration()
        configuration.badRecordPolicy = .skip
        configuration.commitEveryObjects = 3  // the damaged object is the last of the first batch
        configuration.reconcileEverySeconds = nil
        let ingestor = Ingestor(configuration: configuration, catalog: catalog, source: S3Source(client: client, bucket: raw, root: "events/", layout: .firehose))
        let one = try await ingestor.run()
        #expect(one.damagedObjects == 1 && one.objectsIngested == 3 && one.rows == 300, "\(one.jsonLine)")
        #expect(one.damagedObjectExamples.count == 1 && one.damagedObjectExamples[0].contains(damagedKey), "\(one.damagedObjectExamples)")
        #expect(one.snapshotIDs.count == 2)
        let output = try await PipelineSupport.check(
            catalogPath: catalogPath, warehouse: "s3://\(lake)/wh", table: "db.events", expected: try Self.without(expected, ids: 201..<301),
            endpoint: s3.endpoint, in: dir)
        #expect(output.hasPrefix("OK 300"), "\(output)")

        transport.reset()
        let two = try await ingestor.run()
        #expect(two.objectsAlreadyIngested == 4 && two.objectsIngested == 0 && two.damagedObjects == 0, "\(two.jsonLine)")
        #expect(transport.objectGets(bucket: raw).isEmpty)
    }

    /// Two damaged gzip objects among five, parsed two at a time: one whose stored CRC is wrong (its text is
    /// whole: every row parses, then the check at the member's end fails), one with a flipped byte inside
    /// its compressed data (garbage text: bad records, then the CRC). Under `dead-letter` each is left out
    /// whole, with one entry of kind `damaged-object` naming it and why (the bad records its garbage made go
    /// with it), and ends its batch; none of their rows is in the table. Under `fail` the run stops at the first, naming it and
    /// saying how to go on.
    @Test func corruptObjectsAreDeadLetteredOrStopTheRun() async throws {
        let dir = try TestEnvironment.temporaryDirectory("damaged-local")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("in").path
        let hour = PrefixLayout.hour(of: Date()) - 3
        let expected = try await PipelineSupport.generate(into: input + "/", firstHour: hour, hours: 1, files: 5, records: 200, firstID: 1)
        let folder = input + "/" + PrefixLayout.firehose.prefix(forHour: hour)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        try #require(names.count == 5)
        for (name, at) in [(names[1], { (count: Int) in count - 7 }), (names[3], { (count: Int) in count / 2 })] {  // ids 201...400, 601...800
            let url = URL(fileURLWithPath: folder + name)
            var bytes = try [UInt8](Data(contentsOf: url))
            bytes[at(bytes.count)] ^= 0x55
            try Data(bytes).write(to: url)
        }

        // Under `fail`: the run stops naming the object, with the way on; nothing is committed.
        let failing = dir.appendingPathComponent("wh-fail").path
        try FileManager.default.createDirectory(atPath: failing, withIntermediateDirectories: true)
        var configuration = try PipelineSupport.configuration()
        configuration.threads = 2
        do {
            _ = try await Ingestor(
                configuration: configuration, catalog: try SQLiteCatalog(path: failing + "/catalog.db", warehouse: failing),
                source: LocalFolderSource(root: input, layout: .firehose)
            ).run()
            Issue.record("a run under 'fail' went past a damaged object")
        } catch let error as IngestError {
            #expect(error.code == .corruptCompressedInput, "\(error)")
            #expect(error.message.contains(names[1]) && error.message.contains("under 'skip' or 'dead-letter' a damaged object is left out whole"), "\(error.message)")
        }

        // Under `dead-letter`: the other three objects' rows, once each; one dead-letter entry per damaged object.
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let catalogPath = warehouse + "/catalog.db"
        configuration.badRecordPolicy = .deadLetter
        let catalog = try SQLiteCatalog(path: catalogPath, warehouse: warehouse)
        var ingestor = Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: input, layout: .firehose))
        let registry = PrometheusCollectorRegistry()
        ingestor.metrics = IngestMetrics(table: "db.events", shard: configuration.shard.description, factory: PrometheusMetricsFactory(registry: registry))
        let summary = try await ingestor.run()
        let metrics = registry.emitToString()
        #expect(ObservabilityTests.value("iceberg_ingest_damaged_objects_total", in: metrics) == 2, "\(metrics)")
        #expect(ObservabilityTests.value("iceberg_ingest_objects_read_total", in: metrics) == 3, "\(metrics)")
        #expect(summary.damagedObjects == 2 && summary.objectsIngested == 3 && summary.rows == 600, "\(summary.jsonLine)")
        // The damaged objects' entries are theirs, not bad records': the garbage one's bad records went with it.
        #expect(summary.deadLettered == 0 && summary.badRecords == 0, "\(summary.jsonLine)")
        // Each damaged object ends its batch (objects 1-2, 3-4, 5): an object is read again at most once.
        #expect(summary.snapshotIDs.count == 3, "\(summary.jsonLine)")
        let output = try await PipelineSupport.check(
            catalogPath: catalogPath, warehouse: warehouse, table: "db.events",
            expected: try Self.without(Self.without(expected, ids: 201..<401), ids: 601..<801), in: dir)
        #expect(output.hasPrefix("OK 600"), "\(output)")

        let table = try await catalog.loadTable(configuration.table)
        for name in [names[1], names[3]] {
            let letter = DeadLetters(configuration: configuration, table: table).location(forKey: PrefixLayout.firehose.prefix(forHour: hour) + name)
            let text = String(decoding: try await table.io.read(letter), as: UTF8.self)
            let lines = text.split(separator: "\n")
            #expect(lines.count == 1, "\(text)")
            let entry = try JSONValue.parse(String(lines.first ?? ""))
            #expect(entry["kind"] == .string("damaged-object") && entry["line"] == .int(0), "\(text)")
            if case .string(let reason)? = entry["reason"] {
                #expect(reason.hasPrefix("the object is damaged and was left out whole: ") && reason.contains(name), "\(reason)")
            } else {
                Issue.record("no reason in \(text)")
            }
        }
    }

    /// Parquet input: a file that is not Parquet at all, beside two that are, under `skip`: left out whole,
    /// named in the summary; the other two files' rows are in the table.
    @Test func aFileThatIsNotParquetIsLeftOutUnderSkip() async throws {
        let (dir, input, hour) = try await ParquetInputTests.written(
            "damaged-parquet",
            #"""
            for n, first in (("a", 0), ("c", 10)):
                pq.write_table(pa.table({"id": pa.array(range(first, first + 10), pa.int64())}), os.path.join(d, n + ".parquet"))
            open(os.path.join(d, "b.parquet"), "wb").write(b"PAR1 this is not a Parquet file at all PAR1")
            """#)
        defer { TestEnvironment.cleanUp(dir) }
        let warehouse = dir.appendingPathComponent("wh").path
        let ingestor = try ParquetInputTests.ingestor(warehouse: warehouse, input: input, table: "db.pq", schema: "id long not null", badRecords: .skip)
        let summary = try await ingestor.run()
        let key = PrefixLayout.firehose.prefix(forHour: hour) + "b.parquet"
        #expect(summary.damagedObjects == 1 && summary.objectsIngested == 2 && summary.rows == 20, "\(summary.jsonLine)")
        #expect(summary.damagedObjectExamples.first?.contains(key + " is not a readable Parquet file") == true, "\(summary.damagedObjectExamples)")
        await #expect(try InputFormatTests.rows(warehouse, "db.pq") == (0..<20).map { #"{"id": \#($0)}"# })
        let again = try await ingestor.run()
        #expect(again.objectsAlreadyIngested == 3 && again.damagedObjects == 0, "\(again.jsonLine)")
    }

    /// Not damage, so never left out: an encrypted ZIP entry (well formed, not read here), a Parquet file
    /// without a column the table requires, and an Avro file with a field the table lacks under drift `fail`
    /// each stop a run under `skip` with their own error, and nothing of them is committed.
    @Test func whatIsNotDamageStillStopsTheRun() async throws {
        let (dir, input, hour) = try await ParquetInputTests.written(
            "not-damage",
            #"""
            import io, zipfile, fastavro
            pq.write_table(pa.table({"other": pa.array([1, 2], pa.int64())}), os.path.join(d, "a.parquet"))
            b = io.BytesIO()
            with zipfile.ZipFile(b, "w", compression=zipfile.ZIP_STORED) as z:
                z.writestr("e.jsonl", '{"id": 1}\n')
            data = bytearray(b.getvalue())
            data[6] |= 0x01  # the local header's flags: encrypted
            open(os.path.join(d, "b.zip"), "wb").write(bytes(data))
            schema = fastavro.parse_schema({"type": "record", "name": "E", "fields": [
                {"name": "id", "type": "long"}, {"name": "extra", "type": "string"}]})
            with open(os.path.join(d, "c.avro"), "wb") as f:
                fastavro.writer(f, schema, [{"id": 1, "extra": "x"}])
            """#)
        defer { TestEnvironment.cleanUp(dir) }
        let prefix = PrefixLayout.firehose.prefix(forHour: hour)
        for (format, name, code, words) in [
            ("parquet", "a.parquet", IngestError.Code.badRecord, "has no column for required field 'id'"),
            ("json", "b.zip", .corruptCompressedInput, "is encrypted"),
            ("avro", "c.avro", .schemaDrift, "extra"),
        ] {
            // One input per run: the others moved aside.
            let only = dir.appendingPathComponent("only-\(format)").path
            try FileManager.default.createDirectory(atPath: only + "/" + prefix, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: input + "/" + prefix + name, toPath: only + "/" + prefix + name)
            let warehouse = dir.appendingPathComponent("wh-\(format)").path
            let ingestor = try ParquetInputTests.ingestor(
                warehouse: warehouse, input: only, table: "db.t", schema: "id long not null", format: format, badRecords: .skip)
            var configuration = ingestor.configuration
            configuration.driftPolicy = .fail
            let strict = Ingestor(configuration: configuration, catalog: ingestor.catalog, source: ingestor.source)
            do {
                let summary = try await strict.run()
                Issue.record("\(name) was taken for damage and left out: \(summary.jsonLine)")
            } catch let error as IngestError {
                #expect(error.code == code && error.message.contains(name) && error.message.contains(words), "\(name): \(error)")
            }
            #expect(try await ingestor.catalog.loadTable(configuration.table).metadata.currentSnapshot == nil, "\(name)")
        }
    }

    /// `evolve` replaces its objects' rows in one overwrite commit: an object that reads back damaged there
    /// cannot be left out (the table's rows of it would go), so the reprocessing stops under `skip` too and
    /// the table is untouched.
    @Test func aReprocessingStopsOnADamagedObject() async throws {
        let (dir, catalog, plain) = try SchemaEvolveTests.setUp("damaged-evolve", policy: .ignore)
        defer { TestEnvironment.cleanUp(dir) }
        // a.json as gzip (the format is told by its bytes).
        let hour = PrefixLayout.hour(of: Date()) - 3
        let path = dir.appendingPathComponent("in/" + PrefixLayout.firehose.prefix(forHour: hour) + "a.json").path
        _ = try await PythonTool.run(
            "import sys, gzip; p = sys.argv[1]; d = open(p, 'rb').read(); open(p, 'wb').write(gzip.compress(d, mtime=0))", arguments: [path])
        // Once armed, reads of a.json come back with a byte of its gzip CRC flipped (the object as stored is
        // unchanged: same bytes, same modification time).
        let armed = Mutex(false)
        let source = InterceptingSource(plain.source) { object, range, inner in
            var bytes = try await inner.read(object, range: range)
            if armed.withLock({ $0 }), object.key.hasSuffix("a.json"), range.upperBound == object.size, bytes.count >= 8 {
                bytes[bytes.count - 7] ^= 0x55
            }
            return bytes
        }
        let ingestor = Ingestor(configuration: plain.configuration, catalog: catalog, source: source)
        let first = try await ingestor.run()
        #expect(first.rows == 5 && first.damagedObjects == 0, "\(first.jsonLine)")
        let before = try await catalog.loadTable(plain.configuration.table)

        armed.withLock { $0 = true }
        do {
            let done = try await ingestor.evolve(apply: true)
            Issue.record("a reprocessing went past a damaged object: \(done)")
        } catch let error as IngestError {
            #expect(error.code == .corruptCompressedInput && error.message.contains("a.json"), "\(error)")
        }
        #expect(try await catalog.loadTable(plain.configuration.table).metadataLocation == before.metadataLocation)
    }

    /// Inference reads a sample: a damaged object in it gives the records before the damage and is named
    /// (`damaged`), instead of stopping `infer` (and a routed job's first table) on it for good.
    @Test func inferenceSamplesADamagedObjectUpToTheDamage() async throws {
        let dir = try TestEnvironment.temporaryDirectory("damaged-infer")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("in").path
        let hour = PrefixLayout.hour(of: Date()) - 3
        _ = try await PipelineSupport.generate(into: input + "/", firstHour: hour, hours: 1, files: 2, records: 200, firstID: 1)
        let folder = input + "/" + PrefixLayout.firehose.prefix(forHour: hour)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        let url = URL(fileURLWithPath: folder + names[0])
        let bytes = try [UInt8](Data(contentsOf: url))
        try Data(bytes.prefix(bytes.count * 2 / 3)).write(to: url)  // cut short

        let sample = try await SchemaInference.sample(source: LocalFolderSource(root: input, layout: .firehose), format: .json)
        #expect(sample.damaged.count == 1 && sample.damaged[0].contains(names[0]) && sample.damaged[0].contains("truncated"), "\(sample.damaged)")
        #expect(sample.objects.count == 2 && sample.inference.records > 200, "\(sample.inference.records) records")
        #expect(sample.inference.schemaText.contains("id long") && sample.inference.schemaText.contains("event_time"), "\(sample.inference.schemaText)")
    }
}
