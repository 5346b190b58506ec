import ArgumentParser
import Checkpoint
import Foundation
import IcebergCore
import IcebergIngest

/// `iceberg-bench reconcile`: what a reconciliation of 7 days × 24 closed hours costs when the archive holds N
/// objects (default 1,000,000): reading the archive segments of those hours into the set of ingested keys (its
/// time, and its peak RSS in a process of its own), and listing the 168 hour prefixes of a source (how many
/// prefixes are listed). The normal pass never reads the archive; its listing is timed with and without one.
/// The peer is the obvious Python equivalent: the same segments decompressed (zstandard) and parsed into a set.
struct ReconcileBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile", abstract: "Read the archive of 7x24 closed hours (N objects) as a reconciliation does.")

    @Option(help: "Archived objects.") var objects = 1_000_000
    @Option(help: "Closed hours they are spread over (one segment each, as hourly runs fold them).") var hours: Int32 = 168
    @Option(help: "Repetitions; medians are reported.") var repetitions = 3
    @Option(help: "Python with the zstandard module for the peer (empty to skip the peer).")
    var python = ".venv/bin/python"
    @Option(help: "Internal: read the archive under this table location and print the keys found and the peak RSS.")
    var measureRead: String?

    static let source = "s3://bucket/raw/events/|firehose"
    static let firstHour: Int32 = 494_000

    func run() async throws {
        if let measureRead {
            let store = CheckpointStore(io: LocalFileIO(), tableLocation: measureRead, source: Self.source, shard: .single)
            let found = try await store.archivedObjects(hours: Self.firstHour...(Self.firstHour + hours - 1), upTo: Int64.max)
            print("\(found.count) \(ProcessMemory.peakResidentMB)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = CheckpointStore(io: LocalFileIO(), tableLocation: dir.path, source: Self.source, shard: .single)

        // The archive: one segment per hour, as a run folding an hour at a time writes them.
        let perHour = max(1, objects / Int(hours))
        let write = ContinuousClock.now
        for h in 0..<hours {
            let hour = Self.firstHour + h
            let folded = (0..<perHour).map { i in
                IngestedObject(version: CheckpointBenchmark.object(Int(h) * perHour + i), hour: hour, snapshotID: Int64(h))
            }
            try await store.saveArchive(version: Int64(h) + 1, folded: folded)
        }
        let writeSeconds = write.seconds
        let segmentBytes = try FileManager.default.contentsOfDirectory(atPath: store.archiveDirectory)
            .reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: store.archiveDirectory + $1)[.size] as? Int) ?? 0) }

        var reads: [Double] = []
        var found = 0
        for _ in 0..<repetitions {
            let start = ContinuousClock.now
            found = try await store.archivedObjects(hours: Self.firstHour...(Self.firstHour + hours - 1), upTo: Int64.max).count
            reads.append(start.seconds)
        }
        let measured = try Self.runSelf(["reconcile", "--hours", String(hours), "--measure-read", dir.path])
        let parts = measured.split(separator: " ")
        let peakMB = parts.count == 2 ? String(parts[1].trimmingCharacters(in: .whitespacesAndNewlines)) : "?"

        // Listing the closed hours of a source: one prefix per hour, whatever the archive holds.
        let input = dir.appendingPathComponent("source").path
        for h in 0..<hours {
            let folder = input + "/" + PrefixLayout.firehose.prefix(forHour: Self.firstHour + h)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data("{}\n".utf8).write(to: URL(fileURLWithPath: folder + "/a.json"))
        }
        let source = LocalFolderSource(root: input, layout: .firehose)
        var lists: [Double] = []
        var prefixes = 0
        for _ in 0..<repetitions {
            let start = ContinuousClock.now
            prefixes = try await source.list(
                firstOpenHour: Self.firstHour, now: Date(timeIntervalSince1970: Double(Self.firstHour + hours - 1) * 3600)
            ).listedPrefixes.count
            lists.append(start.seconds)
        }

        // The normal incremental pass, with and without a 1M-object archive beside the checkpoint: it never
        // reads the archive, so its time and listing stay the same.
        let (without, with, listed) = try await normalPass(dir: dir, perHour: perHour)

        print("reconcile: \(found) archived objects in \(hours) segments, \(segmentBytes / 1_000_000) MB (written in \(String(format: "%.2f", writeSeconds)) s)")
        print(String(format: "  read the archive of %d hours: median %.3f s, peak RSS %@ MB (own process)", hours, reads.median, peakMB))
        print(String(format: "  list %d closed hour prefixes (local source): %d prefixes listed, median %.4f s", hours, prefixes, lists.median))
        print(String(format: "  normal incremental pass (nothing new, %d prefixes listed): median %.3f s without an archive, %.3f s with %d archived objects (%.2fx)", listed, without, with, found, with / max(without, 1e-9)))
        guard found == perHour * Int(hours), prefixes == Int(hours) else { throw ValidationError("the reconciliation did not see what was archived") }

        if !python.isEmpty {
            let keysFile = dir.appendingPathComponent("keys.txt").path
            let keys = (0..<(perHour * Int(hours))).map { CheckpointBenchmark.object($0).key + "\n" }.joined()
            try keys.write(toFile: keysFile, atomically: true, encoding: .utf8)
            let output = try PythonPeer.run(python, code: Self.peer, arguments: [keysFile, String(hours), String(repetitions)])
            let fields = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
            if fields.count == 2, let peer = Double(fields[1]) {
                print(String(format: "  peer (Python: zstandard + json + set): %@ objects, median %.3f s; ours %.2fx its time", String(fields[0]), peer, reads.median / peer))
            } else {
                print("  peer: \(output)")
            }
        }
    }

    /// Times a run that finds nothing new, on a small source and SQLite table, before and after 168 archive
    /// segments of `perHour` objects each are written beside its checkpoint. Returns the medians and the
    /// prefixes a pass lists.
    func normalPass(dir: URL, perHour: Int) async throws -> (Double, Double, Int) {
        let input = dir.appendingPathComponent("recent").path
        let now = Date()
        for h in 0..<6 {
            let folder = input + "/" + PrefixLayout.firehose.prefix(forHour: PrefixLayout.hour(of: now) - Int32(h))
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data("{\"id\": \(h)}\n".utf8).write(to: URL(fileURLWithPath: folder + "/a.json"))
        }
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.events"), schema: try SchemaText.schema("id long"))
        configuration.reconcileEverySeconds = nil
        let ingestor = Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: input, layout: .firehose))
        _ = try await ingestor.run(now: now)
        func passes() async throws -> (Double, Int) {
            var times: [Double] = []
            var listed = 0
            for _ in 0..<max(3, repetitions) {
                let start = ContinuousClock.now
                let summary = try await ingestor.run(now: now)
                times.append(start.seconds)
                listed = summary.prefixesListed
            }
            return (times.median, listed)
        }
        let (without, listed) = try await passes()
        let table = try await catalog.loadTable(configuration.table)
        let store = CheckpointStore(io: LocalFileIO(), tableLocation: table.metadata.location, source: ingestor.source.identity, shard: .single)
        for h in 0..<hours {
            let folded = (0..<perHour).map { i in
                IngestedObject(version: CheckpointBenchmark.object(Int(h) * perHour + i), hour: Self.firstHour + h, snapshotID: 1)
            }
            try await store.saveArchive(version: 1, folded: folded)  // committed: recovery keeps it
        }
        let (with, _) = try await passes()
        return (without, with, listed)
    }

    /// Runs this executable with `arguments` and returns what it printed (memory is measured in a process
    /// of its own, not after this one built the archive).
    static func runSelf(_ arguments: [String]) throws -> String {
        try ChildProcess.run(CommandLine.arguments[0], arguments).output
    }

    /// The peer keeps the same objects as Python would: zstd-compressed JSON lines, one segment per hour
    /// (made untimed), then times reading them all into a set of keys.
    static let peer = #"""
    import sys, json, time
    import backports.zstd as zstd
    keys_file, hours, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    keys = open(keys_file).read().split("\n")[:-1]
    per = len(keys) // hours
    segments = [zstd.compress(b"".join(json.dumps({"k": k, "s": 10000, "e": "9e3779b97f4a7c15", "h": h}).encode() + b"\n"
                for k in keys[h * per:(h + 1) * per])) for h in range(hours)]
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        found = set()
        for blob in segments:
            for line in zstd.decompress(blob).splitlines():
                found.add(json.loads(line)["k"])
        times.append(time.perf_counter() - start)
    times.sort()
    print(len(found), times[len(times) // 2])
    """#
}
