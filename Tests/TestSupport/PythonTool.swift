import Foundation

/// Runs Python code with the test virtual environment, for interop checks against pyarrow, fastavro,
/// PyIceberg, DuckDB and botocore.
public enum PythonTool {
    /// The result of a finished Python process.
    public struct Output: Sendable {
        public var stdout: String
        public var stderr: String
        public var status: Int32
    }

    /// Runs `code` (a Python program) with `arguments`; throws with stderr when it exits non-zero.
    @discardableResult
    public static func run(
        _ code: String, arguments: [String] = [], environment: [String: String] = [:], stdin: Data? = nil
    ) async throws -> String {
        let output = try await runAllowingFailure(code, arguments: arguments, environment: environment, stdin: stdin)
        guard output.status == 0 else {
            throw TestEnvironmentError("python exited \(output.status)\nstderr:\n\(output.stderr)\nstdout:\n\(output.stdout)")
        }
        return output.stdout
    }

    /// Runs `code` and returns its output whatever its exit status.
    public static func runAllowingFailure(
        _ code: String, arguments: [String] = [], environment: [String: String] = [:], stdin: Data? = nil
    ) async throws -> Output {
        let python = try TestEnvironment.python()
        let dir = try TestEnvironment.temporaryDirectory("py")
        defer { TestEnvironment.cleanUp(dir) }
        let script = dir.appendingPathComponent("script.py")
        try code.write(to: script, atomically: true, encoding: .utf8)
        return try await TestProcesses.run(python, arguments: [script.path] + arguments, environment: environment, stdin: stdin)
    }
}

/// Running the project's executables and Python, and stopping servers that tests start themselves.
public enum TestProcesses {
    /// Runs `executable` to the end; returns its output and exit status. `environment` adds to (or, with an
    /// empty value, removes from) the test's own environment. The wait happens on a thread of its own (see
    /// ``detached(_:)``): a Spark or PyIceberg check can take a minute, and two of them blocking the two
    /// threads of the cooperative pool once stalled every other test's lease renewals past their margin.
    public static func run(
        _ executable: String, arguments: [String], environment: [String: String] = [:], stdin: Data? = nil
    ) async throws -> PythonTool.Output {
        try await detached { try runBlocking(executable, arguments: arguments, environment: environment, stdin: stdin) }
    }

    private static func runBlocking(
        _ executable: String, arguments: [String], environment: [String: String], stdin: Data?
    ) throws -> PythonTool.Output {
        let dir = try TestEnvironment.temporaryDirectory("proc")
        defer { TestEnvironment.cleanUp(dir) }
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v.isEmpty ? nil : v }
        process.environment = env
        let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)
        process.standardOutput = outHandle
        process.standardError = errHandle
        let inPipe = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let stdin {
            inPipe.fileHandleForWriting.write(stdin)
            try inPipe.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return PythonTool.Output(
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "",
            status: process.terminationStatus)
    }

    /// Runs blocking work (waiting for a process, a Python check) on a thread of its own, not on Swift's
    /// cooperative pool: a test that waits minutes on the pool's few threads starves every other test's async
    /// work, in-process lease renewals included.
    public static func detached<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    /// The port a server `process` started by a test writes to `file` once it listens (nil if the process
    /// ends or `timeout` seconds pass first).
    public static func waitForPort(file: URL, of process: Process, timeout: Double = 60) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let text = try? String(contentsOf: file, encoding: .utf8), !text.isEmpty { return text }
            guard process.isRunning else { return nil }
            usleep(50_000)
        }
        return nil
    }

    /// SIGTERM, then SIGKILL if the process is still running after `grace` seconds; then reaps it.
    public static func stop(_ process: Process, grace: Double = 3) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
