import ArgumentParser
import Foundation
import IcebergCore

/// Avro object container files into an hour-partitioned Iceberg table, in one run on the same generated files:
/// ours (`iceberg-ingest run --format avro`) against fastavro's reader, pyarrow and PyIceberg's `append` (the
/// same table: schema, spec and zstd as `compare`). Each contender is a process; CPU time and peak RSS come
/// from `wait4`.
struct AvroInputBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "avro-input", abstract: "Avro container files into an Iceberg table: ours vs fastavro + pyarrow + PyIceberg, in one run.")

    @Option(help: "Records across the files.") var records = 500_000
    @Option(help: "Avro files (spread over 4 hours).") var objects = 4
    @Option(help: "Runs of each contender (medians are reported).") var runs = 3
    @Option(help: "Python with fastavro, pyarrow and pyiceberg.") var python = ".venv/bin/python"
    @Option(help: "The iceberg-ingest executable.") var executable = ".build/release/iceberg-ingest"

    static let generator = #"""
    import sys, os, datetime, random, fastavro
    root, records, objects = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    schema = fastavro.parse_schema({"type": "record", "name": "Event", "fields": [
        {"name": "id", "type": "long"}, {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "user_id", "type": "string"}, {"name": "country", "type": ["null", "string"]}, {"name": "amount", "type": "double"},
        {"name": "ok", "type": "boolean"}]})
    random.seed(7)
    base = datetime.datetime(2026, 11, 24, 8, tzinfo=datetime.timezone.utc)
    per = records // objects
    for o in range(objects):
        hour = base + datetime.timedelta(hours=o % 4)
        folder = os.path.join(root, hour.strftime("%Y/%m/%d/%H"))
        os.makedirs(folder, exist_ok=True)
        rows = ({"id": o * per + i, "event_time": hour + datetime.timedelta(microseconds=random.randrange(3_600_000_000)),
                 "user_id": "u%08x" % random.getrandbits(32), "country": random.choice(["DE", "FR", "US", None]),
                 "amount": random.random() * 1000, "ok": i % 3 != 0} for i in range(per))
        with open(os.path.join(folder, "part-%d.avro" % o), "wb") as f:
            fastavro.writer(f, schema, rows, codec="deflate")
    print(per * objects)
    """#

    static let peerCode = IngestBenchmark.pythonTable + #"""
    import sys, time, glob, fastavro
    src, warehouse = sys.argv[1:3]
    from pyiceberg.catalog.sql import SqlCatalog
    t0 = time.perf_counter()
    rows = []
    for path in sorted(glob.glob(src + "/**/*.avro", recursive=True)):
        with open(path, "rb") as f:
            rows.extend(fastavro.reader(f))
    data = pa.Table.from_pylist(rows, schema=arrow_schema)
    catalog = SqlCatalog("default", uri="sqlite:///" + warehouse + "/catalog.db", warehouse="file://" + warehouse)
    create(catalog).append(data)
    print("%.3f %d" % (time.perf_counter() - t0, data.num_rows))
    """#

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bench-avro-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let input = root + "/in"
        let written = try PythonPeer.run(python, code: Self.generator, arguments: [input, String(records), String(objects)])
        guard let total = Int(written.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw ValidationError("generator printed: \(written)") }
        var ours: [CompareBenchmark.Measurement] = []
        var peer: [CompareBenchmark.Measurement] = []
        for run in 0..<runs {
            let warehouse = root + "/ours-\(run)"
            ours.append(try CompareBenchmark.measureOurs(executable, [
                "run", "--source", input, "--layout", "firehose", "--format", "avro", "--catalog", "file:\(warehouse)", "--table", "bench.events",
                "--schema", IngestBenchmark.schema, "--partition", "hour(event_time)", "--json", "--log-level", "warning",
            ], records: total, what: "ours"))
            let peerWarehouse = root + "/peer-\(run)"
            try FileManager.default.createDirectory(atPath: peerWarehouse, withIntermediateDirectories: true)
            let (printed, peerUsage) = try CompareBenchmark.spawn(python, ["-c", Self.peerCode, input, peerWarehouse])
            peer.append(try CompareBenchmark.peerMeasurement(printed, usage: peerUsage, records: total, what: "fastavro + PyIceberg"))
        }
        let oursWall = ours.map(\.wall).median, peerWall = peer.map(\.wall).median
        print("| engine | wall s | cpu s | peak RSS MB | wall vs ours |")
        print("| --- | --- | --- | --- | --- |")
        for (name, m) in [("ours (iceberg-ingest run --format avro)", ours), ("fastavro + pyarrow + PyIceberg", peer)] {
            print(String(
                format: "| %@ | %.2f | %.2f | %.0f | %.2fx |", name, m.map(\.wall).median, m.map(\.cpu).median, m.map(\.peakMB).max() ?? 0,
                m.map(\.wall).median / oursWall))
        }
        print("\n\(total) records in \(objects) deflate Avro files, medians of \(runs) runs; ours is \(String(format: "%.2f", peerWall / oursWall))x faster end to end.")
    }
}
