import Codecs
import IcebergCore

/// Checkpoint files of one source shard, kept beside the table under its metadata location, and the
/// protocol that makes ingestion exactly once.
///
/// ## The protocol
/// Each run of a shard moves through these states; `V` is the version the table's history records
/// (``CheckpointCommit/latest(in:source:shard:)``), starting at 0.
///
/// ```
///            load V (the table decides)               write data files to the local spool
///  [start] ----------------------------> [loaded V] -------------------------------------> [spooled]
///     ^        discard versions > V,                                                           |
///     |        delete their pending data files                save V+1 (write-if-absent; names the
///     |                                                         run's data files as pending)
///     |                                                                                        v
///  [committed V+1] <-- catalog swap: snapshot --- [uploaded, manifests written] <-- upload --- [checkpoint V+1 saved]
///                      summary records V+1             (the manifests while the
///                      (on conflict: rebuild on the     last uploads run)
///                      new base and retry; the saved V+1 stays valid)
/// ```
///
/// The data files' names are fixed before their last row groups are encoded, so saving V+1 may overlap
/// that encoding; every upload comes after the save. The manifests need the files' metrics, not their
/// uploads, so they may be written while the last uploads run; the swap comes after every upload. Loading also deletes versions older than V-2 (the two
/// before V are kept for inspection), and so does each commit but a run's last.
///
/// A crash anywhere leaves a consistent state:
/// - before the save: nothing left behind but the local spool;
/// - after the save, before the swap (during or after the upload, after the manifests): the table still
///   records `V`; on start ``recover(committed:lateArrivalHours:tableSnapshots:unsettled:withoutRecord:)`` finds `V+1` ahead of the table, discards
///   it and returns its pending data files (uploaded or not) as orphans to delete;
/// - after the swap: the table records `V+1`, which exists: nothing is read twice.
///
/// A swap whose answer was lost, or that was in flight when its run died, may land after the run ended: the
/// run records a lost answer beside `V+1` (``markUnsettled(_:)``), a dead run leaves the commit's manifest
/// list, and recovery discards `V+1` only once the attempt can no longer land.
///
/// Files: `<table>/metadata/ingest-checkpoints/<source slug>/shard-<i>-of-<n>/<20-digit version>.ckpt`, and
/// beside them `lineage/` with each version's ``CommitLineage`` (saved with the version, kept after it).
public struct CheckpointStore: Sendable {
    public let io: any FileIO
    /// The table's location (its metadata lives under `<location>/metadata/`).
    public let tableLocation: String
    public let source: String
    public let shard: ShardID

    public init(io: any FileIO, tableLocation: String, source: String, shard: ShardID) {
        self.io = io
        self.tableLocation = tableLocation.hasSuffix("/") ? String(tableLocation.dropLast()) : tableLocation
        self.source = source
        self.shard = shard
    }

    /// The folder holding every shard's folder of this source (and the source's shard layouts, `layouts/`).
    public var sourceDirectory: String {
        "\(tableLocation)/metadata/ingest-checkpoints/\(Self.slug(source))/"
    }

    /// The folder holding this shard's checkpoint versions.
    public var directory: String {
        "\(tableLocation)/metadata/ingest-checkpoints/\(Self.slug(source))/\(shard)/"
    }

    /// A version as its files name it: 20 digits.
    static func versionName(_ version: Int64) -> String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// Where version `version` is stored.
    public func location(of version: Int64) -> String {
        directory + Self.versionName(version) + ".ckpt"
    }

    /// The version a listed file stores (the inverse of ``location(of:)``); nil for any other file.
    func version(at location: String) -> Int64? {
        guard location.hasSuffix(".ckpt") else { return nil }
        return Int64(location.dropFirst(directory.count).dropLast(5))
    }

    /// A file-name-safe, collision-resistant name for a source: its letters and digits (at most 40) and a hash.
    static func slug(_ source: String) -> String {
        let h = FNV1a64.hash(source)
        let readable = String(source.map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(40))
        let hex = String(h, radix: 16)
        return readable + "-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Reads version `version`.
    public func load(version: Int64) async throws -> SourceCheckpoint {
        let location = location(of: version)
        let bytes: [UInt8]
        do {
            bytes = try await io.read(location)
        } catch let error as IcebergError where error.code == .notFound {
            throw CheckpointError(.missing, "checkpoint \(location) named by the table does not exist", cause: error)
        } catch {
            throw CheckpointError(.io, "cannot read checkpoint \(location)", cause: error)
        }
        let checkpoint = try CheckpointCodec.decode(bytes, location: location)
        guard checkpoint.source == source, checkpoint.shard == shard, checkpoint.version == version else {
            throw CheckpointError(
                .corrupt,
                "checkpoint \(location) belongs to \(checkpoint.source) \(checkpoint.shard) v\(checkpoint.version)")
        }
        return checkpoint
    }

    /// Writes `checkpoint` as its version, only if that version does not exist yet; returns its location.
    /// Throws `.versionTaken` when another writer saved the same version first.
    @discardableResult
    public func save(_ checkpoint: SourceCheckpoint) async throws -> String {
        precondition(checkpoint.source == source && checkpoint.shard == shard, "checkpoint of another source")
        let location = location(of: checkpoint.version)
        let bytes = try CheckpointCodec.encode(checkpoint)
        do {
            try await io.writeIfAbsent(location, bytes: bytes)
        } catch let error as IcebergError where error.code == .alreadyExists {
            throw CheckpointError(
                .versionTaken, "checkpoint \(location) already exists: another worker runs the same shard?", cause: error)
        } catch {
            throw CheckpointError(.io, "cannot write checkpoint \(location)", cause: error)
        }
        return location
    }

    /// What ``recover(committed:lateArrivalHours:tableSnapshots:unsettled:withoutRecord:)`` found.
    public struct Recovery: Sendable {
        /// The checkpoint to continue from: the committed version, or an empty one.
        public var checkpoint: SourceCheckpoint
        /// Versions found ahead of the table, now deleted.
        public var discardedVersions: [Int64]
        /// Data files written by the discarded versions' runs: referenced by no snapshot, safe to delete.
        public var orphanDataFiles: [String]
        /// The snapshot ids the discarded versions' runs were about to commit: their manifests and manifest
        /// lists (named with the id) are referenced by nothing either.
        public var orphanSnapshotIDs: [Int64] = []
        /// Discarded versions' snapshots that the table holds off its branch (a rollback took them off):
        /// their files are the table's, left for snapshot expiry, and are in neither list above.
        public var keptSnapshotIDs: [Int64] = []
        /// An unsettled commit (``UnsettledCommit``) is in the table now: nothing was discarded, and the
        /// caller recovers again from the table as it stands.
        public var landedLate = false
    }

    /// Makes the stored checkpoints agree with the table: loads the version the table committed (or starts
    /// empty) and discards every version ahead of it, returning their data files as orphans. Versions older
    /// than the ones ``deleteVersions(before:keep:)`` keeps are deleted from the same listing, so the last
    /// commit of a run can leave its trim to the next run.
    ///
    /// With no committed record, `withoutRecord` first hears of the versions found (when there are any), and
    /// may throw to stop before anything is discarded: versions that show a commit mean the record was lost,
    /// not that nothing was committed.
    ///
    /// A version ahead of the table whose commit may still land is unsettled: its run ended with the
    /// commit's outcome unknown (``markUnsettled(_:)``), or died after writing the commit's manifest list
    /// (the swap may have been in flight). `unsettled` hears of those next, and returns true when one of them
    /// is in the table now (the recovery then discards nothing and says ``Recovery/landedLate``), false once
    /// none can land any more. Without `unsettled` they are discarded like a crashed run's. Records of
    /// versions that are not ahead of the table are deleted.
    ///
    /// `tableSnapshots` are the ids of every snapshot the table's metadata holds, on its branch or not. A
    /// version ahead of the branch whose snapshot is among them landed and was rolled back: it is not
    /// unsettled (no attempt can land the same snapshot id again), it is discarded (the branch does not have
    /// its rows), and its files stay, as the snapshot still names them (time travel reads them, and an engine
    /// expiring the snapshot reads its manifests).
    public func recover(
        committed: CheckpointCommit?, lateArrivalHours: Int32, tableSnapshots: Set<Int64> = [],
        unsettled: (@Sendable (_ commits: [UnsettledCommit]) async throws -> Bool)? = nil,
        withoutRecord: (@Sendable (_ versions: [Int64]) async throws -> Void)? = nil
    ) async throws -> Recovery {
        let committedVersion = committed?.version ?? 0
        var checkpoint =
            if let committed, committed.version > 0 {
                try await load(version: committed.version)
            } else {
                SourceCheckpoint(source: source, shard: shard, lateArrivalHours: lateArrivalHours)
            }
        checkpoint.lateArrivalHours = lateArrivalHours
        checkpoint.pendingDataFiles = []
        checkpoint.pendingSnapshotID = nil
        var discarded: [Int64] = [], orphans: [String] = [], snapshots: [Int64] = [], kept: [Int64] = []
        // Only the version files are listed (their 20-digit names start with 0): the lineage and archive
        // folders grow with the history, and a normal pass must not list them.
        let files = try await io.list(prefix: directory + "0")
        if committed == nil, let withoutRecord {
            let versions = versions(in: files)
            if !versions.isEmpty { try await withoutRecord(versions) }
        }
        // The versions ahead of the table, read once (a crashed run's; a version that does not decode still
        // goes, with nothing known to delete).
        var ahead: [Int64: SourceCheckpoint?] = [:]
        for file in files {
            guard let version = self.version(at: file.location), version > committedVersion else { continue }
            ahead[version] = try? CheckpointCodec.decode(try await io.read(file.location), location: file.location)
        }
        var unsettledRecords: [Int64: FileInfo] = [:]
        for file in files {
            guard let version = unsettledVersion(at: file.location) else { continue }
            if ahead[version] == nil {
                try? await io.delete(file.location)  // settled: the table has it, or its version was discarded
            } else {
                unsettledRecords[version] = file
            }
        }
        if let unsettled, !ahead.isEmpty {
            var commits: [UnsettledCommit] = []
            for (version, stored) in ahead.sorted(by: { $0.key < $1.key }) {
                let snapshotID = stored?.pendingSnapshotID
                // Landed and rolled back off the branch: no attempt of it can land again (a table refuses a
                // second snapshot with an id it has), so there is nothing to settle.
                if let snapshotID, tableSnapshots.contains(snapshotID) { continue }
                if let record = unsettledRecords[version] {
                    commits.append(await loadUnsettled(at: record.location, version: version, fallbackMillis: record.lastModifiedMillis, snapshotID: snapshotID))
                } else if let snapshotID,
                    let list = try await io.list(prefix: SnapshotFiles.prefixes(tableLocation: tableLocation, snapshotID: snapshotID)[1]).first
                {
                    // No record, but the commit wrote its manifest list: its run may have died (killed, out of
                    // grace) with the catalog swap in flight, which may still land.
                    commits.append(UnsettledCommit(version: version, snapshotID: snapshotID, atMillis: list.lastModifiedMillis ?? 0))
                }
            }
            if !commits.isEmpty, try await unsettled(commits) {
                return Recovery(checkpoint: checkpoint, discardedVersions: [], orphanDataFiles: [], landedLate: true)
            }
        }
        for file in files {
            guard let version = self.version(at: file.location) else { continue }
            if version < committedVersion - Self.versionsKept {
                try? await io.delete(file.location)
                continue
            }
            guard version > committedVersion else { continue }
            if let crashed = ahead[version] ?? nil {
                if let id = crashed.pendingSnapshotID, tableSnapshots.contains(id) {
                    kept.append(id)
                } else {
                    orphans += crashed.pendingDataFiles
                    if let id = crashed.pendingSnapshotID { snapshots.append(id) }
                }
            }
            // A crashed run's lineage and archive go with its version (both are written after it).
            let name = Self.versionName(version)
            for folder in [lineageDirectory, archiveDirectory] {
                for written in try await io.list(prefix: folder + name) { try await io.delete(written.location) }
            }
            // The record of its unknown outcome first: it has settled (`unsettled` said so).
            if unsettledRecords[version] != nil { try await io.delete(unsettledLocation(of: version)) }
            try await io.delete(file.location)
            discarded.append(version)
        }
        return Recovery(
            checkpoint: checkpoint, discardedVersions: discarded.sorted(), orphanDataFiles: orphans, orphanSnapshotIDs: snapshots, keptSnapshotIDs: kept)
    }

    /// The versions stored, ascending (one listing of the version files only).
    public func versions() async throws -> [Int64] {
        versions(in: try await io.list(prefix: directory + "0"))
    }

    /// The versions among `files` (a listing of the version files), ascending.
    private func versions(in files: [FileInfo]) -> [Int64] {
        files.compactMap { version(at: $0.location) }.sorted()
    }

    /// Versions kept below the committed one, for inspection.
    public static let versionsKept: Int64 = 2

    /// Deletes versions older than `version` minus `keep` (old versions are never needed again once a newer
    /// one is committed; a few are kept for inspection).
    public func deleteVersions(before version: Int64, keep: Int64 = versionsKept) async throws {
        for file in try await io.list(prefix: directory + "0") {
            guard let old = self.version(at: file.location), old < version - keep else { continue }
            try await io.delete(file.location)
        }
    }
}
