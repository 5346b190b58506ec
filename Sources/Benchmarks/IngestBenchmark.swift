import ArgumentParser
import Foundation
import IcebergCore
import IcebergIngest
import IcebergS3
import S3Reader

/// `iceberg-bench ingest`: the whole job on the local S3 server, side by side with PyIceberg on the same
/// input in the same run: N JSON-lines records (about 110 bytes each) in Firehose-style objects, ingested
/// into an `hour(event_time)`-partitioned table with the warehouse on S3. Ours: list, read, parse, write
/// Parquet (zstd), upload, commit. PyIceberg: boto3 list and get, `pyarrow.json.read_json`, `table.append`.
///
/// With `--connection-mbps N`, each of our connections receives at most N MB/s, as S3 gives one connection
/// some 100 MB/s (the local server gives it several GB/s): each run is then ours twice, with the default
/// prefetch (32 MiB of objects ahead, up to 128 MiB once parses wait for their objects) and held at
/// 32 MiB (two Firehose objects, the default before), and PyIceberg (whose connections are not held back)
/// is left out.
///
///     scripts/s3-testbed.sh -- .build/release/iceberg-bench ingest
///     scripts/s3-testbed.sh -- .build/release/iceberg-bench ingest --connection-mbps 80
struct IngestBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "End-to-end ingest of JSON lines on the local S3 server, against PyIceberg in the same run.")

    @Option(help: "Records in all.") var records = 1_000_000
    @Option(help: "Input objects (spread over 4 hours).") var objects = 8
    @Option(help: "Runs of each side (the median is reported).") var runs = 3
    @Option(help: "Python with PyIceberg, pyarrow and boto3 for the peer.") var python = ".venv/bin/python"
    @Flag(help: "Run our side only (to profile it, e.g. under perf).") var skipPeer = false
    @Option(help: "MB/s each of our connections may receive (0: no limit); compares our default prefetch with one held at 32 MiB instead of running PyIceberg.")
    var connectionMbps = 0.0

    static let schema = "id long not null, event_time timestamptz, user_id string, country string, amount double, ok boolean"

    /// The input: `objects` JSON-lines objects of `records / objects` events each, over the 4 hours up to
    /// `lastHour` (ISO timestamps with microseconds), the same bytes for every seed; with `csv`, the same
    /// events as CSV with a header line.
    static func events(records: Int, objects: Int, lastHour: Int32, csv: Bool = false) -> [(hour: Int32, bytes: [UInt8])] {
        var rng = SplitMix64(seed: 42)
        let countries = ["DE", "FR", "US", "JP", "BR", "IN", "GB", "ES"]
        let perObject = records / objects
        return (0..<objects).map { o in
            let hour = lastHour - Int32(o % 4)
            var text = csv ? "id,event_time,user_id,country,amount,ok\n" : ""
            text.reserveCapacity(perObject * 120)
            for i in 0..<perObject {
                let id = o * perObject + i
                let micros = Int64(hour) * 3_600_000_000 + Int64(rng.next() % 3_600_000_000)
                let seconds = micros / 1_000_000
                let date = Date(timeIntervalSince1970: TimeInterval(seconds))
                let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
                let iso = String(
                    format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, Int(micros % 1_000_000))
                let amount = Double(rng.next() % 1_000_000) / 100
                let (user, country, ok) = ("u\(rng.next() % 100_000)", countries[Int(rng.next() % 8)], rng.next() % 10 != 0)
                text += csv
                    ? "\(id),\(iso),\(user),\(country),\(amount),\(ok)\n"
                    : "{\"id\":\(id),\"event_time\":\"\(iso)\",\"user_id\":\"\(user)\",\"country\":\"\(country)\",\"amount\":\(amount),\"ok\":\(ok)}\n"
            }
            return (hour, Array(text.utf8))
        }
    }

    func run() async throws {
        let s3 = try BenchmarkS3(command: "ingest")
        let (endpoint, region, credentials) = (s3.endpoint, s3.region, s3.credentials)
        let client = s3.client()
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let raw = "bench-raw-\(suffix)"
        try await client.createBucket(raw)
        let lastHour = PrefixLayout.hour(of: Date()) - 1
        let perObject = records / objects
        var inputBytes = 0
        for (o, (hour, bytes)) in Self.events(records: records, objects: objects, lastHour: lastHour).enumerated() {
            inputBytes += bytes.count
            _ = try await client.putObject(bucket: raw, key: "events/" + PrefixLayout.firehose.prefix(forHour: hour) + "part-\(o).json", body: bytes)
        }
        print(String(format: "ingest: %d records, %d objects, %.1f MB of JSON lines on %@", perObject * objects, objects, Double(inputBytes) / 1e6, endpoint))

        var ours: [Double] = [], parse: [Double] = [], encode: [Double] = [], peers: [Double] = [], peerParse: [Double] = [], held: [Double] = []
        // Our CPU seconds plus the S3 server's, per run: on a machine where both share the cores, no schedule
        // finishes faster than their sum over the cores.
        var floors: [Double] = []
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // Our reads, held to S3's throughput per connection when asked.
        var limited = CurlTransport.Configuration()
        if connectionMbps > 0 { limited.maxReceiveBytesPerSecond = Int64(connectionMbps * 1e6) }
        let ourClient = connectionMbps > 0 ? s3.client(transport: CurlTransport(configuration: limited)) : client
        /// One run of ours into a fresh table; `prefetchBytes` nil keeps the default.
        func runOurs(_ label: String, run: Int, prefetchBytes: Int64?) async throws -> (seconds: Double, summary: RunSummary) {
            let tag = prefetchBytes.map { "p\($0)" } ?? "d"
            let lake = "bench-lake-\(suffix)-\(run)-\(tag)"
            try await client.createBucket(lake)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-ingest-\(suffix)-\(run)-\(tag)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let catalog = try SQLiteCatalog(path: dir.appendingPathComponent("catalog.db").path, warehouse: "s3://\(lake)/wh", io: S3FileIO(client: ourClient))
            let schema = try SchemaText.schema(Self.schema)
            var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "bench.events"), schema: schema)
            configuration.partitionSpec = try SchemaText.partitionSpec("hour(event_time)", schema: schema)
            if let prefetchBytes { configuration.prefetchBytes = prefetchBytes }
            let ingestor = Ingestor(configuration: configuration, catalog: catalog, source: S3Source(client: ourClient, bucket: raw, root: "events/", layout: .firehose))
            let (cpuBefore, serverBefore) = (ProcessMemory.cpuSeconds(), BenchmarkS3.serverCPUSeconds())
            let start = ContinuousClock.now
            let summary = try await ingestor.run()
            let seconds = start.seconds
            let cpu = ProcessMemory.cpuSeconds() - cpuBefore
            let serverSeconds = serverBefore.flatMap { before in BenchmarkS3.serverCPUSeconds().map { $0 - before } }
            let server = serverSeconds.map { String(format: "%.2f s", $0) } ?? "?"
            if let serverSeconds, prefetchBytes == nil { floors.append((cpu + serverSeconds) / Double(cores)) }
            guard summary.rows == perObject * objects else { throw ValidationError("ingested \(summary.rows) rows") }
            print(String(
                format: "  %@ run %d: %.2f s, cpu %.2f s + S3 server %@ (read %.2f, parse %.2f, encode %.2f, upload %.2f, commit %.2f), %d data files, %.1f MB",
                label, run + 1, seconds, cpu, server, summary.readSeconds, summary.parseSeconds, summary.encodeSeconds, summary.uploadSeconds, summary.commitSeconds,
                summary.dataFiles, Double(summary.dataBytes) / 1e6))
            return (seconds, summary)
        }
        let defaultAhead = Int(IngestConfiguration(table: try TableIdentifier(parsing: "bench.events"), schema: try SchemaText.schema(Self.schema)).prefetchBytes >> 20)
        if connectionMbps > 0 {
            print(String(format: "  each of our connections receives at most %.0f MB/s; PyIceberg is left out (its connections are not held back)", connectionMbps))
        }
        for run in 0..<runs {
            let (seconds, summary) = try await runOurs("ours", run: run, prefetchBytes: nil)
            ours.append(seconds)
            parse.append(summary.parseSeconds)
            encode.append(summary.encodeSeconds)
            if connectionMbps > 0 {
                // The same held at 32 MiB ahead (two objects): the default before.
                held.append(try await runOurs("ours held at 32 MiB ahead", run: run, prefetchBytes: 32 << 20).seconds)
                continue
            }
            if skipPeer { continue }
            let peerLake = "bench-peer-\(suffix)-\(run)"
            try await client.createBucket(peerLake)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-ingest-\(suffix)-\(run)-peer")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let (peerCPUBefore, peerServerBefore) = (ProcessMemory.childrenCPUSeconds(), BenchmarkS3.serverCPUSeconds())
            let output = try PythonPeer.run(
                python, code: Self.peerCode,
                arguments: [endpoint, region, credentials.accessKeyID, credentials.secretAccessKey, raw, "s3://\(peerLake)/wh", dir.appendingPathComponent("peer.db").path])
            let fields = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").compactMap { Double($0) }
            guard fields.count == 3, Int(fields[2]) == perObject * objects else { throw ValidationError("peer printed: \(output)") }
            peers.append(fields[0])
            peerParse.append(fields[1])
            print(String(
                format: "  PyIceberg run %d: %.2f s, process cpu %.2f s (Python's start and imports included) + S3 server %@ (read_json %.2f)", run + 1, fields[0],
                ProcessMemory.childrenCPUSeconds() - peerCPUBefore, Self.since(peerServerBefore), fields[1]))
        }
        let o = ours.median
        if !floors.isEmpty {
            print(String(format: "  CPU floor, median: (our CPU + the S3 server's) / %d cores = %.2f s (our wall %.2f s)", cores, floors.median, o))
        }
        if connectionMbps > 0 {
            return print(String(
                format: "  median: ours %.2f s with the default prefetch (up to %d MiB ahead), %.2f s held at 32 MiB: %.2fx faster", o, defaultAhead, held.median, held.median / o))
        }
        guard !skipPeer else { return print(String(format: "  median: ours %.2f s (parse %.2f s, encode %.2f s)", o, parse.median, encode.median)) }
        let p = peers.median
        print(String(format: "  median: ours %.2f s, PyIceberg %.2f s: %.2fx faster end to end", o, p, p / o))
        // Each run's ratio with the PyIceberg run right after it: the host's swings hit both alike.
        print("  paired runs, median of PyIceberg's time over ours: " + PairedRatios(peer: peers, ours: ours).text(atLeast: 4))
        print(String(format: "  stages, median: our parse %.2f s vs pyarrow read_json %.2f s; our Parquet encode %.2f s", parse.median, peerParse.median, encode.median))
    }

    /// The local S3 server's CPU seconds since `before`, as text ("?" for an external endpoint).
    static func since(_ before: Double?) -> String {
        guard let before, let now = BenchmarkS3.serverCPUSeconds() else { return "?" }
        return String(format: "%.2f s", now - before)
    }

    /// PyIceberg's side of the benchmarks' table: the events' Arrow schema (`arrow_schema`) and `create(catalog)`,
    /// which makes `bench.events` as ours is made (hour-partitioned, zstd).
    static let pythonTable = #"""
    import pyarrow as pa
    from pyiceberg.schema import Schema
    from pyiceberg.types import NestedField, LongType, TimestamptzType, StringType, DoubleType, BooleanType
    from pyiceberg.partitioning import PartitionSpec, PartitionField
    from pyiceberg.transforms import HourTransform
    arrow_schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("event_time", pa.timestamp("us", tz="UTC")),
        pa.field("user_id", pa.string()), pa.field("country", pa.string()), pa.field("amount", pa.float64()), pa.field("ok", pa.bool_())])
    def create(catalog):
        catalog.create_namespace("bench")
        schema = Schema(NestedField(1, "id", LongType(), required=True), NestedField(2, "event_time", TimestamptzType()),
            NestedField(3, "user_id", StringType()), NestedField(4, "country", StringType()), NestedField(5, "amount", DoubleType()),
            NestedField(6, "ok", BooleanType()))
        spec = PartitionSpec(PartitionField(source_id=2, field_id=1000, transform=HourTransform(), name="event_time_hour"))
        return catalog.create_table("bench.events", schema=schema, partition_spec=spec, properties={"write.parquet.compression-codec": "zstd"})

    """#

    static let peerCode = pythonTable + #"""
    import sys, time, io
    endpoint, region, key, secret, raw, warehouse, db = sys.argv[1:8]
    import boto3, pyarrow.json as pj
    from pyiceberg.catalog.sql import SqlCatalog
    t0 = time.perf_counter()
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=key, aws_secret_access_key=secret)
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=raw, Prefix="events/") for o in page.get("Contents", [])]
    parse = 0.0
    tables = []
    for k in keys:
        body = s3.get_object(Bucket=raw, Key=k)["Body"].read()
        t = time.perf_counter()
        tables.append(pj.read_json(io.BytesIO(body), parse_options=pj.ParseOptions(explicit_schema=arrow_schema)))
        parse += time.perf_counter() - t
    data = pa.concat_tables(tables).cast(arrow_schema)
    catalog = SqlCatalog("default", uri="sqlite:///" + db, warehouse=warehouse, **{"s3.endpoint": endpoint, "s3.region": region,
        "s3.access-key-id": key, "s3.secret-access-key": secret})
    table = create(catalog)
    table.append(data)
    total = time.perf_counter() - t0
    print("%.3f %.3f %d" % (total, parse, data.num_rows))
    """#
}
