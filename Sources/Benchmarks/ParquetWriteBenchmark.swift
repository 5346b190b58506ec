import ArgumentParser
import Foundation
import Parquet

/// `iceberg-bench parquet-write`: our single-threaded Parquet write of a 1M-row table against pyarrow's
/// `pq.write_table` on the same rows (Arrow's CPU and I/O pools limited to one thread, as pyarrow 26's
/// write_table has no `use_threads`), for snappy and zstd: median times, the time ratio and the size ratio.
/// Table: long id, timestamp, string with ~1,000 distinct values, double, optional string with 20% nulls.
struct ParquetWriteBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parquet-write", abstract: "Write a 1M-row Parquet file, against pyarrow in the same run.")

    @Option(help: "Rows.") var rows = 1_000_000
    @Option(help: "Repetitions; medians are reported.") var repetitions = 5
    @Option(help: "Python with pyarrow for the peer.") var python = ".venv/bin/python"

    static let schema = ParquetSchema(columns: [
        ParquetColumn(name: "id", fieldID: 1, type: .long, isRequired: true),
        ParquetColumn(name: "ts", fieldID: 2, type: .timestamp(adjustedToUTC: true), isRequired: true),
        ParquetColumn(name: "user", fieldID: 3, type: .string, isRequired: true),
        ParquetColumn(name: "value", fieldID: 4, type: .double, isRequired: true),
        ParquetColumn(name: "category", fieldID: 5, type: .string),
    ])

    /// The same rows as the Python peer's `make_table`.
    static func columns(rows: Int) -> [ColumnData] {
        let ids = (0..<rows).map { Int64($0) }
        let ts = (0..<rows).map { 1_764_000_000_000_000 + Int64($0) * 997 }
        var users = ColumnData.byteArrays(capacity: rows)
        for i in 0..<rows { users.append(string: "user-\((i &* 7_919) % 1_000)") }
        let values = (0..<rows).map { Double(($0 &* 2_654_435_761) % 1_000_003) / 7.0 }
        var categories = ColumnData.byteArrays(capacity: rows)
        for i in 0..<rows {
            if i % 5 == 0 { categories.appendNull() } else { categories.append(string: "category-\(i % 50)") }
        }
        return [ColumnData(values: .int64(ids)), ColumnData(values: .int64(ts)), users, ColumnData(values: .double(values)), categories]
    }

    static let peerCode = #"""
    import os, statistics, sys, time
    import pyarrow as pa, pyarrow.parquet as pq
    pa.set_cpu_count(1); pa.set_io_thread_count(1)
    rows, reps, codec, path, ours = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    def field(name, type, nullable, fid):
        return pa.field(name, type, nullable=nullable, metadata={"PARQUET:field_id": str(fid)})
    schema = pa.schema([field("id", pa.int64(), False, 1), field("ts", pa.timestamp("us", tz="UTC"), False, 2),
                        field("user", pa.string(), False, 3), field("value", pa.float64(), False, 4),
                        field("category", pa.string(), True, 5)])
    table = pa.table([
        pa.array(range(rows), pa.int64()),
        pa.array([1764000000000000 + i * 997 for i in range(rows)], pa.timestamp("us", tz="UTC")),
        pa.array(["user-%d" % ((i * 7919) % 1000) for i in range(rows)]),
        pa.array([((i * 2654435761) % 1000003) / 7.0 for i in range(rows)]),
        pa.array([None if i % 5 == 0 else "category-%d" % (i % 50) for i in range(rows)]),
    ], schema=schema)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        pq.write_table(table, path, compression=codec, use_dictionary=True, write_statistics=True)
        times.append(time.perf_counter() - t)
    # Our file must hold exactly the same table (values and field ids), or the comparison means nothing.
    same = pq.read_table(ours).equals(table, check_metadata=True)
    print("%.4f %d %s" % (statistics.median(times), os.path.getsize(path), "same" if same else "DIFFERENT"))
    """#

    func run() async throws {
        let columns = Self.columns(rows: rows)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        print("parquet-write: \(rows) rows (id long, ts timestamptz, user string ~1,000 distinct, value double, category optional string 20% null)")
        for codec in [ParquetCompression.snappy, .zstd] {
            var times: [Double] = []
            var size = 0
            for _ in 0..<repetitions {
                let path = dir.appendingPathComponent("ours-\(codec.name).parquet").path
                let start = ContinuousClock.now
                let output = try FileParquetOutput(path: path)
                var options = ParquetWriterOptions()
                options.compression = codec
                let writer = ParquetFileWriter(schema: Self.schema, options: options, output: output)
                try writer.write(columns)
                let metrics = try writer.close()
                try output.close()
                times.append(start.seconds)
                size = Int(metrics.fileSize)
            }
            let ours = dir.appendingPathComponent("ours-\(codec.name).parquet").path
            let peer = try PythonPeer.run(python, code: Self.peerCode, arguments: [String(rows), String(repetitions), codec.name, dir.appendingPathComponent("peer.parquet").path, ours])
            let parts = peer.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard parts.count == 3, parts[2] == "same", let peerTime = Double(parts[0]), let peerSize = Double(parts[1]) else {
                print("  \(codec.name): the peer printed '\(peer)'")
                continue
            }
            print(String(format: "  %@: ours %.3f s, %d bytes | pyarrow %.3f s, %.0f bytes | time ratio %.2f (target <= 1.00) | size ratio %.3f (target <= 1.05)",
                         codec.name, times.median, size, peerTime, peerSize, times.median / peerTime, Double(size) / peerSize))
        }
    }
}
