import ArgumentParser
import Foundation
import IcebergCore
import IcebergIngest
import S3Reader

/// `iceberg-bench shards`: 1, 2 and 4 `iceberg-ingest run --shard i/N` processes on the same input on an S3
/// endpoint (the local test bed: `scripts/s3-testbed.sh -- .build/release/iceberg-bench shards`), for one
/// busy hour of many objects and for a spread of hours: wall time, throughput, and balance (bytes read per
/// shard, max/min). The peer is boto3 reading the same objects with as many threads as the largest shard
/// count (the endpoint's own ceiling). `--latency-ms` puts `scripts/fault-proxy.py` in front of the
/// endpoint, stalling every request; `--bandwidth-mib` gives each shard process a proxy of its own whose
/// responses share that bandwidth (a pod's network): both show how I/O-bound work scales beyond this
/// machine's cores, the second where a shard's own link, not the endpoint, is the limit.
struct ShardScalingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shards", abstract: "Throughput and balance of 1, 2, 4 shard processes on one busy hour and on a spread of hours.")

    @Option(help: "Objects in the busy hour (and in all of the spread).") var objects = 256
    @Option(help: "Size of each object, KiB of JSON lines.") var objectKiB = 192
    @Option(help: "Hours of the spread input.") var hours = 8
    @Option(help: "Shard counts, comma-separated.") var shards = "1,2,4"
    @Option(help: "Added latency per S3 request, milliseconds (0: none; otherwise through scripts/fault-proxy.py).") var latencyMs = 0
    @Option(name: .customLong("bandwidth-mib"), help: "Bandwidth of each shard's link, MiB/s (0: none; otherwise each shard process gets a fault-proxy.py of its own, a pod's network).")
    var bandwidthMiB = 0.0
    @Option(help: "The iceberg-ingest executable.") var executable = ".build/release/iceberg-ingest"
    @Option(help: "Python with boto3 for the peer and the proxy.") var python = ".venv/bin/python"

    func run() async throws {
        let s3 = try BenchmarkS3(command: "shards")
        let (upstream, region, credentials) = (s3.endpoint, s3.region, s3.credentials)
        let counts = shards.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let client = s3.client()
        let bucket = "bench-shards-\(UUID().uuidString.prefix(8).lowercased())"
        try await client.createBucket(bucket)
        let now = PrefixLayout.hour(of: Date())
        let busy = (0..<objects).map { ("busy/", now - 1, $0) }
        let spread = (0..<objects).map { ("spread/", now - 1 - Int32($0 % hours), $0) }
        try await upload(busy + spread, client: client, bucket: bucket)

        // With added latency, every shard goes through one proxy; with a bandwidth per shard, each shard has
        // a proxy of its own (its pod's link), with the latency too when asked.
        let proxies = bandwidthMiB > 0 ? (counts.max() ?? 1) : (latencyMs > 0 ? 1 : 0)
        var started: [Process] = []
        defer { for proxy in started { proxy.terminate() } }
        var endpoints: [String] = []
        let portFolder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-shards-ports-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: portFolder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: portFolder) }
        for index in 0..<proxies {
            let proxy = Process()
            proxy.executableURL = URL(fileURLWithPath: python)
            proxy.arguments =
                ["scripts/fault-proxy.py", "--upstream", upstream, "--port-file", "\(portFolder)/\(index)", "--bandwidth-mib", String(bandwidthMiB)]
                + (latencyMs > 0 ? ["--rate", "1", "--faults", "stall", "--stall-seconds", String(Double(latencyMs) / 1000)] : ["--rate", "0"])
            proxy.standardOutput = FileHandle.nullDevice
            proxy.standardError = FileHandle.nullDevice
            try proxy.run()
            started.append(proxy)
        }
        // Each proxy writes its port once it listens.
        let deadline = ContinuousClock.now + .seconds(60)
        for index in 0..<proxies {
            while true {
                if let port = try? String(contentsOfFile: "\(portFolder)/\(index)", encoding: .utf8), !port.isEmpty {
                    endpoints.append("http://127.0.0.1:\(port.trimmingCharacters(in: .whitespacesAndNewlines))")
                    break
                }
                guard ContinuousClock.now < deadline, started[index].isRunning else {
                    throw ValidationError("fault-proxy.py \(index) did not start listening")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        if endpoints.isEmpty { endpoints = [upstream] }
        let endpoint = endpoints[0]

        let mib = Double(objects * objectKiB) / 1024
        print(String(
            format: "shards: %d objects of %d KiB (%.0f MiB) per input, S3 at %@%@", objects, objectKiB, mib, upstream,
            (latencyMs > 0 ? " through fault-proxy.py adding \(latencyMs) ms per request" : "")
                + (bandwidthMiB > 0 ? ", each shard through a link of \(bandwidthMiB) MiB/s of its own" : "")))
        let peer = try PythonPeer.run(
            python, code: Self.peerCode,
            arguments: [endpoint, region, bucket, credentials.accessKeyID, credentials.secretAccessKey, String(counts.max() ?? 1)])
        print("  boto3 GET of the busy hour, \(counts.max() ?? 1) threads: \(peer.trimmingCharacters(in: .whitespacesAndNewlines))")
        print("  input    shards  wall s   MiB/s  speed-up  cpu s (shards+server)  cores busy  MiB read per shard (largest deviation from the mean)")
        for input in ["busy/", "spread/"] {
            var baseline: Double?
            for count in counts {
                let run = try await measure(prefix: input, bucket: bucket, endpoints: endpoints, shards: count)
                let (seconds, bytes) = (run.seconds, run.bytes)
                let cpu = String(format: "%.2f+%@", run.shardCPU, run.serverCPU.map { String(format: "%.2f", $0) } ?? "?")
                baseline = baseline ?? seconds
                let mean = bytes.reduce(0, +) / Double(max(1, bytes.count))
                let deviation = bytes.map { abs($0 - mean) / max(1, mean) }.max() ?? 0
                print(
                    "  " + input.padding(toLength: 7, withPad: " ", startingAt: 0)
                        + String(
                            format: "  %6d  %6.2f  %6.1f  %7.2fx  %21@  %10.2f  %@ (±%.0f%%)", count, seconds, mib / seconds, (baseline ?? seconds) / seconds,
                            cpu.padding(toLength: 21, withPad: " ", startingAt: 0) as NSString, run.coresBusy,
                            bytes.map { String(format: "%.1f", $0 / 1_048_576) }.joined(separator: "/") as NSString, deviation * 100))
            }
        }
    }

    /// Uploads JSON-lines objects of about `objectKiB` each: (folder, hour, number).
    func upload(_ items: [(String, Int32, Int)], client: S3Client, bucket: String) async throws {
        let targetBytes = objectKiB * 1024
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = 0
            for (folder, hour, number) in items {
                if pending >= 16 { try await group.next(); pending -= 1 }
                group.addTask {
                    var text = ""
                    var id = number * 1_000_000
                    let micros = Int64(hour) * 3_600_000_000
                    while text.utf8.count < targetBytes {
                        text += #"{"id":\#(id),"event_time":\#(micros + Int64(id % 3_600_000_000)),"user":"u\#(id % 977)","amount":\#(Double(id % 10_000) / 100),"tags":["a","b"]}"# + "\n"
                        id += 1
                    }
                    let key = "raw/\(folder)" + PrefixLayout.firehose.prefix(forHour: hour) + "stream-1-\(number)-\(UUID().uuidString.prefix(8)).json"
                    try await client.putObject(bucket: bucket, key: key, body: Array(text.utf8))
                }
                pending += 1
            }
            try await group.waitForAll()
        }
    }

    /// Runs `shards` processes at once on a fresh table; returns the wall time and each shard's bytes read.
    func measure(prefix: String, bucket: String, endpoints: [String], shards: Int) async throws -> Measurement {
        let warehouse = FileManager.default.temporaryDirectory.appendingPathComponent("bench-shards-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: warehouse) }
        // The shard processes' CPU: what the children that ended meanwhile used.
        let cpuBefore = ProcessMemory.childrenCPUSeconds(), serverBefore = BenchmarkS3.serverCPUSeconds()
        let started = ContinuousClock.now
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<shards {
                let arguments = [
                    "run", "--source", "s3://\(bucket)/raw/\(prefix)", "--layout", "firehose", "--catalog", "file:\(warehouse)", "--table", "db.events",
                    "--schema", "id long not null, event_time timestamptz, user string, amount double, tags list<string>",
                    "--partition", "hour(event_time)", "--epoch-unit", "microseconds", "--late-arrival-hours", "24", "--shard", "\(index)/\(shards)",
                    "--s3-endpoint", endpoints[index % endpoints.count], "--json", "--log-level", "warning", "--wait", "600",
                ]
                let executable = self.executable
                group.addTask {
                    try await withCheckedThrowingContinuation { continuation in
                        Thread.detachNewThread {
                            continuation.resume(with: Result {
                                let (output, status) = try ChildProcess.run(executable, arguments)
                                guard status == 0 else { throw ValidationError("shard \(index)/\(shards) exited with \(status)") }
                                return output
                            })
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpu = (
            shards: ProcessMemory.childrenCPUSeconds() - cpuBefore,
            server: serverBefore.flatMap { before in BenchmarkS3.serverCPUSeconds().map { $0 - before } }
        )
        var bytes: [Double] = []
        var total = 0
        for output in outputs {
            let summary = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
            if case .int(let read)? = summary["bytesRead"] { bytes.append(Double(read)) }
            if case .int(let n)? = summary["objectsIngested"] { total += Int(n) }
        }
        guard total == objects else { throw ValidationError("\(shards) shards read \(total) of \(objects) objects") }
        return Measurement(seconds: seconds, bytes: bytes, shardCPU: cpu.shards, serverCPU: cpu.server)
    }

    /// One run of `shards` processes: wall time, each shard's bytes read, and the CPU seconds the shard processes
    /// and the S3 server (when it runs on this machine) used meanwhile.
    struct Measurement {
        let seconds: Double
        let bytes: [Double]
        let shardCPU: Double
        let serverCPU: Double?

        /// Cores kept busy on average: (shards' CPU + the server's) / wall.
        var coresBusy: Double { (shardCPU + (serverCPU ?? 0)) / max(seconds, 1e-9) }
    }

    static let peerCode = #"""
    import sys, time, boto3
    from concurrent.futures import ThreadPoolExecutor
    endpoint, region, bucket, key, secret, threads = sys.argv[1:7]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=key, aws_secret_access_key=secret)
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="raw/busy/") for o in page.get("Contents", [])]
    t = time.perf_counter()
    with ThreadPoolExecutor(int(threads)) as pool:
        n = sum(pool.map(lambda k: len(s3.get_object(Bucket=bucket, Key=k)["Body"].read()), keys))
    s = time.perf_counter() - t
    print("%d objects, %.1f MiB in %.2f s: %.1f MiB/s" % (len(keys), n / 1048576, s, n / 1048576 / s))
    """#
}
