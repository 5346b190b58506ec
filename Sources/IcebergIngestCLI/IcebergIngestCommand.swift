import ArgumentParser
import Foundation
import IcebergCore
import IcebergIngest
import Logging

/// `iceberg-ingest`: the example executable over the IcebergIngest library.
@main
struct IcebergIngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iceberg-ingest",
        abstract: "Ingest files landing in S3 or a local folder into Apache Iceberg tables, exactly once.",
        discussion: """
            Exit codes: 0 success; 1 failure (I/O, catalog, input); 2 invalid configuration; 3 a bad record under \
            the 'fail' policy; 4 a commit that kept conflicting; 5 a field the table lacks under the drift policy 'fail'. A run that fails keeps what it committed before \
            the failure; running again continues from there without reading anything twice.
            """,
        version: IcebergIngestVersion.current,
        subcommands: [Run.self, Plan.self, Status.self, Evolve.self, ExpireSnapshotsCommand.self, RemoveOrphansCommand.self, CompactCommand.self, Demo.self],
        defaultSubcommand: Demo.self)

    /// ArgumentParser's entry point, after installing the crash tests' fail-point handler: a process whose
    /// `ICEBERG_INGEST_FAIL_POINT` names a point stops dead there, as a crash would.
    static func main() async {
        FailPoint.install { name in
            FileHandle.standardError.write(Data("iceberg-ingest: fail point '\(name)' reached, exiting\n".utf8))
            Foundation.exit(FailPoint.exitCode)
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
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
        return ExitCode(1)
    }

    /// Prints the error on stderr and returns the exit code to throw.
    static func report(_ error: any Error) -> ExitCode {
        FileHandle.standardError.write(Data("iceberg-ingest: error: \(error)\n".utf8))
        return code(for: error)
    }
}
