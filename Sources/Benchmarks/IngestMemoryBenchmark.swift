import ArgumentParser
import BlockingThreads
import Foundation
import IcebergCore
import IcebergIngest
import S3Reader

/// `iceberg-bench ingest-memory`: peak memory of a run over a large input (2 GB of JSON lines by default,
/// in 8 local files over 4 hours, into an `hour(event_time)`-partitioned local table). The input is written
/// in small pieces first, so the process's peak (VmHWM) is the run's.
struct IngestMemoryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest-memory", abstract: "Peak RSS of an ingest run over a 2 GB JSON-lines input.")

    @Option(help: "Input size in MB.") var megabytes = 2048
    @Option(help: "Input files.") var files = 8
    @Option(help: "Objects parsed at once (ingest.threads; default: the cores).") var threads: Int?
    @Option(help: "Folder for the input and the warehouse (deleted after).") var directory = FileManager.default.temporaryDirectory.path

    func run() async throws {
        // As the executable does (the run below is in this process).
        MallocArenas.limit()
        let root = URL(fileURLWithPath: directory).appendingPathComponent("iceberg-bench-memory-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("input")
        let lastHour = PrefixLayout.hour(of: Date()) - 1
        var rng = SplitMix64(seed: 7)
        var written = 0, records = 0
        let perFile = megabytes * 1_000_000 / files
        let countries = ["DE", "FR", "US", "JP"]
        for f in 0..<files {
            let hour = lastHour - Int32(f % 4)
            let folder = input.appendingPathComponent(PrefixLayout.firehose.prefix(forHour: hour))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent("part-\(f).json").path
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            var size = 0
            while size < perFile {
                var piece = ""
                piece.reserveCapacity(4 << 20)
                while piece.utf8.count < 4 << 20 {
                    let seconds = Int64(hour) * 3600 + Int64(rng.next() % 3600)
                    piece += "{\"id\":\(records),\"event_time\":\(seconds * 1000 + Int64(rng.next() % 1000)),\"user_id\":\"u\(rng.next() % 100_000)\",\"country\":\"\(countries[Int(rng.next() % 4)])\",\"amount\":\(Double(rng.next() % 100_000) / 100),\"ok\":true}\n"
                    records += 1
                }
                try handle.write(contentsOf: Data(piece.utf8))
                size += piece.utf8.count
            }
            try handle.close()
            written += size
        }
        let before = ProcessMemory.peakResidentMB
        print(String(format: "ingest-memory: %.0f MB of JSON lines, %d records, %d files; peak RSS before the run %d MB", Double(written) / 1e6, records, files, before))
        let warehouse = root.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        let schema = try SchemaText.schema(IngestBenchmark.schema)
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "bench.memory"), schema: schema)
        configuration.partitionSpec = try SchemaText.partitionSpec("hour(event_time)", schema: schema)
        if let threads { configuration.threads = threads }
        let start = ContinuousClock.now
        let summary = try await Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: input.path, layout: .firehose)).run()
        let seconds = start.seconds
        guard summary.rows == records else { throw ValidationError("ingested \(summary.rows) of \(records) rows") }
        print(String(
            format: "  run, %d threads: %.1f s (%.0f MB/s), %d data files, %.0f MB of Parquet; peak RSS %d MB", configuration.threads, seconds, Double(written) / 1e6 / seconds,
            summary.dataFiles, Double(summary.dataBytes) / 1e6, ProcessMemory.peakResidentMB))
    }
}
