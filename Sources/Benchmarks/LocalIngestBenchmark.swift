import ArgumentParser
import Foundation
import IcebergCore
import IcebergIngest

/// `iceberg-bench json-to-table`: JSON lines in a local folder into an `hour(event_time)`-partitioned table
/// (zstd Parquet, object-store catalog in a local folder), ours with 1 thread and with every core, against
/// DuckDB turning the same files into hour-partitioned zstd Parquet (`COPY (SELECT ... FROM read_json(...))
/// TO ... (PARTITION_BY hour)`, as many threads) in the same run: what these users would reach for, without
/// the Iceberg commit we add on top. Medians of `--runs`; ratios against DuckDB.
struct LocalIngestBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json-to-table", abstract: "Local JSON lines into a partitioned table, 1 thread and all cores, against DuckDB's COPY to Parquet.")

    @Option(help: "Records in all.") var records = 1_000_000
    @Option(help: "Input files (spread over 4 hours).") var objects = 8
    @Option(help: "Runs of each side (the median is reported).") var runs = 3
    @Option(help: "Python with duckdb for the peer.") var python = ".venv/bin/python"

    func run() async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bench-json-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let input = root + "/in"
        var inputBytes = 0
        for (o, (hour, bytes)) in IngestBenchmark.events(records: records, objects: objects, lastHour: PrefixLayout.hour(of: Date()) - 1).enumerated() {
            let folder = input + "/" + PrefixLayout.firehose.prefix(forHour: hour)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "part-\(o).json"))
            inputBytes += bytes.count
        }
        print(String(format: "json-to-table: %d records, %d files, %.1f MB of JSON lines; %d cores", records, objects, Double(inputBytes) / 1e6, cores))
        var times: [Int: [Double]] = [:], cpu: [Int: [Double]] = [:], duck: [Double] = [], duckCPU: [Double] = []
        for run in 0..<runs {
            for threads in [1, cores] {
                let warehouse = root + "/wh-\(run)-\(threads)"
                let schema = try SchemaText.schema(IngestBenchmark.schema)
                var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "bench.events"), schema: schema)
                configuration.partitionSpec = try SchemaText.partitionSpec("hour(event_time)", schema: schema)
                configuration.threads = threads
                configuration.lateArrivalHours = 24
                try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
                var ingestor = Ingestor(
                    configuration: configuration, catalog: ObjectStoreCatalog(warehouse: warehouse, io: LocalFileIO()),
                    source: LocalFolderSource(root: input, layout: .firehose))
                ingestor.stop = StopRequest()
                let cpuBefore = ProcessMemory.cpuSeconds()
                let start = ContinuousClock.now
                let summary = try await ingestor.run()
                let seconds = start.seconds
                guard summary.rows == records else { throw ValidationError("ingested \(summary.rows) rows of \(records)") }
                times[threads, default: []].append(seconds)
                cpu[threads, default: []].append(ProcessMemory.cpuSeconds() - cpuBefore)
                try? FileManager.default.removeItem(atPath: warehouse)
            }
            let output = try PythonPeer.run(python, code: Self.peerCode, arguments: [input, root + "/duck-\(run)", String(cores)])
            let fields = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").compactMap { Double($0) }
            guard fields.count == 3, Int(fields[2]) == records else { throw ValidationError("DuckDB printed: \(output)") }
            duck.append(fields[0])
            duckCPU.append(fields[1])
        }
        let d = duck.median
        for threads in [1, cores] {
            let t = times[threads]!.median
            print(String(
                format: "  ours, %d thread%@: %.2f s wall (cpu %.2f s): %.2fx DuckDB's time", threads, threads == 1 ? "" : "s", t, cpu[threads]!.median, t / d))
        }
        print(String(format: "  DuckDB COPY to hour-partitioned zstd Parquet, %d threads: %.2f s wall (cpu %.2f s)", cores, d, duckCPU.median))
    }

    static let peerCode = #"""
    import sys, time, resource, duckdb
    src, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    r0 = resource.getrusage(resource.RUSAGE_SELF); t = time.perf_counter()
    con.execute(f"""COPY (SELECT *, date_trunc('hour', event_time) AS hour FROM read_json('{src}/**/*.json',
        columns={{'id': 'BIGINT', 'event_time': 'TIMESTAMPTZ', 'user_id': 'VARCHAR', 'country': 'VARCHAR', 'amount': 'DOUBLE', 'ok': 'BOOLEAN'}},
        format='newline_delimited')) TO '{out}' (FORMAT parquet, PARTITION_BY (hour), COMPRESSION zstd)""")
    s = time.perf_counter() - t; r1 = resource.getrusage(resource.RUSAGE_SELF)
    n = con.execute(f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet')").fetchone()[0]
    print("%.3f %.3f %d" % (s, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), n))
    """#
}
