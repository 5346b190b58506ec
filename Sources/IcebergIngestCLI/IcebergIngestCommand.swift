import ArgumentParser
import BlockingThreads
import Checkpoint
import Dispatch
import Foundation
import Synchronization
import IcebergCore
import IcebergIngest
import CStandardIO
import Logging

/// `iceberg-ingest`: the example executable over the IcebergIngest library.
@main
struct IcebergIngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iceberg-ingest",
        abstract: "Ingest files landing in S3 or a local folder into Apache Iceberg tables, exactly once.",
        discussion: """
            Exit codes: 0 success; 1 failure (I/O, catalog, input); 2 invalid configuration; 3 a bad record under \
            the 'fail' policy; 4 a commit that kept conflicting; 5 a field the table lacks under the drift policy 'fail'; \
            6 another runner holds this shard's lease (or took it over from this one), nothing was done; 128 + N stopped by \
            signal N (SIGTERM: 143): the run started no new object, committed what it had read and released its lease, \
            or --grace seconds (25) ran out first. A run that fails keeps what it committed \
            before the failure; running again continues from there without reading anything twice.
            """,
        version: IcebergIngestVersion.current,
        subcommands: [Run.self, Plan.self, Status.self, Infer.self, Backfill.self, Evolve.self, ExpireSnapshotsCommand.self, RemoveOrphansCommand.self, CompactCommand.self, Config.self, Demo.self],
        defaultSubcommand: Demo.self)

    /// ArgumentParser's entry point, after making stdout line-buffered and installing the crash tests'
    /// fail-point handler: a process whose `ICEBERG_INGEST_FAIL_POINT` names a point stops dead there, as a
    /// crash would.
    static func main() async {
        // One line is one event: flushed at its end whatever stdout is (Kubernetes gives a pipe, where C's
        // default is a 4 KiB block that `run --follow --json` filled only every few minutes).
        cstdio_line_buffer_stdout()
        // Before any thread starts: glibc's per-thread malloc arenas would hold far more memory than the run uses.
        MallocArenas.limit()
        FailPoint.install { name in
            ProcessLog.write(.critical, "fail point '\(name)' reached, exiting")
            Foundation.exit(FailPoint.exitCode)
        }
        do {
            var command = try parseAsRoot()
            if let job = (command as? any JobCommand)?.job { ProcessLog.json.withLock { $0 = job.logFormat == "json" } }
            // Checked before anything runs: exit code 2 naming --grace, not a trap (or an exit at once) on SIGTERM.
            let grace: Double
            do { grace = try (command as? any JobCommand)?.job.checkedGrace() ?? JobOptions.defaultGrace } catch { throw ExitCodes.report(error) }
            if let asyncCommand = command as? any AsyncParsableCommand {
                let box = CommandBox(asyncCommand)
                try await Self.runStoppingOnSignals(grace: grace) { try await box.command.run() }
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    /// Runs `work`; SIGTERM (Kubernetes stopping the pod) or SIGINT requests a graceful stop
    /// (``StopRequest/process``): a run starts no new object, commits what it has read, prints its summary,
    /// lets go of its lease and exits with 128 + the signal, so the next runner starts at once. If that takes
    /// longer than `grace` seconds, or a second signal comes, the process exits at once with the same code
    /// (nothing half-committed: the next run recovers).
    static func runStoppingOnSignals(grace: Double, _ work: @escaping @Sendable () async throws -> Void) async throws {
        let task = Task { try await work() }
        let received = Mutex<Int32?>(nil)
        var sources: [any DispatchSourceSignal] = []
        for signal in [SIGTERM, SIGINT] {
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler {
                let first = received.withLock { value -> Bool in
                    defer { value = value ?? signal }
                    return value == nil
                }
                guard first else { Foundation.exit(128 + signal) }
                let name = signal == SIGTERM ? "SIGTERM" : "SIGINT"
                ProcessLog.write(.notice, "\(name) received: committing what was read, then stopping (within \(Int(grace)) s)")
                StopRequest.process.request()
                DispatchQueue.global().asyncAfter(deadline: .now() + grace) {
                    ProcessLog.write(.error, "the grace period of \(Int(grace)) s is over: exiting without finishing; the next run recovers")
                    Foundation.exit(128 + signal)
                }
            }
            source.resume()
            sources.append(source)
        }
        defer { for source in sources { source.cancel() } }
        do {
            try await task.value
        } catch {
            if let signal = received.withLock({ $0 }) {
                ProcessLog.write(.error, "stopped by signal \(signal): \(error)")
                Foundation.exit(128 + signal)
            }
            throw error
        }
        if let signal = received.withLock({ $0 }) { Foundation.exit(128 + signal) }
    }
}

/// The parsed command, handed to the task that runs it (only that task touches it).
final class CommandBox: @unchecked Sendable {
    var command: any AsyncParsableCommand
    init(_ command: any AsyncParsableCommand) { self.command = command }
}

/// Exit codes scripts can rely on.
enum ExitCodes {
    static func code(for error: any Error) -> ExitCode {
        if let error = error as? IngestError {
            switch error.code {
            case .invalidConfiguration: return ExitCode(2)
            case .badRecord: return ExitCode(3)
            case .schemaDrift: return ExitCode(5)
            default: return ExitCode(1)
            }
        }
        if let error = error as? IcebergError, error.code == .commitConflict { return ExitCode(4) }
        if let error = error as? CheckpointError, error.code == .leaseHeld || error.code == .leaseLost { return ExitCode(6) }
        return ExitCode(1)
    }

    /// Prints the error on stderr and returns the exit code to throw.
    static func report(_ error: any Error) -> ExitCode {
        ProcessLog.write(.error, "error: \(error)")
        return code(for: error)
    }
}

/// The process's own lines on stderr (signals, the final error, fail points): `iceberg-ingest: <message>`, or
/// a JSON log line like every other when the command has `--log-format json`, so that a log collector parses
/// every line of the pod.
enum ProcessLog {
    static let json = Mutex(false)

    static func write(_ level: Logger.Level, _ message: String) {
        let line = json.withLock { $0 }
            ? JSONLogHandler.line(time: Date(), level: level, message: message, label: "iceberg-ingest", metadata: [:])
            : "iceberg-ingest: " + message
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
