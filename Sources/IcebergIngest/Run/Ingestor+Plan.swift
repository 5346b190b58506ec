import Checkpoint
import Foundation
import IcebergCore

/// Planning a pass: what the source lists, sorted into what to read and what to skip, and the reconciliation
/// of closed hours against the archive of what was ingested.
extension Ingestor {
    /// What a run would read now, without reading anything but the listing (and, with `reconcile`, the
    /// archive of the closed hours it looks at again). Creates nothing: for a table that does not exist yet,
    /// every listed object is new.
    public func plan(now: Date = Date(), reconcile: Bool = false) async throws -> IngestPlan {
        guard shardResolved else { return try await resolvingShard(readOnly: true).plan(now: now, reconcile: reconcile) }
        try configuration.validate()
        let table = try await catalog.tableExists(configuration.table) ? try await catalog.loadTable(configuration.table) : nil
        let checkpoint = try await openCheckpoint(table)
        let closed = try await reconciliation(table: table, checkpoint: checkpoint, asked: reconcile, now: now)
        return try await classify(checkpoint: checkpoint, now: now, closed: closed)
    }

    /// Closed hours looked at again, and what the archive says was ingested in them.
    struct ClosedHours {
        var hours: ClosedRange<Int32>
        var archived: ArchivedHours
        /// Whether the open window is listed too (a reconciliation, or a run: yes; a backfill: no).
        var withOpenWindow: Bool
    }

    /// The reconciliation a pass does: when asked, or when `reconcileEverySeconds` have passed since the
    /// last one; nil when none is due or nothing has closed yet.
    func reconciliation(table: Table?, checkpoint: SourceCheckpoint, asked: Bool, now: Date) async throws -> ClosedHours? {
        guard configuration.reconcileHours > 0, let horizon = checkpoint.horizonHour, let table else { return nil }
        if !asked {
            guard let every = configuration.reconcileEverySeconds else { return nil }
            if let last = try await lastReconciliation(table)?.atMillis, Double(Int64(now.timeIntervalSince1970 * 1000) - last) / 1000 < every {
                return nil
            }
        }
        // Never before the hour the source started at (those hours were skipped on purpose; backfill reads
        // them), nor in hours folded before the archive existed (nothing says which of their objects are in).
        let first = max(
            horizon - configuration.reconcileHours + 1, checkpoint.startHour ?? Int32.min, checkpoint.unarchivedThroughHour.map { $0 + 1 } ?? Int32.min)
        guard first <= horizon else { return nil }
        let hours = first...horizon
        return ClosedHours(hours: hours, archived: try await archived(table, hours: hours), withOpenWindow: true)
    }

    /// What was archived in `hours`: by this shard, and by every shard of the layouts the source was rescaled
    /// from (their objects were folded there before this shard existed).
    func archived(_ table: Table, hours: ClosedRange<Int32>) async throws -> ArchivedHours {
        var parts = [try await checkpointStore(for: table).archivedObjects(hours: hours, upTo: committedCheckpoint(table)?.version ?? 0)]
        for layout in try await priorLayouts(table) {
            for shard in layout.shards {
                parts.append(try await forShard(shard).checkpointStore(for: table).archivedObjects(hours: hours, upTo: Int64.max))
            }
        }
        return .merged(parts, hours: hours)
    }

    /// Where the time of the last reconciliation is kept (a scheduling hint, not part of the exactly-once
    /// state: losing it only makes the next reconciliation come sooner).
    func reconciledMarker(_ table: Table) -> String { checkpointStore(for: table).directory + "reconciled.json" }

    /// When the last reconciliation ran, and how many late files it found.
    func lastReconciliation(_ table: Table) async throws -> (atMillis: Int64, lateFiles: Int)? {
        guard let bytes = try? await table.io.read(reconciledMarker(table)), let marker = try? JSONValue.parse(bytes, source: "reconciled"),
            case .int(let millis)? = marker["atMillis"]
        else { return nil }
        let late: Int = if case .int(let n)? = marker["lateFiles"] { Int(n) } else { 0 }
        return (millis, late)
    }

    /// Sorts what the source lists into what to read and what to skip: the one place `plan`, `run` and
    /// `backfill` decide, so they agree object for object. Objects of `closed` hours that the archive and the
    /// checkpoint lack are late files (read under the policy `ingest`).
    func classify(checkpoint: SourceCheckpoint, now: Date, closed: ClosedHours? = nil) async throws -> IngestPlan {
        var first = checkpoint.firstOpenHour
        var listUpTo = now
        if let closed {
            first = closed.withOpenWindow ? min(closed.hours.lowerBound, first ?? closed.hours.lowerBound) : closed.hours.lowerBound
            if !closed.withOpenWindow { listUpTo = Date(timeIntervalSince1970: Double(closed.hours.upperBound) * 3600) }
        }
        let listing = try await source.list(firstOpenHour: first, now: listUpTo)
        var plan = IngestPlan(listedPrefixes: listing.listedPrefixes, unmatchedKeys: listing.unmatchedKeys, firstOpenHour: first)
        if let closed { plan.closedHoursListed = Int(closed.hours.upperBound - closed.hours.lowerBound + 1) }
        var late: [SourceObject] = []
        for object in listing.objects where configuration.shard.owns(key: object.key) {
            if let closed, !closed.withOpenWindow, !closed.hours.contains(object.hour) { continue }
            plan.objectsListed += 1
            let version = object.version
            switch checkpoint.status(of: version, hour: object.hour) {
            case .new: plan.toRead.append(object)
            case .ingested: plan.alreadyIngested += 1
            case .belowHorizon:
                if let closed, closed.hours.contains(object.hour), !closed.archived.contains(key: object.key, hour: object.hour),
                    checkpoint.recorded(object.key) == nil
                {
                    late.append(object)
                } else {
                    plan.alreadyIngested += 1
                }
            case .changed:
                plan.changed.append(object)
                if configuration.changedObjectPolicy == .reingest { plan.toRead.append(object) }
            }
        }
        plan.lateFiles = late
        if configuration.lateFiles == .ingest { plan.toRead = late + plan.toRead }
        return plan
    }
}
