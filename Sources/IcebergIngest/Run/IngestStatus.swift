import Checkpoint
import Foundation
import IcebergCore
import S3Reader

/// Where ingestion of one source shard stands: the table's last snapshot, the checkpoint it commits to,
/// the watermark and how far it lags behind now.
public struct IngestStatus: Sendable, Codable, Equatable {
    public var table: String
    public var tableLocation: String
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
    /// The last snapshot that advanced this shard's checkpoint.
    public var lastIngestSnapshotID: Int64?

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
        let table = try await catalog.loadTable(configuration.table)
        let metadata = table.metadata
        let committed = committedCheckpoint(table)
        var checkpoint: SourceCheckpoint?
        if let committed, committed.version > 0 {
            checkpoint = try await checkpointStore(for: table).load(version: committed.version)
        }
        let current = metadata.currentSnapshot
        let lastIngest = metadata.ancestors().first { snapshot in
            CheckpointCommit.latest(in: [snapshot.summary], source: source.identity, shard: configuration.shard) != nil
        }
        let watermark = checkpoint?.watermarkHour
        return IngestStatus(
            table: configuration.table.description, tableLocation: metadata.location, source: source.identity,
            shard: configuration.shard.description, currentSnapshotID: current?.id, currentSnapshotMillis: current?.timestampMillis,
            snapshots: metadata.snapshots.count, totalRecords: Int64(current?.summary["total-records"] ?? "") ?? 0,
            totalDataFiles: Int64(current?.summary["total-data-files"] ?? "") ?? 0, checkpointVersion: committed?.version ?? 0,
            watermarkHour: watermark, watermark: watermark.map(IngestStatus.hourText), trackedObjects: checkpoint?.trackedObjectCount ?? 0,
            firstOpenHour: checkpoint?.firstOpenHour, lagHours: watermark.map { PrefixLayout.hour(of: now) - $0 },
            lastIngestSnapshotID: lastIngest?.id)
    }
}
