import Foundation
import IcebergCore
import S3Reader
import Testing
import TestSupport

@testable import IcebergIngest

/// Parquet inputs made by pyarrow: registered as they are when they match the table, rewritten otherwise.
@Suite(.withinOneHour) struct ParquetInputTests {
    static let writer = #"""
    import sys, os, pyarrow as pa, pyarrow.parquet as pq
    root, hour = sys.argv[1], int(sys.argv[2])
    import datetime
    def folder(h):
        d = os.path.join(root, datetime.datetime.fromtimestamp(h * 3600, datetime.timezone.utc).strftime("%Y/%m/%d/%H"))
        os.makedirs(d, exist_ok=True)
        return d
    # Matches the table: field ids, types, microsecond timestamps, one hour.
    schema = pa.schema([
        pa.field("id", pa.int64(), nullable=False, metadata={"PARQUET:field_id": "1"}),
        pa.field("event_time", pa.timestamp("us", tz="UTC"), metadata={"PARQUET:field_id": "2"}),
        pa.field("name", pa.string(), metadata={"PARQUET:field_id": "3"}),
    ])
    base = hour * 3600 * 1000000
    pq.write_table(pa.table([pa.array(range(1, 101), pa.int64()), pa.array([base + i for i in range(100)], pa.timestamp("us", tz="UTC")),
                             pa.array(["a%d" % i for i in range(100)])], schema=schema), os.path.join(folder(hour), "match.parquet"))
    # No field ids, int32 ids, nanosecond timestamps, two hours in one file: must be rewritten.
    other = pa.schema([pa.field("id", pa.int32()), pa.field("event_time", pa.timestamp("ns", tz="UTC")), pa.field("name", pa.string())])
    times = [(base + i * 60000000) * 1000 for i in range(100)] + [(base + 3600 * 1000000 + i) * 1000 for i in range(50)]
    pq.write_table(pa.table([pa.array(range(101, 251), pa.int32()), pa.array(times, pa.timestamp("ns", tz="UTC")),
                             pa.array([None if i % 9 == 0 else "b%d" % i for i in range(150)])], schema=other), os.path.join(folder(hour), "other.parquet"))
    """#

    static let reader = #"""
    import sys
    from pyiceberg.catalog.sql import SqlCatalog
    c = SqlCatalog("default", uri="sqlite:///" + sys.argv[1], warehouse="file://" + sys.argv[2])
    t = c.load_table("db.pq")
    rows = sorted(t.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
    files = sorted(f.file.file_path.rsplit("/", 1)[-1] for f in t.scan().plan_files())
    import datetime
    hour = int(sys.argv[3])
    base = datetime.datetime.fromtimestamp(hour * 3600, datetime.timezone.utc)
    assert len(rows) == 250, len(rows)
    for r in rows:
        i = r["id"]
        if i <= 100:
            assert r["event_time"] == base + datetime.timedelta(microseconds=i - 1) and r["name"] == "a%d" % (i - 1), r
        else:
            k = i - 101
            want = base + (datetime.timedelta(minutes=k) if k < 100 else datetime.timedelta(hours=1, microseconds=k - 100))
            assert r["event_time"] == want, (r, want)
            assert r["name"] == (None if k % 9 == 0 else "b%d" % k), r
    print(" ".join(files))
    """#

    @Test func registersMatchingFilesAndRewritesOthers() async throws {
        let dir = try TestEnvironment.temporaryDirectory("parquet-input")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 3
        let input = dir.appendingPathComponent("in").path
        _ = try await PythonTool.run(Self.writer, arguments: [input, String(hour)])
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        let schema = try SchemaText.schema("id long not null, event_time timestamptz, name string")
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.pq"), schema: schema)
        configuration.partitionSpec = try SchemaText.partitionSpec("hour(event_time)", schema: schema)
        configuration.format = try InputFormat(parsing: "parquet")
        let summary = try await Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: input, layout: .firehose)).run()
        #expect(summary.rows == 250)
        #expect(summary.dataFilesRegistered == 1)
        #expect(summary.dataFiles == 2)  // the rewritten file's two hours
        let files = try await PythonTool.run(Self.reader, arguments: [warehouse + "/catalog.db", warehouse, String(hour)])
        #expect(files.contains("match.parquet"))
        #expect(files.split(separator: " ").count == 3)

        // A compaction rewrites the registered file with the hour's other one; once the snapshots naming it
        // expire, the expiry deletes the table's own file but not the source's object.
        let compaction = Compaction(table: try await catalog.loadTable(configuration.table), catalog: catalog)
        let compacted = try await compaction.run()
        let registered = input + "/" + PrefixLayout.firehose.prefix(forHour: hour) + "match.parquet"
        #expect(compacted.inputFiles.contains { $0.hasSuffix(registered) } && compacted.inputFiles.count == 2, "\(compacted.inputFiles)")
        var expire = ExpireSnapshots(table: try await catalog.loadTable(configuration.table), catalog: catalog)
        expire.sparingFilesOutsideTable()
        expire.olderThanMillis = WallClock.nowMillis() + 60_000
        expire.retainLast = 1
        let expired = try await expire.run()
        #expect(expired.deletedDataFiles.count == 1 && !expired.deletedDataFiles.contains { $0.hasSuffix("match.parquet") }, "\(expired.deletedDataFiles)")
        #expect(FileManager.default.fileExists(atPath: registered))
        #expect(try await PythonTool.run(Self.reader, arguments: [warehouse + "/catalog.db", warehouse, String(hour)]).split(separator: " ").count == 2)
    }

    /// An ingestor of the `format` objects under `input` into `table` (unpartitioned), SQLite catalog in `warehouse`.
    static func ingestor(
        warehouse: String, input: String, table: String, schema: String, format: String = "parquet", badRecords: BadRecordPolicy = .fail
    ) throws -> Ingestor {
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: table), schema: try SchemaText.schema(schema))
        configuration.format = try InputFormat(parsing: format)
        configuration.badRecordPolicy = badRecords
        return Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: input, layout: .firehose))
    }

    /// A temporary folder with the Parquet files `body` writes (pyarrow, in Python) into the hour folder `d` of
    /// an hour 3 hours back (`hour`, also given to `body`), under `<folder>/in`.
    static func written(_ label: String, _ body: String) async throws -> (dir: URL, input: String, hour: Int32) {
        let dir = try TestEnvironment.temporaryDirectory(label)
        let hour = PrefixLayout.hour(of: Date()) - 3
        let input = dir.appendingPathComponent("in").path
        let preamble = #"""
            import sys, os, datetime, decimal, pyarrow as pa, pyarrow.parquet as pq
            root, hour = sys.argv[1], int(sys.argv[2])
            d = os.path.join(root, datetime.datetime.fromtimestamp(hour * 3600, datetime.timezone.utc).strftime("%Y/%m/%d/%H"))
            os.makedirs(d, exist_ok=True)

            """#
        do {
            _ = try await PythonTool.run(preamble + body, arguments: [input, String(hour)])
        } catch {
            TestEnvironment.cleanUp(dir)
            throw error
        }
        return (dir, input, hour)
    }

    /// What Hive, older Spark and many exporters write: INT96 timestamps (`use_deprecated_int96_timestamps`)
    /// and INT32 TIME(MILLIS) times. They are converted (rewritten, never registered as they are) instead of
    /// refused, and PyIceberg reads every value back, nulls included.
    @Test func int96TimestampsAndMillisecondTimesAreConverted() async throws {
        let (dir, input, hour) = try await Self.written(
            "parquet-int96",
            #"""
            base = hour * 3600 * 1000000
            table = pa.table({
                "id": pa.array(range(1, 52), pa.int64()),
                "event_time": pa.array([base + i * 1000003 for i in range(50)] + [None], pa.timestamp("us", tz="UTC")),
                "at": pa.array([(i * 61001) % 86400000 for i in range(50)] + [None], pa.time32("ms")),
            })
            pq.write_table(table, os.path.join(d, "legacy.parquet"), use_deprecated_int96_timestamps=True)
            meta = pq.ParquetFile(os.path.join(d, "legacy.parquet")).schema
            assert meta.column(1).physical_type == "INT96" and meta.column(2).physical_type == "INT32", meta
            """#)
        defer { TestEnvironment.cleanUp(dir) }
        let warehouse = dir.appendingPathComponent("wh").path
        let summary = try await Self.ingestor(warehouse: warehouse, input: input, table: "db.legacy", schema: "id long not null, event_time timestamptz, at time").run()
        #expect(summary.rows == 51 && summary.dataFilesRegistered == 0, "\(summary.jsonLine)")
        let reader = #"""
            import sys, datetime
            from pyiceberg.catalog.sql import SqlCatalog
            t = SqlCatalog("default", uri="sqlite:///" + sys.argv[1], warehouse="file://" + sys.argv[2]).load_table("db.legacy")
            rows = sorted(t.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
            base = datetime.datetime.fromtimestamp(int(sys.argv[3]) * 3600, datetime.timezone.utc)
            assert len(rows) == 51, len(rows)
            for i, r in enumerate(rows[:50]):
                assert r["event_time"] == base + datetime.timedelta(microseconds=i * 1000003), r
                ms = (i * 61001) % 86400000
                assert r["at"] == (datetime.datetime.min + datetime.timedelta(milliseconds=ms)).time(), r
            assert rows[50]["event_time"] is None and rows[50]["at"] is None, rows[50]
            print("OK", len(rows))
            """#
        let output = try await PythonTool.run(reader, arguments: [warehouse + "/catalog.db", warehouse, String(hour)])
        #expect(output.hasPrefix("OK 51"), "\(output)")
    }

    /// A decimal in another physical type than Iceberg's (pyarrow's default: FIXED_LEN_BYTE_ARRAY for every
    /// precision) is refused, naming the file and the column, instead of being misread.
    @Test func decimalsInAnotherPhysicalTypeAreRefusedNotMisread() async throws {
        let (dir, input, _) = try await Self.written(
            "parquet-decimal",
            #"""
            table = pa.table({"id": pa.array([1, 2], pa.int64()), "amount": pa.array([decimal.Decimal("1.25"), decimal.Decimal("-3.50")], pa.decimal128(9, 2))})
            pq.write_table(table, os.path.join(d, "amounts.parquet"))
            assert pq.ParquetFile(os.path.join(d, "amounts.parquet")).schema.column(1).physical_type == "FIXED_LEN_BYTE_ARRAY"
            """#)
        defer { TestEnvironment.cleanUp(dir) }
        let ingestor = try Self.ingestor(
            warehouse: dir.appendingPathComponent("wh").path, input: input, table: "db.amounts", schema: "id long not null, amount decimal(9,2)")
        let error = await #expect(throws: (any Error).self) { _ = try await ingestor.run() }
        let message = "\(error.map { String(describing: $0) } ?? "")"
        #expect(message.contains("amounts.parquet") && message.contains("'amount'") && message.contains("store_decimal_as_integer"), "\(message)")
    }
}
