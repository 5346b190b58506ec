import Foundation
import Logging

/// Expires old snapshots of a table and deletes the files only they referenced (Java's `expireSnapshots`).
///
/// A snapshot is kept when it is the head of a branch or a tag, or among the newest `retainLast`
/// ancestors of a branch, or not older than `olderThanMillis` (on a branch's history or not referenced
/// at all); every other snapshot is removed with one `remove-snapshots` commit. Then the manifest lists of
/// the removed snapshots, the manifests no kept snapshot lists, and the data files no kept snapshot holds
/// live are deleted. Defaults come from the table properties `history.expire.max-snapshot-age-ms` (5
/// days) and `history.expire.min-snapshots-to-keep` (1); a branch's own `min-snapshots-to-keep` and
/// `max-snapshot-age-ms` win over them.
///
/// ```swift
/// var expire = ExpireSnapshots(table: table, catalog: catalog)
/// expire.olderThanMillis = WallClock.nowMillis() - 7 * 86_400_000
/// expire.retainLast = 10
/// let preview = try await expire.run(dryRun: true)      // what would go
/// let result = try await expire.run()
/// print(result.expiredSnapshotIDs.count, result.deletedDataFiles.count)
/// ```
public struct ExpireSnapshots: Sendable {
    /// The table (reloaded from the catalog on a conflict).
    public var table: Table
    public let catalog: any Catalog
    /// Snapshots older than this (milliseconds since the epoch) may go; nil: now minus the table's
    /// `history.expire.max-snapshot-age-ms` (default 5 days).
    public var olderThanMillis: Int64?
    /// Ancestors of each branch kept whatever their age, the head included; nil: the table's
    /// `history.expire.min-snapshots-to-keep` (default 1).
    public var retainLast: Int?
    /// Whether to delete the files only expired snapshots referenced (false: only the metadata commit).
    public var deleteFiles = true
    public var clock: MillisecondClock
    public var logger: Logger
    /// Called with the table and the snapshots about to be removed, before the commit that removes them
    /// (again on each retry): a last look at their history, to keep what a caller still needs of it. An
    /// error stops the expiry.
    ///
    /// ```swift
    /// expire.beforeExpiring = { table, expiring in print("expiring", expiring.map(\.id), "of", table.identifier) }
    /// ```
    public var beforeExpiring: (@Sendable (_ table: Table, _ expiring: [Snapshot]) async throws -> Void)?
    /// Snapshots to keep whatever their age and place, given the table's metadata (asked again on each
    /// retry): history a caller still reads. Keep a whole run of ancestors from a branch head, not one
    /// snapshot in the middle: a walk back from the head stops at the first snapshot that is gone.
    ///
    /// ```swift
    /// expire.retaining = { metadata in Set(metadata.ancestors().prefix(3).map(\.id)) }
    /// ```
    public var retaining: (@Sendable (_ metadata: TableMetadata) -> Set<Int64>)?
    /// Which data files no kept snapshot references may be deleted (nil: all of them); the others stay
    /// where they are, and are not reported as deleted.
    ///
    /// ```swift
    /// expire.mayDelete = { location in location.hasPrefix(table.metadata.location + "/") }
    /// ```
    public var mayDelete: (@Sendable (_ location: String) -> Bool)?

    public init(
        table: Table, catalog: any Catalog, clock: @escaping MillisecondClock = WallClock.nowMillis,
        logger: Logger = Logger(label: "iceberg-core", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.table = table
        self.catalog = catalog
        self.clock = clock
        self.logger = logger
    }

    /// What an expiry removed (or, in a dry run, would remove).
    public struct Result: Sendable, Codable, Equatable {
        public var dryRun: Bool
        /// Snapshots removed from the metadata, oldest first.
        public var expiredSnapshotIDs: [Int64]
        /// Snapshots left.
        public var keptSnapshots: Int
        public var deletedManifestLists: [String]
        public var deletedManifests: [String]
        public var deletedDataFiles: [String]
        /// Files that could not be deleted (logged; they are garbage and an orphan cleanup finds them).
        public var failedDeletes: Int
    }

    /// Expires snapshots; with `dryRun` only reports what would be expired and deleted.
    public func run(dryRun: Bool = false) async throws -> Result {
        if dryRun { return try await plan(on: table).result(dryRun: true) }
        var planned: Plan?
        let committed = try await SnapshotProducer.retrying(table, catalog: catalog, clock: clock, what: "expire-snapshots", onRetry: nil) { base, _ in
            let plan = try await self.plan(on: base)
            planned = plan
            guard !plan.expired.isEmpty else { return base }
            try await self.beforeExpiring?(base, plan.expired)
            return try await catalog.commit(
                base.identifier,
                requirements: [.assertTableUUID(base.metadata.tableUUID), .assertRefSnapshotID(ref: SnapshotRef.mainBranch, snapshotID: base.metadata.currentSnapshotID)],
                updates: [.removeSnapshots(plan.expired.map(\.id))])
        }
        guard var plan = planned else { throw IcebergError(.invalidArgument, "expire-snapshots of \(table.identifier): nothing planned") }
        plan.keptCount = committed.metadata.snapshots.count
        var result = plan.result(dryRun: false)
        guard deleteFiles, !plan.expired.isEmpty else {
            if !deleteFiles { (result.deletedManifestLists, result.deletedManifests, result.deletedDataFiles) = ([], [], []) }
            return result
        }
        let logger = self.logger
        let all = plan.dataFiles + plan.manifests + plan.manifestLists
        let deleted = await ReachableFiles.delete(all, io: committed.io) { location, error in
            logger.warning("expire-snapshots: cannot delete \(location): \(error)")
        }
        result.failedDeletes = all.count - deleted
        logger.info("expired \(plan.expired.count) snapshots of \(table.identifier); deleted \(deleted) files")
        return result
    }

    struct Plan {
        var expired: [Snapshot]
        var keptCount: Int
        var manifestLists: [String]
        var manifests: [String]
        var dataFiles: [String]

        func result(dryRun: Bool) -> Result {
            Result(
                dryRun: dryRun, expiredSnapshotIDs: expired.map(\.id), keptSnapshots: keptCount, deletedManifestLists: manifestLists,
                deletedManifests: manifests, deletedDataFiles: dataFiles, failedDeletes: 0)
        }
    }

    /// The snapshots to keep on `base`, and what would go.
    func plan(on base: Table) async throws -> Plan {
        let metadata = base.metadata
        let now = clock()
        let cutoff = olderThanMillis ?? now - Int64(metadata.intProperty("history.expire.max-snapshot-age-ms", default: 432_000_000))
        let minToKeep = retainLast ?? metadata.intProperty("history.expire.min-snapshots-to-keep", default: 1)
        var keep: Set<Int64> = []
        var onBranches: Set<Int64> = []
        var refs = metadata.refs
        if refs[SnapshotRef.mainBranch] == nil, let current = metadata.currentSnapshotID {
            refs[SnapshotRef.mainBranch] = SnapshotRef(snapshotID: current, kind: .branch)
        }
        for (_, ref) in refs {
            keep.insert(ref.snapshotID)
            guard ref.kind == .branch else { continue }
            let branchMin = retainLast ?? ref.minSnapshotsToKeep ?? minToKeep
            let branchCutoff = olderThanMillis ?? ref.maxSnapshotAgeMillis.map { now - $0 } ?? cutoff
            var retained = 0
            for ancestor in metadata.ancestors(of: ref.snapshotID) {
                if retained < branchMin || ancestor.timestampMillis >= branchCutoff {
                    keep.insert(ancestor.id)
                    retained += 1
                } else {
                    break
                }
            }
            for ancestor in metadata.ancestors(of: ref.snapshotID) { onBranches.insert(ancestor.id) }
        }
        // Snapshots on no branch's history go by age alone.
        for snapshot in metadata.snapshots where !onBranches.contains(snapshot.id) && snapshot.timestampMillis >= cutoff {
            keep.insert(snapshot.id)
        }
        if let retaining { keep.formUnion(retaining(metadata)) }
        let expired = metadata.snapshots.filter { !keep.contains($0.id) }.sorted { ($0.sequenceNumber, $0.timestampMillis) < ($1.sequenceNumber, $1.timestampMillis) }
        guard !expired.isEmpty else { return Plan(expired: [], keptCount: metadata.snapshots.count, manifestLists: [], manifests: [], dataFiles: []) }

        let kept = try await ReachableFiles.of(metadata.snapshots.filter { keep.contains($0.id) }, table: base)
        let gone = try await ReachableFiles.of(expired, table: base, readEntries: false)
        let manifests = gone.manifests.keys.filter { kept.manifests[$0] == nil }.sorted()
        // Data files live in a manifest that goes, and live in no kept manifest.
        var dataFiles: Set<String> = []
        for location in manifests {
            guard let manifest = gone.manifests[location] else { continue }
            for entry in try await base.manifestEntries(of: manifest) where entry.status != .deleted {
                let path = entry.dataFile.filePath
                if !kept.liveFiles.contains(path), mayDelete?(path) ?? true { dataFiles.insert(path) }
            }
        }
        return Plan(
            expired: expired, keptCount: metadata.snapshots.count - expired.count,
            manifestLists: gone.manifestLists.subtracting(kept.manifestLists).sorted(), manifests: manifests, dataFiles: dataFiles.sorted())
    }
}
