import ArgumentParser
import Foundation
import IcebergCore

/// One stream of mixed event types into one table per type, in one run on the same generated gzip JSON
/// lines: ours routing by field (`table.route.field`: every table's pass reads the stream and keeps its own
/// records) against ours into a single table (what routing costs), and against pyarrow + PyIceberg splitting
/// the stream by type and appending each part to its table. Each contender is a process; CPU time and peak
/// RSS come from `wait4`.
struct FieldRoutingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "field-routing",
        abstract: "Mixed event types routed by field into a table each: ours vs ours into one table vs pyarrow + PyIceberg, in one run.")

    @Option(help: "Records across the objects.") var records = 600_000
    @Option(help: "Event types (one table each).") var types = 3
    @Option(help: "Gzip JSON-lines objects (spread over 4 hours).") var objects = 8
    @Option(help: "Runs of each contender (medians are reported).") var runs = 3
    @Option(help: "Python with pyarrow and pyiceberg.") var python = ".venv/bin/python"
    @Option(help: "The iceberg-ingest executable.") var executable = ".build/release/iceberg-ingest"

    static let schema = "id long not null, event_type string, user_id string, amount double, ok boolean"

    static let generator = #"""
    import sys, os, gzip, json, random
    root, records, types, objects = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    random.seed(11)
    per = records // objects
    for o in range(objects):
        folder = os.path.join(root, "2026/11/24/%02d" % (8 + o % 4))
        os.makedirs(folder, exist_ok=True)
        with gzip.open(os.path.join(folder, "part-%d.json.gz" % o), "wt", compresslevel=6) as f:
            for i in range(per):
                n = o * per + i
                f.write(json.dumps({"id": n, "event_type": "type_%d" % (n % types), "user_id": "u%08x" % random.getrandbits(32),
                                    "amount": random.random() * 1000, "ok": n % 3 != 0}) + "\n")
    print(per * objects)
    """#

    static let peerCode = #"""
    import sys, time, glob, gzip
    import pyarrow as pa, pyarrow.json as pj, pyarrow.compute as pc
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.schema import Schema
    from pyiceberg.types import NestedField, LongType, StringType, DoubleType, BooleanType
    src, warehouse = sys.argv[1:3]
    t0 = time.perf_counter()
    arrow_schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("event_type", pa.string()), pa.field("user_id", pa.string()),
                              pa.field("amount", pa.float64()), pa.field("ok", pa.bool_())])
    parts = [pj.read_json(p, parse_options=pj.ParseOptions(explicit_schema=arrow_schema)) for p in sorted(glob.glob(src + "/**/*.json.gz", recursive=True))]
    data = pa.concat_tables(parts).cast(arrow_schema)
    catalog = SqlCatalog("default", uri="sqlite:///" + warehouse + "/catalog.db", warehouse="file://" + warehouse)
    catalog.create_namespace("bench")
    schema = Schema(NestedField(1, "id", LongType(), required=True), NestedField(2, "event_type", StringType()),
                    NestedField(3, "user_id", StringType()), NestedField(4, "amount", DoubleType()), NestedField(5, "ok", BooleanType()))
    total = 0
    for kind in sorted(pc.unique(data["event_type"]).to_pylist()):
        part = data.filter(pc.equal(data["event_type"], kind))
        catalog.create_table("bench." + kind, schema=schema, properties={"write.parquet.compression-codec": "zstd"}).append(part)
        total += part.num_rows
    print("%.3f %d" % (time.perf_counter() - t0, total))
    """#

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bench-route-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let input = root + "/in"
        let written = try PythonPeer.run(python, code: Self.generator, arguments: [input, String(records), String(types), String(objects)])
        guard let total = Int(written.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw ValidationError("generator printed: \(written)") }
        var routed: [CompareBenchmark.Measurement] = []
        var single: [CompareBenchmark.Measurement] = []
        var peer: [CompareBenchmark.Measurement] = []
        for run in 0..<runs {
            // Ours, routed by field into one table per type.
            let warehouse = root + "/routed-\(run)"
            try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
            let job = root + "/job-\(run).json"
            try #"""
                {"source": {"uri": "\#(input)", "format": "json"}, "catalog": {"uri": "sqlite:\#(warehouse)/catalog.db", "warehouse": "\#(warehouse)"},
                 "table": {"name": "bench.{event_type}", "route": {"field": "event_type"}, "schema": "\#(Self.schema)"}}
                """#.write(toFile: job, atomically: true, encoding: .utf8)
            routed.append(try CompareBenchmark.measureOurs(executable, ["run", "--config", job, "--json", "--log-level", "warning"], records: total, what: "ours, routed") { summary in
                guard case .array(let tables)? = summary["tables"], tables.count == types else { return nil }
                return tables.reduce(0) { if case .int(let n)? = $1["rows"] { $0 + Int(n) } else { $0 } }
            })
            // Ours, every record into one table.
            let one = root + "/single-\(run)"
            single.append(try CompareBenchmark.measureOurs(executable, [
                "run", "--source", input, "--catalog", "file:\(one)", "--table", "bench.events", "--schema", Self.schema, "--json", "--log-level", "warning",
            ], records: total, what: "ours, one table"))
            // pyarrow splits by type, PyIceberg appends each part.
            let peerWarehouse = root + "/peer-\(run)"
            try FileManager.default.createDirectory(atPath: peerWarehouse, withIntermediateDirectories: true)
            let (printed, peerUsage) = try CompareBenchmark.spawn(python, ["-c", Self.peerCode, input, peerWarehouse])
            peer.append(try CompareBenchmark.peerMeasurement(printed, usage: peerUsage, records: total, what: "pyarrow + PyIceberg"))
        }
        let routedWall = routed.map(\.wall).median
        print("| contender | wall s | cpu s | peak RSS MB | wall vs ours routed |")
        print("| --- | --- | --- | --- | --- |")
        for (name, m) in [
            ("ours, routed by field (\(types) tables)", routed), ("ours, one table (no routing)", single), ("pyarrow split + PyIceberg append (\(types) tables)", peer),
        ] {
            print(String(
                format: "| %@ | %.2f | %.2f | %.0f | %.2fx |", name, m.map(\.wall).median, m.map(\.cpu).median, m.map(\.peakMB).max() ?? 0,
                m.map(\.wall).median / routedWall))
        }
        print(
            "\n\(total) records of \(types) types in \(objects) gzip JSON-lines objects, medians of \(runs) runs. Routing reads each object once per table: "
                + String(format: "%.2fx the single-table time; the peer takes %.2fx ours routed.", routedWall / single.map(\.wall).median, peer.map(\.wall).median / routedWall))
    }
}
