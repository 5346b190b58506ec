import Foundation
import IcebergCore

/// What ``Ingestor/upkeep(_:now:)`` does: which steps, and their settings.
public struct UpkeepOptions: Sendable {
    /// Expire snapshots older than this many milliseconds; nil: the table's
    /// `history.expire.max-snapshot-age-ms` (default 5 days).
    public var expireOlderThanMillis: Int64?
    /// Keep at least this many snapshots of each branch; nil: `history.expire.min-snapshots-to-keep` (1).
    public var retainLast: Int?
    /// Orphan files must be older than this (default 3 days); nil skips the orphan cleanup. At least
    /// ``RemoveOrphanFiles/minimumGraceWhileRunning`` (15 minutes) unless it is a dry run: a younger file may
    /// be another shard's commit in progress.
    public var orphanGraceMillis: Int64? = RemoveOrphanFiles.defaultGraceMillis
    /// Whether to bin-pack small files first.
    public var compact = true
    /// Compaction's target file size; nil: the table's `write.target-file-size-bytes`, else 128 MiB.
    public var targetFileSizeBytes: Int?
    /// Only report what would be done.
    public var dryRun = false

    public init() {}
}

/// What an upkeep pass did (or would do).
public struct UpkeepSummary: Sendable, Codable, Equatable {
    public var table: String
    public var compaction: Compaction.Result?
    public var expiry: ExpireSnapshots.Result
    public var orphans: RemoveOrphanFiles.Result?
    public var totalSeconds: Double

    public var jsonLine: String { JSONLine.encode(self) }
}

extension Ingestor {
    /// Table upkeep between ingest passes: compacts small files (a `replace` commit), expires old snapshots
    /// and deletes the files only they held, then removes orphan files (the ingestion's checkpoints are
    /// left alone). Each step commits or deletes on its own; a dry run changes nothing. An orphan grace under
    /// 15 minutes is refused (``IngestError`` `invalid-configuration`) unless it is a dry run.
    ///
    /// ```swift
    /// var options = UpkeepOptions()
    /// options.expireOlderThanMillis = 7 * 86_400_000
    /// options.retainLast = 10
    /// let summary = try await ingestor.upkeep(options)
    /// print(summary.compaction?.inputFiles.count ?? 0, summary.expiry.expiredSnapshotIDs.count)
    /// ```
    public func upkeep(_ options: UpkeepOptions = UpkeepOptions(), now: Date = Date()) async throws -> UpkeepSummary {
        if let grace = options.orphanGraceMillis, grace < RemoveOrphanFiles.minimumGraceWhileRunning, !options.dryRun {
            throw IngestError(
                .invalidConfiguration,
                "upkeep's orphan grace is \(grace) ms: it must be at least \(RemoveOrphanFiles.minimumGraceWhileRunning / 60_000) minutes, as a younger file may be a commit in progress")
        }
        let started = ContinuousClock.now
        let nowMillis = Int64(now.timeIntervalSince1970 * 1000)
        var table = try await loadOrCreateTable()
        var compacted: Compaction.Result?
        if options.compact {
            var compaction = Compaction(table: table, catalog: catalog, logger: logger)
            compaction.targetFileSizeBytes = options.targetFileSizeBytes ?? configuration.tableProperties["write.target-file-size-bytes"].flatMap { Int($0) }
            compaction.zstdLevel = configuration.zstdLevel
            compacted = try await compaction.run(dryRun: options.dryRun)
            if compacted?.snapshotID != nil { table = try await catalog.loadTable(table.identifier) }
        }
        var expire = ExpireSnapshots(table: table, catalog: catalog, clock: { nowMillis }, logger: logger)
        expire.keepingRewriteHistory()
        expire.keepingCheckpointRecords()
        expire.sparingFilesOutsideTable()
        expire.olderThanMillis = options.expireOlderThanMillis.map { nowMillis - $0 }
        expire.retainLast = options.retainLast
        let expired = try await expire.run(dryRun: options.dryRun)
        var orphans: RemoveOrphanFiles.Result?
        if let grace = options.orphanGraceMillis {
            if !expired.expiredSnapshotIDs.isEmpty, !options.dryRun { table = try await catalog.loadTable(table.identifier) }
            var cleanup = RemoveOrphanFiles(table: table, clock: { nowMillis }, logger: logger)
            cleanup.olderThanMillis = nowMillis - grace
            orphans = try await cleanup.run(dryRun: options.dryRun)
        }
        return UpkeepSummary(
            table: table.identifier.description, compaction: compacted, expiry: expired, orphans: orphans,
            totalSeconds: (ContinuousClock.now - started).seconds)
    }
}
