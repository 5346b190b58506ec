import ArgumentParser
import Foundation
import IcebergCore
import IcebergIngest
import S3Reader

/// `iceberg-bench evolve`: a deliberate schema change with the backfill of what was dropped, side by side
/// with PyIceberg on the same input in the same run. N JSON-lines records in 2 objects per hour over 12 hours
/// (local folder, local warehouse, SQLite catalog); one object in six carries a field the table lacks, and
/// was ingested under the drift policy `ignore`.
///
/// Ours: `Ingestor.evolve(apply: true)`: plan from the lineage, read the drifted objects and those sharing
/// data files with them again, one overwrite commit with the schema change. PyIceberg, told which hours hold
/// the field (it has no lineage): `update_schema`, `pyarrow.json.read_json` of every object of those hours,
/// one `table.overwrite` with a filter on those hours.
///
///     .build/release/iceberg-bench evolve
struct EvolveBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evolve", abstract: "Schema evolution with reprocessing, against PyIceberg's update_schema + overwrite, in one run.")

    @Option(help: "Records in all.") var records = 480_000
    @Option(help: "Runs of each side (the median is reported).") var runs = 3
    @Option(help: "Python with PyIceberg and pyarrow for the peer.") var python = ".venv/bin/python"

    static let schema = "id long not null, event_time timestamptz, user_id string, amount double"
    static let hours = 12

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bench-evolve-\(UUID().uuidString.prefix(8).lowercased())")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in")
        let lastHour = PrefixLayout.hour(of: Date()) - 3
        let objects = Self.hours * 2
        let perObject = records / objects
        var rng = SplitMix64(seed: 7)
        var driftedHours: [Int32] = []
        var inputBytes = 0
        for o in 0..<objects {
            let hour = lastHour - Int32(o / 2)
            let drifted = o % 6 == 0
            if drifted { driftedHours.append(hour) }
            var text = ""
            text.reserveCapacity(perObject * 110)
            for i in 0..<perObject {
                let micros = Int64(hour) * 3_600_000_000 + Int64(rng.next() % 3_600_000_000)
                let browser = drifted ? ",\"browser\":\"b\(rng.next() % 50)\"" : ""
                text += "{\"id\":\(o * perObject + i),\"event_time\":\(micros / 1000),\"user_id\":\"u\(rng.next() % 100_000)\",\"amount\":\(Double(rng.next() % 100_000) / 100)\(browser)}\n"
            }
            let folder = input.appendingPathComponent(PrefixLayout.firehose.prefix(forHour: hour))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try text.write(to: folder.appendingPathComponent("part-\(o).json"), atomically: true, encoding: .utf8)
            inputBytes += text.utf8.count
        }
        print(String(
            format: "evolve: %d records in %d objects (%.1f MB), %d objects (in %d hours) carry a new field", perObject * objects, objects,
            Double(inputBytes) / 1e6, driftedHours.count, driftedHours.count))

        var ours: [Double] = [], peers: [Double] = []
        for run in 0..<runs {
            let dir = root.appendingPathComponent("run-\(run)")
            let warehouse = dir.appendingPathComponent("wh").path
            try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
            let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
            let schema = try SchemaText.schema(Self.schema)
            var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "bench.events"), schema: schema)
            configuration.partitionSpec = try SchemaText.partitionSpec("hour(event_time)", schema: schema)
            configuration.driftPolicy = .ignore
            configuration.conversion.epochUnit = .milliseconds
            configuration.commitEveryObjects = 2
            let ingestor = Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: input.path, layout: .firehose))
            let ingested = try await ingestor.run()
            let start = ContinuousClock.now
            let evolved = try await ingestor.evolve(apply: true)
            ours.append(start.seconds)
            guard let pass = evolved.run, evolved.applied, pass.rows == 2 * driftedHours.count * perObject,
                evolved.plan.changes == ["added browser: string"]
            else { throw ValidationError("evolve did not do what was expected: \(evolved.jsonLine)") }
            print(String(
                format: "  ours run %d: %.2f s to evolve (ingest took %.2f s): %d objects read again, %d rows, %d data files replaced", run + 1,
                ours.last!, ingested.totalSeconds, pass.objectsIngested, pass.rows, pass.dataFilesReplaced))

            let output = try PythonPeer.run(
                python, code: Self.peerCode,
                arguments: [input.path, dir.appendingPathComponent("peer").path, driftedHours.map(String.init).joined(separator: ",")])
            let fields = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").compactMap { Double($0) }
            guard fields.count == 2, Int(fields[1]) == perObject * objects else { throw ValidationError("peer printed: \(output)") }
            peers.append(fields[0])
            print(String(format: "  PyIceberg run %d: %.2f s to evolve and overwrite", run + 1, fields[0]))
            try? FileManager.default.removeItem(at: dir)
        }
        let o = ours.median, p = peers.median
        print(String(format: "  median: ours %.2f s, PyIceberg %.2f s: %.2fx", o, p, p / o))
    }

    static let peerCode = #"""
    import sys, os, time, glob
    input, base, hours = sys.argv[1], sys.argv[2], [int(h) for h in sys.argv[3].split(",")]
    import pyarrow as pa, pyarrow.json as pj
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.schema import Schema
    from pyiceberg.types import NestedField, LongType, TimestamptzType, StringType, DoubleType
    from pyiceberg.partitioning import PartitionSpec, PartitionField
    from pyiceberg.transforms import HourTransform
    from pyiceberg.expressions import And, Or, GreaterThanOrEqual, LessThan
    def arrow_schema(extra):
        fields = [pa.field("id", pa.int64(), nullable=False), pa.field("event_time", pa.int64()),
                  pa.field("user_id", pa.string()), pa.field("amount", pa.float64())]
        return pa.schema(fields + ([pa.field("browser", pa.string())] if extra else []))
    def read(paths, extra):
        s = arrow_schema(extra)
        t = pa.concat_tables([pj.read_json(p, parse_options=pj.ParseOptions(explicit_schema=s, unexpected_field_behavior="ignore")) for p in paths])
        cols = {n: t.column(n) for n in t.column_names}
        cols["event_time"] = pa.compute.cast(pa.compute.multiply(cols["event_time"], 1000), pa.timestamp("us", tz="UTC"))
        out = pa.table(cols)
        target = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("event_time", pa.timestamp("us", tz="UTC")),
                            pa.field("user_id", pa.string()), pa.field("amount", pa.float64())] + ([pa.field("browser", pa.string())] if extra else []))
        return out.cast(target)
    os.makedirs(base, exist_ok=True)
    catalog = SqlCatalog("default", uri="sqlite:///" + base + "/catalog.db", warehouse="file://" + base)
    catalog.create_namespace("bench")
    schema = Schema(NestedField(1, "id", LongType(), required=True), NestedField(2, "event_time", TimestamptzType()),
                    NestedField(3, "user_id", StringType()), NestedField(4, "amount", DoubleType()))
    spec = PartitionSpec(PartitionField(source_id=2, field_id=1000, transform=HourTransform(), name="event_time_hour"))
    table = catalog.create_table("bench.events", schema=schema, partition_spec=spec, properties={"write.parquet.compression-codec": "zstd"})
    table.append(read(sorted(glob.glob(input + "/**/*.json", recursive=True)), False))
    t0 = time.perf_counter()
    with table.update_schema() as u:
        u.add_column("browser", StringType())
    import datetime
    def folder(h):
        return input + "/" + datetime.datetime.fromtimestamp(h * 3600, datetime.timezone.utc).strftime("%Y/%m/%d/%H")
    paths = sorted(p for h in hours for p in glob.glob(folder(h) + "/*.json"))
    data = read(paths, True)
    flt = None
    for h in hours:
        c = And(GreaterThanOrEqual("event_time", h * 3600 * 1000000), LessThan("event_time", (h + 1) * 3600 * 1000000))
        flt = c if flt is None else Or(flt, c)
    table.overwrite(data, overwrite_filter=flt)
    elapsed = time.perf_counter() - t0
    print("%.3f %d" % (elapsed, len(table.scan().to_arrow())))
    """#
}
