import ArgumentParser
import Foundation
import IcebergCore
import IcebergIngest

/// `iceberg-bench json-parse`: the JSON-lines parser alone, one thread, bytes in memory into column batches
/// (what a run's parse stage does, without reading, inflating, encoding or committing), in MB/s per core,
/// against pyarrow's JSON reader (`use_threads=False`, explicit schema), DuckDB's `read_json` (1 thread,
/// into an in-memory table) and simdjson's On Demand API into column vectors (Debian's libsimdjson-dev,
/// compiled here with the system's C++ compiler; fields looked up by name, and every field in turn as ours
/// reads them: ``SimdjsonPeer``) on the same bytes in the same run. Two inputs: `flat` (the `compare` events:
/// long, ISO timestamp, two strings, double, boolean) and `nested` (a UUID string, long, double, a struct of
/// two strings, a list of strings, an ISO timestamp with microseconds).
struct JSONParseBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json-parse", abstract: "The JSON-lines parser alone, 1 thread, MB/s per core, against pyarrow, DuckDB and simdjson (1 thread) in one run.")

    @Option(help: "Records per input.") var records = 500_000
    @Option(help: "Runs of each side (the median is reported).") var runs = 3
    @Option(help: "Inputs: flat, nested.") var inputs = "flat,nested"
    @Option(help: "Python with pyarrow and duckdb for the peers.") var python = ".venv/bin/python"
    @Option(help: "C++ compiler for the simdjson peer (searched on PATH: c++, then clang++).") var cxx: String?
    @Flag(help: "Only ours (for profiling under callgrind).") var oursOnly = false

    static let nestedSchema =
        "event_id string, seq long not null, amount double, user struct<name string, country string>, tags list<string>, event_time timestamptz"

    /// The `nested` input: the same bytes for every seed.
    static func nestedEvents(records: Int) -> [UInt8] {
        var rng = SplitMix64(seed: 7)
        let countries = ["DE", "FR", "US", "JP", "BR", "IN", "GB", "ES"]
        let words = ["checkout", "mobile", "promo", "returning", "eu", "beta", "search", "cart"]
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(records * 210)
        let base = Int64(PrefixLayout.hour(of: Date()) - 4) * 3_600_000_000
        for i in 0..<records {
            var uuid = [UInt8](repeating: 0, count: 36)
            var bits = rng.next() ^ (rng.next() << 1)
            for k in 0..<36 {
                if k == 8 || k == 13 || k == 18 || k == 23 {
                    uuid[k] = UInt8(ascii: "-")
                    continue
                }
                if bits == 0 { bits = rng.next() }
                uuid[k] = hex[Int(bits & 15)]
                bits >>= 4
            }
            let micros = base + Int64(rng.next() % 14_400_000_000)
            let date = Date(timeIntervalSince1970: TimeInterval(micros / 1_000_000))
            let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
            let iso = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, Int(micros % 1_000_000))
            let tags = (0..<Int(1 + rng.next() % 3)).map { _ in "\"\(words[Int(rng.next() % 8)])\"" }.joined(separator: ",")
            let line =
                "{\"event_id\":\"\(String(decoding: uuid, as: UTF8.self))\",\"seq\":\(i),\"amount\":\(Double(rng.next() % 1_000_000) / 100),"
                + "\"user\":{\"name\":\"user-\(rng.next() % 100_000)\",\"country\":\"\(countries[Int(rng.next() % 8)])\"},"
                + "\"tags\":[\(tags)],\"event_time\":\"\(iso)\"}\n"
            out.append(contentsOf: line.utf8)
        }
        return out
    }

    /// Parses `bytes` as a run's parse stage does (1 MiB pieces, a new batch every `batchRows` rows); the
    /// rows parsed.
    static func parse(_ bytes: [UInt8], layout: ColumnLayout) throws -> Int {
        let defaults = IngestConfiguration(table: try TableIdentifier(parsing: "bench.parse"), schema: layout.schema)
        let parser = JSONRecordParser(layout: layout, options: ConversionOptions(), source: "bench.json")
        var stream = RecordStream(parser: parser, maxRecordBytes: defaults.maxRecordBytes, source: "bench.json")
        var batch = RecordBatch(layout: layout)
        var rows = 0, bad = 0
        var at = 0
        while at < bytes.count {
            let end = min(bytes.count, at + (1 << 20))
            try stream.consume(bytes[at..<end], isFinal: false, into: &batch) { _ in bad += 1 }
            if batch.rowCount >= defaults.batchRows {
                rows += batch.rowCount
                batch = batch.emptyWithRoom()
            }
            at = end
        }
        try stream.consume([][...], isFinal: true, into: &batch) { _ in bad += 1 }
        guard bad == 0 else { throw ValidationError("\(bad) bad records in the generated input") }
        return rows + batch.rowCount
    }

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bench-parse-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let simdjson = oursOnly ? nil : try SimdjsonPeer.build(in: root, compiler: cxx)
        for input in inputs.split(separator: ",").map(String.init) {
            let (bytes, schemaText): ([UInt8], String)
            switch input {
            case "flat":
                bytes = IngestBenchmark.events(records: records, objects: 1, lastHour: PrefixLayout.hour(of: Date()) - 1)[0].bytes
                schemaText = IngestBenchmark.schema
            case "nested":
                bytes = Self.nestedEvents(records: records)
                schemaText = Self.nestedSchema
            default: throw ValidationError("unknown input '\(input)' (flat, nested)")
            }
            let layout = try ColumnLayout(schema: try SchemaText.schema(schemaText))
            let megabytes = Double(bytes.count) / 1e6
            let path = root + "/\(input).json"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            print(String(format: "json-parse %@: %d records, %.1f MB of JSON lines, 1 thread", input, records, megabytes))
            var ours: [Double] = [], arrow: [Double] = [], duck: [Double] = [], byName: [Double] = [], everyField: [Double] = []
            for _ in 0..<runs {
                var rows = 0
                let cpuBefore = ProcessMemory.cpuSeconds()
                rows = try Self.parse(bytes, layout: layout)
                ours.append(ProcessMemory.cpuSeconds() - cpuBefore)
                guard rows == records else { throw ValidationError("parsed \(rows) rows of \(records)") }
                if oursOnly { continue }
                let output = try PythonPeer.run(python, code: Self.peerCode, arguments: [path, input])
                let fields = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").compactMap { Double($0) }
                guard fields.count == 3, Int(fields[2]) == records else { throw ValidationError("the peers printed: \(output)") }
                arrow.append(fields[0])
                duck.append(fields[1])
                if let simdjson {
                    for mode in SimdjsonPeer.Mode.allCases {
                        let (seconds, rows) = try SimdjsonPeer.run(simdjson, path: path, input: input, mode: mode)
                        guard rows == records else { throw ValidationError("simdjson (\(mode)) parsed \(rows) rows of \(records)") }
                        if mode == .lookup { byName.append(seconds) } else { everyField.append(seconds) }
                    }
                }
            }
            let o = ours.median
            print(String(format: "  ours:                      %.3f s cpu, %.0f MB/s", o, megabytes / o))
            if oursOnly { continue }
            let peers = [("pyarrow", arrow), ("DuckDB", duck), ("simdjson, fields by name", byName), ("simdjson, every field", everyField)]
            for (name, times) in peers where !times.isEmpty {
                let t = times.median
                print(String(format: "  %@ %.3f s cpu, %.0f MB/s (ours %.2fx its time)", (name + ":").padding(toLength: 26, withPad: " ", startingAt: 0), t, megabytes / t, o / t))
            }
        }
    }

    /// Both peers in one process: pyarrow's reader with one thread and DuckDB with one thread, each timed
    /// by the process's CPU time around the parse alone (the file is in the page cache).
    static let peerCode = #"""
    import sys, resource, pyarrow as pa, pyarrow.json as pj, duckdb
    path, kind = sys.argv[1], sys.argv[2]
    def cpu():
        r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime
    if kind == "flat":
        schema = pa.schema([("id", pa.int64()), ("event_time", pa.timestamp("us", tz="UTC")), ("user_id", pa.string()),
                            ("country", pa.string()), ("amount", pa.float64()), ("ok", pa.bool_())])
        columns = "{'id': 'BIGINT', 'event_time': 'TIMESTAMPTZ', 'user_id': 'VARCHAR', 'country': 'VARCHAR', 'amount': 'DOUBLE', 'ok': 'BOOLEAN'}"
    else:
        schema = pa.schema([("event_id", pa.string()), ("seq", pa.int64()), ("amount", pa.float64()),
                            ("user", pa.struct([("name", pa.string()), ("country", pa.string())])), ("tags", pa.list_(pa.string())),
                            ("event_time", pa.timestamp("us", tz="UTC"))])
        columns = ("{'event_id': 'VARCHAR', 'seq': 'BIGINT', 'amount': 'DOUBLE', 'user': 'STRUCT(name VARCHAR, country VARCHAR)', "
                   "'tags': 'VARCHAR[]', 'event_time': 'TIMESTAMPTZ'}")
    data = open(path, "rb").read()
    t = cpu()
    table = pj.read_json(pa.py_buffer(data), read_options=pj.ReadOptions(use_threads=False, block_size=1 << 20),
                         parse_options=pj.ParseOptions(explicit_schema=schema))
    arrow = cpu() - t
    con = duckdb.connect()
    con.execute("SET threads=1")
    t = cpu()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_json('{path}', columns={columns}, format='newline_delimited')")
    duck = cpu() - t
    n = con.execute("SELECT count(*) FROM t").fetchone()[0]
    assert n == table.num_rows, (n, table.num_rows)
    print("%.4f %.4f %d" % (arrow, duck, n))
    """#
}
