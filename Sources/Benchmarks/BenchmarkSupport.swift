import ArgumentParser
import Foundation
import IcebergCore
import S3Reader

enum Stopwatch {
    /// Seconds `body` takes.
    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        return start.seconds
    }
}

extension ContinuousClock.Instant {
    /// Seconds elapsed since this instant.
    var seconds: Double {
        let elapsed = ContinuousClock.now - self
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

extension Array where Element == Double {
    /// The median (the mean of the middle two for an even count); 0 for none.
    var median: Double {
        guard !isEmpty else { return 0 }
        let sorted = self.sorted()
        return count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2
    }
}

/// Ratios of paired runs (a peer's time over ours, run after run in the same minutes): their median, and how
/// far that median moves when the pairs are drawn again (a bootstrap), so that a host whose speed swings
/// between runs shows as a wide interval rather than as a ratio that looks exact.
struct PairedRatios {
    let ratios: [Double]

    init(peer: [Double], ours: [Double]) {
        ratios = zip(peer, ours).compactMap { $1 > 0 ? $0 / $1 : nil }
    }

    var median: Double { ratios.median }

    /// The middle 95% of the medians of 2,000 resamples of the pairs (with replacement, a fixed seed).
    var interval: (low: Double, high: Double) {
        guard ratios.count > 1 else { return (median, median) }
        var random = SplitMix64(seed: 7)
        let medians = (0..<2_000).map { _ in ratios.indices.map { _ in ratios[Int(random.next() % UInt64(ratios.count))] }.median }.sorted()
        return (medians[50], medians[1_949])
    }

    /// "4.31x (95% bootstrap interval 3.95-4.60 over 9 pairs; 7 of them at least 4x)".
    func text(atLeast bar: Double) -> String {
        guard ratios.count > 1 else { return String(format: "%.2fx (one pair: no interval)", median) }
        let (low, high) = interval
        return String(
            format: "%.2fx (95%% bootstrap interval %.2f-%.2f over %d pairs; %d of them at least %.0fx)", median, low, high, ratios.count,
            ratios.filter { $0 >= bar }.count, bar)
    }
}

/// The process's memory as Linux reports it.
enum ProcessMemory {
    /// Peak resident set size (VmHWM) in MB, or -1 where /proc is missing.
    static var peakResidentMB: Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kb = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return -1 }
        return kb / 1024
    }

    /// CPU seconds (user and system) this process has used so far, all threads.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return cpuSeconds(usage)
    }

    /// CPU seconds of this process's children that have ended and been waited for.
    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return cpuSeconds(usage)
    }

    /// User plus system seconds of a `rusage`.
    static func cpuSeconds(_ usage: rusage) -> Double {
        Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

/// The S3 endpoint a benchmark runs against: the local test bed's (`S3_ENDPOINT` and the AWS variables
/// `scripts/s3-testbed.sh` sets), or an error saying how to run `command` under it.
struct BenchmarkS3 {
    let endpoint: String
    let region: String
    let credentials: AWSCredentials

    init(command: String) throws {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["S3_ENDPOINT"] else {
            throw ValidationError("S3_ENDPOINT is not set: run it as scripts/s3-testbed.sh -- .build/release/iceberg-bench \(command)")
        }
        self.endpoint = endpoint
        region = env["AWS_REGION"] ?? "us-east-1"
        credentials = AWSCredentials(accessKeyID: env["AWS_ACCESS_KEY_ID"] ?? "testing", secretAccessKey: env["AWS_SECRET_ACCESS_KEY"] ?? "testing")
    }

    /// CPU seconds the local S3 server has used so far (`S3_TESTBED_PID`, which `scripts/s3-testbed.sh` exports,
    /// read from /proc), or nil for an external endpoint.
    static func serverCPUSeconds() -> Double? {
        guard let pid = ProcessInfo.processInfo.environment["S3_TESTBED_PID"],
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command's closing parenthesis: state is field 3, utime and stime fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user + system) / ticks
    }

    func client(transport: any HTTPTransport = CurlTransport.shared) -> S3Client {
        S3Client(configuration: S3Configuration(region: region, endpoint: endpoint), credentials: StaticCredentialsProvider(credentials), transport: transport)
    }
}

/// Runs a program to its end and returns what it printed on stdout, and its exit status (stderr passes through).
enum ChildProcess {
    static func run(_ executable: String, _ arguments: [String]) throws -> (output: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: data, as: UTF8.self), process.terminationStatus)
    }
}

/// Runs the peer's side of a benchmark in Python and returns what it printed.
enum PythonPeer {
    static func run(_ python: String, code: String, arguments: [String]) throws -> String {
        let (output, status) = try ChildProcess.run(python, ["-c", code] + arguments)
        guard status == 0 else { throw IcebergError(.unsupported, "the Python peer (\(python)) exited with \(status)") }
        return output
    }
}

/// A FileIO over a local folder for benchmarks that need one (plain absolute paths).
struct DirectoryFileIO: FileIO {
    let root: String

    func read(_ location: String) async throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: location) else {
            throw IcebergError(.notFound, "no file \(location)")
        }
        return [UInt8](data)
    }
    func read(_ location: String, range: Range<Int64>) async throws -> [UInt8] {
        let bytes = try await read(location)
        return Array(bytes[Int(range.lowerBound)..<min(Int(range.upperBound), bytes.count)])
    }
    func size(_ location: String) async throws -> Int64 { Int64(try await read(location).count) }
    func write(_ location: String, bytes: [UInt8]) async throws {
        try FileManager.default.createDirectory(
            atPath: (location as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: location))
    }
    func writeIfAbsent(_ location: String, bytes: [UInt8]) async throws {
        guard !FileManager.default.fileExists(atPath: location) else {
            throw IcebergError(.alreadyExists, "\(location) exists")
        }
        try await write(location, bytes: bytes)
    }
    func delete(_ location: String) async throws { try? FileManager.default.removeItem(atPath: location) }
    func exists(_ location: String) async throws -> Bool { FileManager.default.fileExists(atPath: location) }
    func list(prefix: String) async throws -> [FileInfo] {
        let dir = (prefix as NSString).deletingLastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.map { dir + "/" + $0 }.filter { $0.hasPrefix(prefix) }.sorted().map {
            FileInfo(location: $0, size: Int64((try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0))
        }
    }
}
