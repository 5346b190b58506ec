import Checkpoint
import Foundation
import IcebergCore

/// Shards and rescaling: every runner of a source works in the shard layout its commits record
/// (``ShardLayout``, `count` shards in an `epoch`), owns the objects whose key hashes to its index
/// (``ShardID/owns(key:)``), and refuses another count unless asked to rescale.
///
/// ## Rescaling from N to M shards
/// The first run with `rescale` set that finds the layout at N:
/// 1. takes the source's rescale lock (a lease beside the shards' folders) and reads the table again: if
///    another runner rescaled to M meanwhile, it simply goes on in that layout;
/// 2. takes the lease of every old shard (waiting as ``IngestConfiguration/leaseWaitSeconds`` allows, or
///    failing with ``CheckpointError/Code/leaseHeld`` naming the one still running) and recovers each, so
///    nothing is in flight and no uncommitted version is left;
/// 3. merges the old shards' committed checkpoints (``SourceCheckpoint/rescaled(from:archived:to:source:lateArrivalHours:)``):
///    the oldest horizon, every object tracked above it, and the objects old shards had archived between it
///    and their own horizon; version 1 of each new shard holds the objects it owns;
/// 4. records the new layout in `layouts/e<epoch>.json` (so that reconciliations find the old shards'
///    archives of closed hours), saves the M checkpoints, and commits them in one snapshot with no data
///    files whose summary names all M checkpoints and the layout M/e<epoch+1>.
///
/// A crash before that commit leaves the table at N: the next attempt discards the unnamed versions and
/// starts again. After it, runs with N fail naming the layout; runs with M go on. So no object is skipped
/// (every object the old shards had not committed is new to its new owner) and none is read twice (every
/// object they had committed is in its new owner's checkpoint or below the horizon, and in an archive).
extension Ingestor {
    /// This ingestor for another shard of the same source (rescaling works on the old shards' checkpoints).
    func forShard(_ shard: ShardID) -> Ingestor {
        var copy = self
        copy.configuration.shard = shard
        copy.shardResolved = true
        copy.logger[metadataKey: "shard"] = "\(shard)"
        return copy
    }

    /// The layout the table's history records for this source.
    func recordedLayout(_ table: Table) -> ShardLayout.Recorded {
        ShardLayout.recorded(in: table.metadata.ancestors().lazy.map(\.summary), source: source.identity)
    }

    /// This runner's shard (index and count as configured) in the recorded layout, or nil when the counts
    /// differ or the source is still sharded by hour prefix.
    func shard(in recorded: ShardLayout.Recorded) -> ShardID? {
        let wanted = configuration.shard
        switch recorded {
        case .none: return ShardID(index: wanted.index, count: wanted.count)
        case .layout(let layout): return layout.count == wanted.count ? ShardID(index: wanted.index, count: wanted.count, epoch: layout.epoch) : nil
        case .legacy(let count): return count == 1 && wanted.count == 1 ? .single : nil
        }
    }

    static func describe(_ recorded: ShardLayout.Recorded) -> String {
        switch recorded {
        case .none: "not sharded yet"
        case .layout(let layout): "sharded \(layout.count) way\(layout.count == 1 ? "" : "s") (layout epoch \(layout.epoch))"
        case .legacy(let count): "sharded \(count) ways by hour prefix (before shard layouts were recorded)"
        }
    }

    /// The ingestor to run with: its shard's epoch as the table records it, after rescaling the source when
    /// the counts differ and ``IngestConfiguration/rescale`` is set (never when `readOnly`).
    func resolvingShard(readOnly: Bool) async throws -> Ingestor {
        let table: Table?
        if readOnly {
            table = try await catalog.tableExists(configuration.table) ? try await catalog.loadTable(configuration.table) : nil
        } else {
            try configuration.validate()
            table = try await loadOrCreateTable()
        }
        guard let table else { return forShard(ShardID(index: configuration.shard.index, count: configuration.shard.count)) }
        let recorded = recordedLayout(table)
        if let shard = shard(in: recorded) { return forShard(shard) }
        guard configuration.rescale, !readOnly else { throw mismatch(recorded) }
        let layout = try await rescale(table)
        return forShard(ShardID(index: configuration.shard.index, count: layout.count, epoch: layout.epoch))
    }

    func mismatch(_ recorded: ShardLayout.Recorded) -> IngestError {
        let wanted = configuration.shard
        var hint = ""
        if case .layout(let layout) = recorded { hint = "run with --shard i/\(layout.count), or " }
        return IngestError(
            .invalidConfiguration,
            "source \(source.identity) of table \(configuration.table) is \(Self.describe(recorded)); this runner is shard \(wanted.index)/\(wanted.count): "
                + "\(hint)rescale it to \(wanted.count) with --rescale (ingest.rescale), which merges the old shards' checkpoints once, under their leases")
    }

    /// Under the lease, and again on the table each commit builds on: the table must still record this
    /// runner's layout. A rescaling may have landed while it waited for the lease; and on a source no commit
    /// has sharded yet, runners started with different counts all pass ``resolvingShard(readOnly:)``, so the
    /// first commit decides and the others' commits are refused here (nothing of theirs reaches the table).
    func checkLayout(_ table: Table) throws {
        let recorded = recordedLayout(table)
        guard shard(in: recorded) == configuration.shard else {
            throw IngestError(
                .invalidConfiguration,
                "source \(source.identity) of table \(configuration.table) is \(Self.describe(recorded)) now, by another runner's commit made while this runner (\(configuration.shard)) ran; nothing of this run's last batch was committed: run again with that count, or --rescale")
        }
    }

    /// Where the source's layouts are recorded: `layouts/e<epoch>.json`, `{"count": M, "epoch": E, "previous": {"count": N, "epoch": E0}}`.
    func layoutsDirectory(_ table: Table) -> String { checkpointStore(for: table).sourceDirectory + "layouts/" }

    /// The layouts the source was rescaled from, up to this runner's epoch.
    func priorLayouts(_ table: Table) async throws -> [ShardLayout] {
        guard configuration.shard.epoch > 0 else { return [] }
        var prior: [ShardLayout] = []
        for file in try await table.io.list(prefix: layoutsDirectory(table)) where file.location.hasSuffix(".json") {
            let json = try JSONValue.parse(try await table.io.read(file.location), source: file.location)
            guard case .int(let epoch)? = json["epoch"], epoch <= configuration.shard.epoch, case .object? = json["previous"],
                case .int(let count)? = json["previous"]?["count"], case .int(let previousEpoch)? = json["previous"]?["epoch"], count >= 1
            else { continue }
            prior.append(ShardLayout(count: Int(count), epoch: Int(previousEpoch)))
        }
        return Array(Set(prior)).sorted { $0.epoch < $1.epoch }
    }

    /// Rescales the source to this runner's shard count (see the extension's documentation); returns the
    /// layout in force afterwards (another runner's, when it rescaled first).
    func rescale(_ initial: Table) async throws -> ShardLayout {
        let wantedCount = configuration.shard.count
        let lockStore = LeaseStore(
            io: initial.io, directory: checkpointStore(for: initial).sourceDirectory + "rescale-lease/", ttlMillis: configuration.leaseMillis)
        var held = [try await LeaseKeeper.acquire(store: lockStore, waitSeconds: configuration.leaseWaitSeconds ?? 60, logger: logger, stop: stop)]
        do {
            let layout = try await rescaleLocked(wantedCount: wantedCount, held: &held)
            for keeper in held.reversed() { await keeper.release() }
            return layout
        } catch {
            for keeper in held.reversed() { await keeper.release() }
            throw error
        }
    }

    /// The rescaling proper, under the rescale lock; the old shards' leases it takes go into `held`.
    private func rescaleLocked(wantedCount: Int, held: inout [LeaseKeeper]) async throws -> ShardLayout {
        var table = try await catalog.loadTable(configuration.table)
        let io = table.io
        let recorded = recordedLayout(table)
        // Another runner rescaled first (or nothing needs it): go on in the layout the table records.
        if let shard = shard(in: recorded) { return shard.layout }
        let old: ShardLayout
        switch recorded {
        case .none: return ShardLayout(count: wantedCount, epoch: 0)
        case .layout(let layout): old = layout
        case .legacy(let count): old = ShardLayout(count: count, epoch: 0)
        }
        let new = ShardLayout(count: wantedCount, epoch: old.epoch + 1)

        // Every old shard: its lease, then its committed checkpoint with nothing uncommitted left.
        var checkpoints: [SourceCheckpoint] = []
        var committedVersions: [Int64] = []
        var scratch = RunSummary(table: configuration.table.description, source: source.identity, shard: "rescale")
        for shard in old.shards {
            let oldIngestor = forShard(shard)
            held.append(try await LeaseKeeper.acquire(
                store: oldIngestor.leaseStore(for: table), waitSeconds: configuration.leaseWaitSeconds, logger: logger, stop: stop))
            checkpoints.append(try await oldIngestor.recover(&table, summary: &scratch, lease: held.last, checkingLayout: false))
            committedVersions.append(oldIngestor.committedCheckpoint(table)?.version ?? 0)
        }
        let horizon = SourceCheckpoint.mergedHorizon(of: checkpoints)
        // Hours an old shard folded without an archive (a release before the archive) must stay folded for
        // all: above the merged horizon its objects would look new to their new owners.
        for (position, checkpoint) in checkpoints.enumerated() {
            if let unarchived = checkpoint.unarchivedThroughHour, unarchived > (horizon ?? Int32.min) {
                throw IngestError(
                    .invalidConfiguration,
                    "cannot rescale source \(source.identity) yet: \(old.shards[position]) folded the hours up to \(IngestStatus.hourText(unarchived)) under a release that kept no archive, and another old shard's horizon is older (\(horizon.map(IngestStatus.hourText) ?? "nothing folded")); run every old shard once in the same hour with the old count (their horizons then meet), then rescale")
            }
        }
        var archived: [IngestedObject] = []
        for (position, shard) in old.shards.enumerated() {
            guard let own = checkpoints[position].horizonHour, own > (horizon ?? Int32.min) else { continue }
            let hours = ((horizon ?? Int32.min + 1) + 1)...own
            archived += try await forShard(shard).checkpointStore(for: table)
                .archivedObjects(hours: hours, upTo: committedVersions[position]).objects
        }
        let merged = SourceCheckpoint.rescaled(
            from: checkpoints, archived: archived, to: new, source: source.identity, lateArrivalHours: configuration.lateArrivalHours)

        // The layout record first (it only counts once the table names the epoch), then the checkpoints
        // (versions a crashed attempt left are discarded first), then the one commit.
        let record = JSONValue.object([
            ("count", .int(Int64(new.count))), ("epoch", .int(Int64(new.epoch))),
            ("previous", .object([("count", .int(Int64(old.count))), ("epoch", .int(Int64(old.epoch)))])),
        ])
        try await io.write(layoutsDirectory(table) + "e\(new.epoch).json", bytes: Array(record.serialized().utf8))
        var properties: [String: String] = [:]
        for checkpoint in merged {
            let store = forShard(checkpoint.shard).checkpointStore(for: table)
            _ = try await store.recover(committed: nil, lateArrivalHours: configuration.lateArrivalHours)
            let location = try await store.save(checkpoint)
            let commit = CheckpointCommit(
                source: source.identity, shard: checkpoint.shard, version: checkpoint.version, watermarkHour: checkpoint.watermarkHour, location: location)
            properties.merge(commit.summaryProperties) { _, new in new }
        }
        properties["iceberg-ingest.rescaled"] = "\(source.identity) from \(old) to \(new)"
        var append = FastAppend(table: table, catalog: catalog)
        append.summaryProperties = properties
        append.retryDefaults = IngestConfiguration.commitRetryDefaults
        let keepers = held
        append.beforeCatalogSwap = { _ in for keeper in keepers { try keeper.check() } }
        table = try await append.commit()
        logger.notice(
            "rescaled source \(source.identity) from \(old.count) to \(new.count) shards (layout epoch \(new.epoch)): \(merged.reduce(0) { $0 + $1.trackedObjectCount }) objects in the open window, horizon hour \(horizon.map(String.init) ?? "none")",
            metadata: ["snapshot": "\(table.metadata.currentSnapshotID ?? 0)"])
        return new
    }
}