import ArgumentParser
import Codecs
import Foundation
import IcebergIngest

/// `iceberg-bench inflate`: Firehose-style gzip JSON lines (the `compare` events, one gzip member per object)
/// inflated by the two ways a run has, zlib streaming in 1 MiB pieces and libdeflate whole, against zlib
/// (`zlib.decompress`) and ISA-L (`isal.igzip.decompress`, the python-isal binding) inflating the same
/// objects whole in one Python process; CPU seconds, MB/s of output, medians of `--runs`.
struct InflateBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inflate", abstract: "Gzip JSON lines inflated: zlib streaming and libdeflate whole (ours) against zlib and ISA-L, in one run.")

    @Option(help: "Records in all.") var records = 1_000_000
    @Option(help: "Objects (each one gzip member).") var objects = 8
    @Option(help: "Runs of each side (the median is reported).") var runs = 3
    @Option(help: "Python with python-isal for the peers.") var python = ".venv/bin/python"

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bench-inflate-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var compressed: [[UInt8]] = []
        var raw = 0
        for (o, (_, bytes)) in IngestBenchmark.events(records: records, objects: objects, lastHour: PrefixLayout.hour(of: Date()) - 1).enumerated() {
            let gzip = try Deflate.compress(bytes, framing: .gzip, level: 6)
            try Data(gzip).write(to: URL(fileURLWithPath: root + "/part-\(o).json.gz"))
            compressed.append(gzip)
            raw += bytes.count
        }
        let megabytes = Double(raw) / 1e6
        print(String(format: "inflate: %d objects, %.1f MB of JSON lines in %.1f MB of gzip", objects, megabytes, Double(compressed.reduce(0) { $0 + $1.count }) / 1e6))
        var stream: [Double] = [], whole: [Double] = [], zlib: [Double] = [], isal: [Double] = []
        for _ in 0..<runs {
            var before = ProcessMemory.cpuSeconds()
            var produced = 0
            for object in compressed {
                let decompressor = try CompressionFormat.gzip.makeDecompressor(source: "bench.json.gz")
                var d = decompressor
                var at = 0
                while at < object.count {
                    let end = min(object.count, at + (1 << 20))
                    try d.feed(object[at..<end]) { produced += $0.count }
                    at = end
                }
                try d.finish { produced += $0.count }
            }
            stream.append(ProcessMemory.cpuSeconds() - before)
            guard produced == raw else { throw ValidationError("zlib streaming gave \(produced) bytes of \(raw)") }
            before = ProcessMemory.cpuSeconds()
            produced = 0
            for object in compressed {
                guard let text = WholeGzip.decompress(object, limit: 64 << 20) else { throw ValidationError("libdeflate refused an object") }
                produced += text.count
            }
            whole.append(ProcessMemory.cpuSeconds() - before)
            guard produced == raw else { throw ValidationError("libdeflate gave \(produced) bytes of \(raw)") }
            let output = try PythonPeer.run(python, code: Self.peerCode, arguments: [root, String(objects)])
            let fields = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").compactMap { Double($0) }
            guard fields.count == 3, Int(fields[2]) == raw else { throw ValidationError("the peers printed: \(output)") }
            zlib.append(fields[0])
            isal.append(fields[1])
        }
        let reference = whole.median
        for (name, times) in [
            ("ours, zlib streaming (objects over 8 MiB)", stream), ("ours, libdeflate whole (objects up to 8 MiB)", whole),
            ("zlib.decompress, whole", zlib), ("ISA-L igzip, whole", isal),
        ] {
            let t = times.median
            print(String(format: "  %@ %.3f s cpu, %4.0f MB/s  (%.2fx libdeflate's time)", name.padding(toLength: 46, withPad: " ", startingAt: 0), t, megabytes / t, t / reference))
        }
    }

    static let peerCode = #"""
    import sys, resource, zlib
    from isal import igzip
    root, count = sys.argv[1], int(sys.argv[2])
    data = [open(f"{root}/part-{o}.json.gz", "rb").read() for o in range(count)]
    def cpu():
        r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime
    t = cpu(); n = sum(len(zlib.decompress(d, 31)) for d in data); z = cpu() - t
    t = cpu(); m = sum(len(igzip.decompress(d)) for d in data); i = cpu() - t
    assert n == m
    print("%.4f %.4f %d" % (z, i, n))
    """#
}
