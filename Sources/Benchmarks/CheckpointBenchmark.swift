import ArgumentParser
import Checkpoint
import Foundation
import IcebergCore

/// `iceberg-bench checkpoint`: a checkpoint tracking N objects (default 1,000,000): build, save (encode and
/// write a local file), load (read and decode) and look up every object; medians and peak RSS. The peer is
/// the obvious Python equivalent (a dict of tuples, pickled and zstd-compressed) on the same objects.
struct CheckpointBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint", abstract: "Load, look up and save a checkpoint of N tracked objects.")

    @Option(help: "Tracked objects.") var objects = 1_000_000
    @Option(help: "Repetitions; medians are reported.") var repetitions = 3
    @Option(help: "Python with zstandard for the peer (empty to skip the peer).")
    var python = ".venv/bin/python"
    @Option(help: "Internal: load version 1 of the benchmark's checkpoint under this table location and print the peak RSS.")
    var measureLoad: String?

    static let source = "s3://bucket/raw/events/|firehose"

    static func object(_ i: Int) -> ObjectVersion {
        let hour = i / 20_000
        return ObjectVersion(
            key: "raw/events/2026/11/\(10 + hour / 24)/\(hour % 24)/events-stream-1-2026-11-24-10-00-00-\(String(i, radix: 16))-a1b2c3d4.gz",
            size: Int64(10_000 + i % 5_000), etag: String(UInt64(i) &* 0x9E37_79B9_7F4A_7C15, radix: 16),
            lastModifiedMillis: 1_764_000_000_000 + Int64(i))
    }

    func run() async throws {
        if let measureLoad {
            let store = CheckpointStore(
                io: DirectoryFileIO(root: measureLoad), tableLocation: measureLoad, source: Self.source, shard: .single)
            let loaded = try await store.load(version: 1)
            print("\(loaded.trackedObjectCount) \(ProcessMemory.peakResidentMB)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let versions = (0..<objects).map(Self.object)
        let hours = (0..<objects).map { 494_000 + Int32($0 / 20_000) }
        var checkpoint = SourceCheckpoint(source: Self.source, shard: .single, lateArrivalHours: 48)
        let build = Stopwatch.time {
            for i in 0..<objects { checkpoint.record(versions[i], hour: hours[i], snapshotID: Int64(i / 50_000)) }
        }
        let io = DirectoryFileIO(root: dir.path)
        let store = CheckpointStore(io: io, tableLocation: dir.path, source: checkpoint.source, shard: .single)
        var saves: [Double] = [], loads: [Double] = [], lookups: [Double] = []
        for repetition in 1...repetitions {
            checkpoint.version = Int64(repetition)
            let start = ContinuousClock.now
            try await store.save(checkpoint)
            saves.append(start.seconds)
            let loadStart = ContinuousClock.now
            let loaded = try await store.load(version: Int64(repetition))
            loads.append(loadStart.seconds)
            var found = 0
            lookups.append(Stopwatch.time {
                for i in 0..<objects { if case .ingested = loaded.status(of: versions[i], hour: hours[i]) { found += 1 } }
            })
            precondition(found == objects, "lookups found \(found) of \(objects)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: store.location(of: 1))[.size] as? Int) ?? 0
        print("checkpoint: \(objects) objects, file \(size / 1_000_000) MB, in-memory \(checkpoint.footprintBytes / 1_000_000) MB")
        print(String(format: "  build %.3f s | save median %.3f s | load median %.3f s | look up all median %.3f s",
                     build, saves.median, loads.median, lookups.median))
        let fresh = Process()
        fresh.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        fresh.arguments = ["checkpoint", "--measure-load", dir.path]
        let pipe = Pipe()
        fresh.standardOutput = pipe
        try fresh.run()
        let answer = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ")
        fresh.waitUntilExit()
        print("  peak RSS of a fresh process that loads the file: \(answer.last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? "?") MB")
        guard !python.isEmpty else { return }
        let peer = try PythonPeer.run(python, code: Self.peerCode, arguments: [String(objects), String(repetitions)])
        print("  peer (Python dict + pickle + zstd): \(peer.trimmingCharacters(in: .whitespacesAndNewlines))")
        if let peerLoad = peer.split(separator: " ").first(where: { $0.hasPrefix("load=") }).flatMap({ Double($0.dropFirst(5)) }) {
            print(String(format: "  load ratio ours/peer %.2f", loads.median / peerLoad))
        }
    }

    static let peerCode = #"""
    import pickle, statistics, sys, time, zstandard, resource
    n, reps = int(sys.argv[1]), int(sys.argv[2])
    def obj(i):
        h = i // 20000
        return ("raw/events/2026/11/%d/%d/events-stream-1-2026-11-24-10-00-00-%x-a1b2c3d4.gz" % (10 + h // 24, h % 24, i),
                10000 + i % 5000, format((i * 0x9E3779B97F4A7C15) % 2**64, "x"), 1764000000000 + i)
    objs = [obj(i) for i in range(n)]
    d = {k: (s, e, m, 494000 + i // 20000, i // 50000) for i, (k, s, e, m) in enumerate(objs)}
    saves, loads, looks = [], [], []
    for _ in range(reps):
        t = time.perf_counter(); blob = zstandard.ZstdCompressor(level=1).compress(pickle.dumps(d, protocol=5)); saves.append(time.perf_counter() - t)
        t = time.perf_counter(); back = pickle.loads(zstandard.ZstdDecompressor().decompress(blob)); loads.append(time.perf_counter() - t)
        t = time.perf_counter(); found = sum(1 for k, s, e, m in objs if (v := back.get(k)) is not None and v[0] == s and v[1] == e); looks.append(time.perf_counter() - t)
        assert found == n
    print("save=%.3f load=%.3f lookup=%.3f file=%dMB peakRSS=%dMB" % (statistics.median(saves), statistics.median(loads),
          statistics.median(looks), len(blob) // 1000000, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024))
    """#
}
