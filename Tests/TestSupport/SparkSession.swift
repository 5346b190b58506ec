import Foundation
import IcebergCore
import Synchronization

/// Java Iceberg, through one local Spark session shared by the whole test run (`scripts/spark-server.py`,
/// started at the first use; Spark takes ~20 s to start). Statements are sent as SQL and answered as JSON
/// values, one request at a time, on a thread of its own (never on the cooperative pool).
///
/// Tables are reached through Hadoop-type catalogs over `file:` warehouses (the object-store catalog's
/// folder layout), one per warehouse, named by ``catalog(for:)``; a catalog name keeps its warehouse for
/// the whole session. Missing Spark or its Iceberg runtime is an error, never a skip.
///
/// ```swift
/// let h = SparkSession.catalog(for: warehouse)
/// let rows = try await SparkSession.shared.sql("SELECT id FROM \(h).db.events ORDER BY id", warehouse: warehouse)
/// ```
public final class SparkSession: Sendable {
    public static let shared = SparkSession()

    /// One statement's answer: its column names and rows (decimals, timestamps, dates and binaries as
    /// strings; structs as objects; maps as arrays of `[key, value]`).
    public struct Answer: Sendable {
        public var columns: [String]
        public var rows: [[JSONValue]]

        /// The values of one column.
        public func column(_ name: String) throws -> [JSONValue] {
            guard let i = columns.firstIndex(of: name) else { throw TestEnvironmentError("no column \(name) in \(columns)") }
            return rows.map { $0[i] }
        }
    }

    private struct Server: @unchecked Sendable {  // used only under the mutex
        var process: Process
        var input: FileHandle
        var output: FileHandle
        var buffer: [UInt8] = []
    }

    private let server = Mutex<Server?>(nil)
    private let startFailure = Mutex<String?>(nil)

    /// The Spark catalog name of a warehouse (an identifier made of its path).
    public static func catalog(for warehouse: String) -> String {
        "w_" + String(warehouse.unicodeScalars.map { $0.properties.isAlphabetic && $0.isASCII || ("0"..."9").contains($0) ? Character($0) : "_" })
    }

    /// Runs `statements` in order, with the catalog of `warehouse` registered, and returns each one's answer;
    /// throws with Spark's message (and the statement) at the first that fails, the ones before it having run.
    public func sql(_ statements: [String], warehouse: String) async throws -> [Answer] {
        var request: [(String, JSONValue)] = [("sql", .array(statements.map { .string($0) }))]
        request.append(("catalogs", .object([(Self.catalog(for: warehouse), .string(warehouse))])))
        let line = JSONValue.object(request).serialized()
        let reply = try await TestProcesses.detached { try self.exchange(line) }
        let answer = try JSONValue.parse(reply, source: "spark-server")
        guard case .bool(true)? = answer["ok"] else {
            var failed = "?"
            if case .int(let i)? = answer["statement"], i >= 0, Int(i) < statements.count { failed = statements[Int(i)] }
            var message = ""
            if case .string(let m)? = answer["error"] { message = m }
            throw TestEnvironmentError("Spark failed on: \(failed)\n\(message)")
        }
        guard case .array(let results)? = answer["results"] else { throw TestEnvironmentError("spark-server: no results in \(reply)") }
        return try results.map { result in
            guard case .array(let columns)? = result["columns"], case .array(let rows)? = result["rows"] else {
                throw TestEnvironmentError("spark-server: malformed result \(result)")
            }
            return Answer(
                columns: columns.compactMap { if case .string(let s) = $0 { s } else { nil } },
                rows: rows.map { if case .array(let values) = $0 { values } else { [] } })
        }
    }

    /// One statement's answer.
    public func sql(_ statement: String, warehouse: String) async throws -> Answer {
        try await sql([statement], warehouse: warehouse)[0]
    }

    private func exchange(_ line: String) throws -> String {
        try server.withLock { server in
            if server == nil { server = try start() }
            server!.input.write(Data((line + "\n").utf8))
            return try Self.readLine(&server!)
        }
    }

    private func start() throws -> Server {
        if let failure = startFailure.withLock({ $0 }) { throw TestEnvironmentError(failure) }
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/spark-server.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TestEnvironment.python())
        process.arguments = [script]
        var environment = ProcessInfo.processInfo.environment
        environment["TZ"] = "UTC"
        process.environment = environment
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        // Spark's log goes to a file the failure message names.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("spark-server-\(getpid()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        var server = Server(process: process, input: input.fileHandleForWriting, output: output.fileHandleForReading)
        do {
            let ready = try Self.readLine(&server)
            guard ready.contains("\"ready\"") else { throw TestEnvironmentError("spark-server did not start: \(ready)") }
            return server
        } catch {
            let tail = (try? String(contentsOf: log, encoding: .utf8)).map { String($0.suffix(3000)) } ?? ""
            let message = "Spark with Java Iceberg could not start (scripts/bootstrap.sh installs pyspark and the runtime jar): \(error)\n\(tail)"
            startFailure.withLock { $0 = message }
            process.terminate()
            throw TestEnvironmentError(message)
        }
    }

    private static func readLine(_ server: inout Server) throws -> String {
        while true {
            if let newline = server.buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: server.buffer[..<newline], as: UTF8.self)
                server.buffer.removeSubrange(...newline)
                return line
            }
            let chunk = server.output.availableData
            if chunk.isEmpty {
                throw TestEnvironmentError("spark-server exited (status \(server.process.isRunning ? "running" : String(server.process.terminationStatus)))")
            }
            server.buffer += chunk
        }
    }
}
