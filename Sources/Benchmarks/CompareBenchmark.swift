import ArgumentParser
import Codecs
import Foundation
import IcebergCore
import IcebergIngest

/// `iceberg-bench compare`: the story in one run. The same generated events (`IngestBenchmark.events`: UUID-like
/// user ids, longs, doubles, booleans, ISO timestamps with microseconds) as plain JSON lines, gzip JSON lines
/// and CSV, each turned into an `hour(event_time)`-partitioned zstd table by
/// - ours: `iceberg-ingest run` (every core, object-store catalog in a local folder: a committed Iceberg table);
/// - DuckDB `COPY (SELECT ... FROM read_json/read_csv) TO ... (PARTITION_BY hour)`, 1 thread and every core
///   (partitioned Parquet, no table);
/// - pyarrow (`read_json`/`read_csv`, its own threads) and PyIceberg's `table.append` (SQLite catalog).
///
/// Every contender runs as a process of its own, `--runs` times in turn; its CPU time and peak RSS come
/// from `wait4`. Wall time is measured around our process, and reported by the Python peers around their
/// work (after the interpreter started and imported its modules). Prints the table and writes it as
/// `compare.md`, with a bar chart `compare.png` (matplotlib), into `--output`.
struct CompareBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Ours vs DuckDB (1 and N threads) vs pyarrow+PyIceberg on JSON lines, gzip JSON lines and CSV; markdown and a PNG chart.")

    @Option(help: "Records in each input.") var records = 1_000_000
    @Option(help: "Input files of each input (spread over 4 hours).") var objects = 8
    @Option(help: "Runs of each contender (medians are reported).") var runs = 3
    @Option(help: "Inputs, comma-separated: json, json-gzip, csv.") var inputs = "json,json-gzip,csv"
    @Option(help: "Python with duckdb, pyarrow, pyiceberg and matplotlib for the peers and the chart.") var python = ".venv/bin/python"
    @Option(help: "The iceberg-ingest executable.") var executable = ".build/release/iceberg-ingest"
    @Option(help: "Folder for compare.md and compare.png.") var output = "docs/benchmarks"
    @Option(help: "Internal: write the inputs under this folder and print their sizes (a process of its own).")
    var generateInto: String?

    struct Measurement {
        var wall: Double
        var cpu: Double
        var peakMB: Double
    }

    struct Row {
        var input: String
        var engine: String
        var runs: [Measurement]
        var wall: Double { runs.map(\.wall).median }
        var cpu: Double { runs.map(\.cpu).median }
        var peakMB: Double { runs.map(\.peakMB).max() ?? 0 }
    }

    func run() async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bench-compare-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let wanted = inputs.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !wanted.isEmpty, wanted.allSatisfy({ ["json", "json-gzip", "csv"].contains($0) }) else {
            throw ValidationError("--inputs takes json, json-gzip and csv, not \(inputs)")
        }
        if let generateInto {
            try generate(wanted, into: generateInto)
            return
        }
        // The inputs are made by a process of its own: a child's peak RSS as wait4 reports it starts from
        // this process's own at the spawn, which must stay small.
        let sizes = try ChildProcess.run(
            CommandLine.arguments[0],
            ["compare", "--records", String(records), "--objects", String(objects), "--inputs", inputs, "--generate-into", root]
        ).output
        var rawBytes: [String: Int] = [:], storedBytes: [String: Int] = [:]
        for line in sizes.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let raw = Int(fields[1]), let stored = Int(fields[2]) else { continue }
            rawBytes[String(fields[0])] = raw
            storedBytes[String(fields[0])] = stored
        }
        guard wanted.allSatisfy({ rawBytes[$0] != nil }) else { throw ValidationError("the inputs were not made: \(sizes)") }
        let records = (self.records / objects) * objects
        print("compare: \(records) records in \(objects) files per input, \(cores) cores, \(runs) runs each")
        for input in wanted {
            print(String(format: "  %@: %.1f MB (%.1f MB stored)", input, Double(rawBytes[input]!) / 1e6, Double(storedBytes[input]!) / 1e6))
        }

        var rows: [Row] = []
        for input in wanted {
            let folder = root + "/" + input
            let engines: [(String, (Int) throws -> Measurement)] = [
                ("ours (Iceberg table, \(cores) threads)", { run in try ours(folder: folder, input: input, warehouse: root + "/wh-\(input)-\(run)", records: records) }),
                ("DuckDB 1 thread (Parquet files)", { run in try duckDB(folder: folder, input: input, threads: 1, out: root + "/duck1-\(input)-\(run)", records: records) }),
                ("DuckDB \(cores) threads (Parquet files)", { run in try duckDB(folder: folder, input: input, threads: cores, out: root + "/duck-\(input)-\(run)", records: records) }),
                ("pyarrow + PyIceberg (Iceberg table)", { run in try pyIceberg(folder: folder, input: input, warehouse: root + "/py-\(input)-\(run)", records: records) }),
            ]
            var measured = engines.map { Row(input: input, engine: $0.0, runs: []) }
            for run in 0..<runs {
                for (i, engine) in engines.enumerated() {
                    measured[i].runs.append(try engine.1(run))
                    try? FileManager.default.removeItem(atPath: root + "/wh-\(input)-\(run)")
                }
            }
            rows += measured
        }

        let markdown = Self.markdown(rows, rawBytes: rawBytes, records: records, cores: cores, runs: runs)
        print(markdown)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try markdown.write(toFile: output + "/compare.md", atomically: true, encoding: .utf8)
        let chart = rows.map { "\($0.input)\t\($0.engine)\t\($0.wall)" }.joined(separator: "\n")
        let title = "\(records) events into an hour-partitioned zstd table, \(cores) cores (iceberg-bench compare)"
        let (_, status) = try ChildProcess.run(python, ["-c", Self.chartCode, output + "/compare.png", chart, title])
        guard status == 0 else { throw ValidationError("the chart was not drawn (is matplotlib installed in \(python)?)") }
        print("wrote \(output)/compare.md and \(output)/compare.png")
    }

    /// Writes each input under `root/<input>/` and prints `<input> <bytes> <bytes stored>` lines.
    func generate(_ wanted: [String], into root: String) throws {
        let lastHour = PrefixLayout.hour(of: Date()) - 1
        for input in wanted {
            var raw = 0, stored = 0
            let events = IngestBenchmark.events(records: records, objects: objects, lastHour: lastHour, csv: input == "csv")
            for (o, (hour, bytes)) in events.enumerated() {
                let folder = root + "/\(input)/" + PrefixLayout.firehose.prefix(forHour: hour)
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                let written = input == "json-gzip" ? try Deflate.compress(bytes, framing: .gzip, level: 6) : bytes
                let name = "part-\(o)." + (input == "csv" ? "csv" : input == "json" ? "json" : "json.gz")
                try Data(written).write(to: URL(fileURLWithPath: folder + name))
                raw += bytes.count
                stored += written.count
            }
            print("\(input) \(raw) \(stored)")
        }
    }

    static func markdown(_ rows: [Row], rawBytes: [String: Int], records: Int, cores: Int, runs: Int) -> String {
        var text = "| input | engine | wall s | cpu s | peak RSS MB | MB/s | wall vs ours |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        for row in rows {
            let ours = rows.first { $0.input == row.input && $0.engine.hasPrefix("ours") }?.wall ?? row.wall
            let mbps = Double(rawBytes[row.input] ?? 0) / 1e6 / row.wall
            text += String(
                format: "| %@ | %@ | %.2f | %.2f | %.0f | %.0f | %.2fx |\n", row.input, row.engine, row.wall, row.cpu, row.peakMB, mbps, row.wall / ours)
        }
        text += "\n\(records) records per input, medians of \(runs) runs on \(cores) cores; MB/s of uncompressed input; "
        text += "peak RSS is the largest of the runs. `iceberg-bench compare` wrote this.\n"
        return text
    }

    // MARK: the contenders

    func ours(folder: String, input: String, warehouse: String, records: Int) throws -> Measurement {
        var arguments = [
            "run", "--source", folder, "--layout", "firehose", "--catalog", "file:\(warehouse)", "--table", "bench.events", "--schema",
            IngestBenchmark.schema, "--partition", "hour(event_time)", "--late-arrival-hours", "24", "--json", "--log-level", "warning",
        ]
        if input == "csv" { arguments += ["--format", "csv"] }
        return try Self.measureOurs(executable, arguments, records: records, what: "ours on \(input)")
    }

    /// Runs `iceberg-ingest` with `arguments` (a `--json` run) to its end and measures it; the row count that
    /// `rows` reads from its summary must be `records`.
    static func measureOurs(
        _ executable: String, _ arguments: [String], records: Int, what: String,
        rows: (JSONValue) -> Int? = { if case .int(let n)? = $0["rows"] { Int(n) } else { nil } }
    ) throws -> Measurement {
        let started = ContinuousClock.now
        let (output, usage) = try spawn(executable, arguments)
        let wall = started.seconds
        guard rows(try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))) == records else { throw ValidationError("\(what): \(output)") }
        return Measurement(wall: wall, cpu: usage.cpu, peakMB: usage.peakMB)
    }

    func duckDB(folder: String, input: String, threads: Int, out: String, records: Int) throws -> Measurement {
        let (output, usage) = try Self.spawn(python, ["-c", Self.duckCode, folder, input, out, String(threads)])
        return try Self.peerMeasurement(output, usage: usage, records: records, what: "DuckDB on \(input)")
    }

    func pyIceberg(folder: String, input: String, warehouse: String, records: Int) throws -> Measurement {
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let (output, usage) = try Self.spawn(python, ["-c", Self.pyIcebergCode, folder, input, warehouse])
        return try Self.peerMeasurement(output, usage: usage, records: records, what: "PyIceberg on \(input)")
    }

    /// A peer prints `<seconds of work> <rows>`.
    static func peerMeasurement(_ output: String, usage: (cpu: Double, peakMB: Double), records: Int, what: String) throws -> Measurement {
        let fields = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
        guard fields.count == 2, let seconds = Double(fields[0]), Int(fields[1]) == records else { throw ValidationError("\(what) printed: \(output)") }
        return Measurement(wall: seconds, cpu: usage.cpu, peakMB: usage.peakMB)
    }

    /// Runs a program to its end (stdout captured in a file, stderr passed through) and returns what it
    /// printed with its CPU seconds and peak RSS from `wait4`.
    static func spawn(_ executable: String, _ arguments: [String]) throws -> (String, (cpu: Double, peakMB: Double)) {
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("compare-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw ValidationError("cannot start \(executable): error \(spawned)") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else { throw ValidationError("\(executable) \(arguments.prefix(3)) failed (status \(status)): \(output)") }
        let cpu = ProcessMemory.cpuSeconds(usage)
        return (output, (cpu, Double(usage.ru_maxrss) / 1024))
    }

    static let duckCode = #"""
    import sys, time, duckdb
    src, kind, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    con.execute("SET enable_progress_bar=false")
    columns = "{'id': 'BIGINT', 'event_time': 'TIMESTAMPTZ', 'user_id': 'VARCHAR', 'country': 'VARCHAR', 'amount': 'DOUBLE', 'ok': 'BOOLEAN'}"
    if kind == "csv":
        reader = f"read_csv('{src}/**/*.csv', header=true, columns={columns})"
    else:
        reader = f"read_json('{src}/**/*.json{'.gz' if kind == 'json-gzip' else ''}', columns={columns}, format='newline_delimited')"
    t = time.perf_counter()
    con.execute(f"COPY (SELECT *, date_trunc('hour', event_time) AS hour FROM {reader}) TO '{out}' (FORMAT parquet, PARTITION_BY (hour), COMPRESSION zstd)")
    s = time.perf_counter() - t
    n = con.execute(f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet')").fetchone()[0]
    print("%.3f %d" % (s, n))
    """#

    static let pyIcebergCode = IngestBenchmark.pythonTable + #"""
    import sys, time, glob
    src, kind, warehouse = sys.argv[1:4]
    import pyarrow.json as pj, pyarrow.csv as pc
    from pyiceberg.catalog.sql import SqlCatalog
    t0 = time.perf_counter()
    tables = []
    for path in sorted(glob.glob(src + "/**/part-*", recursive=True)):
        stream = pa.input_stream(path, compression="gzip" if path.endswith(".gz") else None)
        if kind == "csv":
            tables.append(pc.read_csv(stream, convert_options=pc.ConvertOptions(column_types=arrow_schema)))
        else:
            tables.append(pj.read_json(stream, parse_options=pj.ParseOptions(explicit_schema=arrow_schema)))
    data = pa.concat_tables(tables).cast(arrow_schema)
    catalog = SqlCatalog("default", uri="sqlite:///" + warehouse + "/catalog.db", warehouse="file://" + warehouse)
    create(catalog).append(data)
    print("%.3f %d" % (time.perf_counter() - t0, data.num_rows))
    """#

    static let chartCode = #"""
    import sys
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    path, text, title = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = [line.split("\t") for line in text.splitlines()]
    inputs = list(dict.fromkeys(r[0] for r in rows)); engines = list(dict.fromkeys(r[1] for r in rows))
    wall = {(r[0], r[1]): float(r[2]) for r in rows}
    fig, ax = plt.subplots(figsize=(9, 5), dpi=100)
    width = 0.8 / len(engines)
    for i, engine in enumerate(engines):
        xs = [j + i * width for j in range(len(inputs))]
        bars = ax.bar(xs, [wall.get((inp, engine), 0) for inp in inputs], width, label=engine)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks([j + width * (len(engines) - 1) / 2 for j in range(len(inputs))], inputs)
    ax.set_ylabel("wall seconds (median; lower is better)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    """#
}
