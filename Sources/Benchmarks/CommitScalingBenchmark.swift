import ArgumentParser
import Foundation
import IcebergCore
import IcebergIngest
import Synchronization

/// `iceberg-bench commit-scaling`: N concurrent committers (the N shards of a source) appending to one table,
/// each commit one small data file, on the SQLite and the object-store catalog (local warehouse). Reports
/// commits per second, conflict retries per commit, the most retries any one commit needed, and commits that
/// gave up, with Iceberg's default retry settings and with the ingestion's (``IngestConfiguration/commitRetryDefaults``:
/// a conflict only rebuilds the manifest list on the new table, and backoff with jitter within a time budget
/// keeps every committer moving).
struct CommitScalingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit-scaling", abstract: "Commits per second and conflict retries with 1, 2, 4 and 8 concurrent committers on one table.")

    @Option(help: "Commits per committer.") var commits = 25
    @Option(help: "Committer counts, comma-separated.") var committers = "1,2,4,8"

    struct Outcome {
        var seconds: Double
        var commits: Int
        var retries: Int
        var maxRetries: Int
        var failed: Int
    }

    func run() async throws {
        let counts = committers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        print("commit-scaling: \(commits) commits per committer, one 1-row data file each; local warehouse")
        print("  catalog       retry policy        committers  commits/s  retries/commit  max retries  gave up")
        for kind in ["sqlite", "object-store"] {
            for policy in ["iceberg", "ingest"] {
                for count in counts {
                    let outcome = try await measure(kind: kind, policy: policy, committers: count)
                    let name = policy == "ingest" ? "ingestion (30)" : "Iceberg's (4)"
                    print(
                        "  " + kind.padding(toLength: 12, withPad: " ", startingAt: 0) + "  " + name.padding(toLength: 18, withPad: " ", startingAt: 0)
                            + String(
                                format: "  %10d  %9.1f  %14.2f  %11d  %7d", count, Double(outcome.commits) / outcome.seconds,
                                Double(outcome.retries) / Double(max(1, outcome.commits)), outcome.maxRetries, outcome.failed))
                }
            }
        }
    }

    func measure(kind: String, policy: String, committers count: Int) async throws -> Outcome {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-commits-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let catalog: any Catalog =
            kind == "sqlite"
            ? try SQLiteCatalog(name: "bench", path: dir + "/catalog.db", warehouse: dir + "/wh")
            : ObjectStoreCatalog(warehouse: dir + "/wh", io: LocalFileIO())
        try await catalog.createNamespace(["db"])
        let identifier = try TableIdentifier(parsing: "db.commits")
        let schema = Schema(id: 0, fields: [.required(1, "id", .primitive(.long))])
        // The retry settings the ingestion's tables get (IngestConfiguration.commitRetryProperties).
        _ = try await catalog.createTable(
            identifier, schema: schema, spec: .unpartitioned, sortOrder: .unsorted, properties: [:], location: nil)
        let tally = Tally()
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for committer in 0..<count {
                group.addTask {
                    for n in 0..<commits {
                        let attempts = Tally()
                        var append = FastAppend(table: try await catalog.loadTable(identifier), catalog: catalog)
                        append.add(DataFile(filePath: "\(dir)/wh/data/c\(committer)-\(n).parquet", recordCount: 1, fileSizeInBytes: 400))
                        if policy == "ingest" { append.retryDefaults = IngestConfiguration.commitRetryDefaults }
                        append.onRetry = { number, _ in attempts.state.withLock { $0.retries = number } }
                        do {
                            _ = try await append.commit()
                        } catch let error as IcebergError where error.code == .commitConflict {
                            tally.state.withLock { $0.failed += 1 }
                        }
                        let used = attempts.state.withLock { $0.retries }
                        tally.state.withLock { $0 = ($0.retries + used, max($0.maxRetries, used), $0.failed) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
        let table = try await catalog.loadTable(identifier)
        let landed = Int(table.metadata.currentSnapshot?.summary["total-data-files"] ?? "") ?? 0
        let totals = tally.state.withLock { $0 }
        guard landed == count * commits - totals.failed else {
            throw ValidationError("\(landed) data files in the table after \(count * commits) commits, \(totals.failed) of them failed")
        }
        return Outcome(seconds: seconds, commits: landed, retries: totals.retries, maxRetries: totals.maxRetries, failed: totals.failed)
    }

    /// Counts shared by the committers' tasks.
    final class Tally: Sendable {
        let state = Mutex<(retries: Int, maxRetries: Int, failed: Int)>((0, 0, 0))
    }
}
