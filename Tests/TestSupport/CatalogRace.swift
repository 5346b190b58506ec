import Foundation
import IcebergCore

/// Racing committers against one table: each has its own catalog instance and appends one file per round,
/// retrying on conflict. Afterwards the history must be one line holding every commit exactly once.
public enum CatalogRace {
    public struct Outcome: Sendable {
        /// Snapshot ids each commit returned, in no particular order.
        public var committed: [Int64]
        /// Conflicts retried, in all.
        public var retries: Int
        /// The table at the end.
        public var table: Table
        /// What is wrong with the history (empty when nothing is).
        public var problems: [String]
        public var seconds: Double
    }

    /// What each commit does.
    public enum Kind: Sendable {
        /// A FastAppend of one (made-up) data file: a snapshot per commit.
        case appends
        /// A property `race.c<i>.r<r>` set (cheap: no manifests); every commit is one metadata version.
        case properties
    }

    /// Creates `table` (unpartitioned, one long column) through `makeCatalog()` and races `committers` ×
    /// `rounds` commits against it.
    public static func run(
        table identifier: TableIdentifier, committers: Int, rounds: Int, kind: Kind = .appends,
        makeCatalog: @escaping @Sendable () throws -> any Catalog
    ) async throws -> Outcome {
        let setup = try makeCatalog()
        if !(try await setup.listNamespaces()).contains(identifier.namespace) { try await setup.createNamespace(identifier.namespace) }
        let schema = Schema(id: 0, fields: [.required(1, "id", .primitive(.long))])
        // Many retries with short waits: every committer conflicts with the others on nearly every round.
        _ = try await setup.createTable(
            identifier, schema: schema,
            properties: ["commit.retry.num-retries": "10000", "commit.retry.min-wait-ms": "1", "commit.retry.max-wait-ms": "40",
                         "commit.retry.total-timeout-ms": "600000"])
        let started = ContinuousClock.now
        let retries = LockedCount()
        let committed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for c in 0..<committers {
                group.addTask {
                    let catalog = try makeCatalog()
                    var ids: [Int64] = []
                    for r in 0..<rounds {
                        let table = try await catalog.loadTable(identifier)
                        if kind == .properties {
                            // Retry until this property lands; each attempt rests on the version it read.
                            var base = table
                            while true {
                                do {
                                    let after = try await catalog.commit(
                                        identifier, requirements: [.assertTableUUID(base.metadata.tableUUID), .assertRefSnapshotID(ref: SnapshotRef.mainBranch, snapshotID: nil)],
                                        updates: [.setProperties(["race.c\(c).r\(r)": "1"])])
                                    ids.append(Int64(after.metadata.properties.count))
                                    break
                                } catch let error as IcebergError where error.code == .commitConflict {
                                    retries.add()
                                    try await Task.sleep(nanoseconds: UInt64.random(in: 1_000_000...20_000_000))
                                    base = try await catalog.loadTable(identifier)
                                }
                            }
                            continue
                        }
                        var append = FastAppend(table: table, catalog: catalog)
                        append.add(DataFile(
                            filePath: "\(table.metadata.location)/data/c\(c)-r\(r).parquet", partition: [], recordCount: 1, fileSizeInBytes: 100))
                        append.summaryProperties["race.commit"] = "\(c)/\(r)"
                        append.onRetry = { _, _ in retries.add() }
                        let after = try await append.commit()
                        ids.append(after.metadata.currentSnapshot!.id)
                    }
                    return ids
                }
            }
            var all: [Int64] = []
            for try await ids in group { all += ids }
            return all
        }
        let elapsed = ContinuousClock.now - started
        let table = try await setup.loadTable(identifier)
        var problems: [String] = []
        let total = committers * rounds
        if kind == .properties {
            let keys = Set(table.metadata.properties.keys.filter { $0.hasPrefix("race.") })
            let expected = Set((0..<committers).flatMap { c in (0..<rounds).map { "race.c\(c).r\($0)" } })
            if keys != expected { problems.append("\(expected.subtracting(keys).count) commits lost") }
            // One version per commit: a lost or forked commit would leave fewer versions in the log.
            if table.metadata.metadataLog.count + 1 < min(total + 1, 100) { problems.append("metadata log has \(table.metadata.metadataLog.count) entries") }
            return Outcome(committed: committed, retries: retries.value, table: table, problems: problems, seconds: seconds(ContinuousClock.now - started))
        }
        let chain = table.metadata.ancestors().map(\.id)
        if chain.count != total { problems.append("the current snapshot has \(chain.count) ancestors, expected \(total)") }
        if Set(chain) != Set(committed) { problems.append("the history and the commits that succeeded differ: \(Set(committed).subtracting(chain).count) commits lost") }
        if table.metadata.snapshots.count != total { problems.append("\(table.metadata.snapshots.count) snapshots in the metadata, expected \(total)") }
        if table.metadata.currentSnapshot?.summary["total-data-files"] != String(total) {
            problems.append("total-data-files is \(table.metadata.currentSnapshot?.summary["total-data-files"] ?? "none")")
        }
        let live = Set(try await table.liveDataFiles().map(\.filePath))
        let expected = Set((0..<committers).flatMap { c in (0..<rounds).map { "\(table.metadata.location)/data/c\(c)-r\($0).parquet" } })
        if live != expected { problems.append("live files differ: \(expected.subtracting(live).count) missing, \(live.subtracting(expected).count) unexpected") }
        if table.metadata.lastSequenceNumber != Int64(total) { problems.append("last sequence number \(table.metadata.lastSequenceNumber)") }
        return Outcome(committed: committed, retries: retries.value, table: table, problems: problems, seconds: seconds(elapsed))
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
}

/// A counter shared by tasks.
final class LockedCount: @unchecked Sendable {
    // Safe: `count` is only touched under the lock.
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
