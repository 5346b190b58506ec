import Foundation
import IcebergCore
import S3Reader

/// `scripts/fault-proxy.py` in front of a server (the local S3 server, a REST catalog): a fraction of the
/// requests, chosen by a seeded random source, get a 500, a 503 SlowDown, a reset before or after the server
/// saw them, a stall or a truncated body instead of the server's answer.
///
/// ```swift
/// let proxy = try FaultProxy(upstream: s3.endpoint, rate: 0.2, seed: 7)
/// defer { proxy.stop() }
/// // point the run at proxy.url, then:
/// let counts = try await proxy.counts()   // ["requests": 412, "500": 14, "reset-after": 13, ...]
/// ```
public final class FaultProxy: @unchecked Sendable {
    // Safe: every stored property is set once in init and only read after.
    let process: Process
    let directory: URL
    /// `http://127.0.0.1:<port>`.
    public let url: String

    public init(upstream: String, rate: Double, seed: Int, faults: [String]? = nil, stallSeconds: Double = 1) throws {
        let python = try TestEnvironment.python()
        directory = try TestEnvironment.temporaryDirectory("fault-proxy")
        let portFile = directory.appendingPathComponent("port")
        let log = directory.appendingPathComponent("proxy.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        var arguments = [
            TestEnvironment.repositoryRoot.appendingPathComponent("scripts/fault-proxy.py").path, "--upstream", upstream,
            "--rate", String(rate), "--seed", String(seed), "--stall-seconds", String(stallSeconds), "--port-file", portFile.path,
        ]
        if let faults { arguments += ["--faults", faults.joined(separator: ",")] }
        process.arguments = arguments
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        guard let port = TestProcesses.waitForPort(file: portFile, of: process, timeout: 30) else {
            TestProcesses.stop(process)
            throw TestEnvironmentError("the fault proxy did not start:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        url = "http://127.0.0.1:\(port)"
    }

    /// Requests seen, requests forwarded, and one count per fault injected.
    public func counts() async throws -> [String: Int] {
        let response = try await CurlTransport.shared.send(HTTPRequest(method: "GET", url: "\(url)/_proxy/stats"))
        guard case .object(let fields) = try JSONValue.parse(response.body, source: "fault proxy stats") else { return [:] }
        var counts: [String: Int] = [:]
        for (key, value) in fields { if case .int(let n) = value { counts[key] = Int(n) } }
        return counts
    }

    /// Faults injected, all kinds together.
    public static func faults(in counts: [String: Int]) -> Int {
        counts.filter { $0.key != "requests" && $0.key != "forwarded" }.values.reduce(0, +)
    }

    public func stop() {
        TestProcesses.stop(process)
        TestEnvironment.cleanUp(directory)
    }
}
