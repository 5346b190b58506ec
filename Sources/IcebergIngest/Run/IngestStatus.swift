import Checkpoint
import Foundation
import IcebergCore
import S3Reader

/// Where ingestion of one source shard stands: the table's last snapshot, the checkpoint it commits to,
/// the watermark, what is waiting in the open window (a listing, no reads), how far the table lags behind the
/// source, and who holds the shard's lease.
public struct IngestStatus: Sendable, Codable, Equatable {
    public var table: String
    public var tableLocation: String
    /// The table's current metadata file (what a reader such as `iceberg_scan` or `StaticTable` opens).
    public var metadataLocation: String
    public var source: String
    public var shard: String
    /// The table's current snapshot, when it has one.
    public var currentSnapshotID: Int64?
    /// When that snapshot was committed (milliseconds since the epoch).
    public var currentSnapshotMillis: Int64?
    public var snapshots: Int
    public var totalRecords: Int64
    public var totalDataFiles: Int64
    /// The checkpoint version the table records for this source and shard (0: nothing ingested yet).
    public var checkpointVersion: Int64
    /// The newest closed hour, as hours since the epoch and as ISO-8601 text (`2026-11-24T10:00:00Z`).
    public var watermarkHour: Int32?
    public var watermark: String?
    /// Objects tracked in the open window (hours after watermark - window).
    public var trackedObjects: Int
    /// The first hour the next run lists.
    public var firstOpenHour: Int32?
    /// Whole hours between the watermark and now (nil before the first watermark).
    public var lagHours: Int32?
    /// Objects a run would read now, and their bytes (the same classification as `plan` and `run`).
    public var pendingObjects: Int
    public var pendingBytes: Int64
    /// The newest LastModified among the objects ingested in the open window, and among all listed ones
    /// (milliseconds since the epoch; nil when there are none).
    public var newestIngestedMillis: Int64?
    public var newestListedMillis: Int64?
    /// How far the table is behind the source: the newest pending object's LastModified minus the newest
    /// ingested one's, in seconds (0 when nothing is pending).
    public var lagSeconds: Double
    /// When the last reconciliation of closed hours ran (milliseconds since the epoch), and the late files it found.
    public var lastReconciledMillis: Int64?
    public var lateFilesAtLastReconciliation: Int?
    /// Who holds this shard's lease now (`host pid N (owner …, since …, expires in … s)`), nil when nobody.
    public var leaseHolder: String?
    /// The last snapshot that advanced this shard's checkpoint.
    public var lastIngestSnapshotID: Int64?
    /// Closed hours up to this one (ISO-8601) were folded by an older release that kept no archive:
    /// reconciliation leaves them alone and a backfill refuses them. Nil when every folded hour is archived.
    public var unarchivedThrough: String?

    /// The status as one line of JSON.
    public var jsonLine: String {
        JSONLine.encode(self)
    }

    /// An hour (hours since the epoch) as ISO-8601 UTC: `2026-11-24T10:00:00Z`.
    static func hourText(_ hour: Int32) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(hour) * 3600))
    }
}

extension Ingestor {
    /// The status of this source shard in the table (reads the table metadata and one checkpoint file).
    public func status(now: Date = Date()) async throws -> IngestStatus {
        guard shardResolved else { return try await resolvingShard(readOnly: true).status(now: now) }
        let table = try await catalog.loadTable(configuration.table)
        let metadata = table.metadata
        let committed = committedCheckpoint(table)
        let checkpoint = try await openCheckpoint(table)
        let plan = try await classify(checkpoint: checkpoint, now: now)
        let newestIngested = checkpoint.newestIngestedMillis
        let listed = plan.toRead + plan.changed
        let newestListed = max(newestIngested ?? Int64.min, listed.map(\.lastModifiedMillis).max() ?? Int64.min)
        let lease = leaseStore(for: table)
        let holder = try await lease.current().flatMap { lease.isLive($0.record) ? $0.record.describe(nowMillis: lease.clock()) : nil }
        let current = metadata.currentSnapshot
        let lastIngest = metadata.ancestors().first { snapshot in
            CheckpointCommit.latest(in: [snapshot.summary], source: source.identity, shard: configuration.shard) != nil
        }
        let watermark = checkpoint.watermarkHour
        let reconciliation = try await lastReconciliation(table)
        return IngestStatus(
            table: configuration.table.description, tableLocation: metadata.location, metadataLocation: table.metadataLocation, source: source.identity,
            shard: configuration.shard.description, currentSnapshotID: current?.id, currentSnapshotMillis: current?.timestampMillis,
            snapshots: metadata.snapshots.count, totalRecords: Int64(current?.summary["total-records"] ?? "") ?? 0,
            totalDataFiles: Int64(current?.summary["total-data-files"] ?? "") ?? 0, checkpointVersion: committed?.version ?? 0,
            watermarkHour: watermark, watermark: watermark.map(IngestStatus.hourText), trackedObjects: checkpoint.trackedObjectCount,
            firstOpenHour: checkpoint.firstOpenHour, lagHours: watermark.map { PrefixLayout.hour(of: now) - $0 },
            pendingObjects: plan.toRead.count, pendingBytes: plan.toRead.reduce(0) { $0 + $1.size },
            newestIngestedMillis: newestIngested, newestListedMillis: newestListed == Int64.min ? nil : newestListed,
            lagSeconds: IngestMetrics.lagSeconds(pending: plan.toRead, newestIngestedMillis: newestIngested),
            lastReconciledMillis: reconciliation?.atMillis, lateFilesAtLastReconciliation: reconciliation?.lateFiles, leaseHolder: holder,
            lastIngestSnapshotID: lastIngest?.id, unarchivedThrough: checkpoint.unarchivedThroughHour.map(IngestStatus.hourText))
    }
}
