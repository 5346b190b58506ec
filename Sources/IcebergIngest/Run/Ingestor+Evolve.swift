import Checkpoint
import Foundation
import IcebergCore

/// What a schema evolution would change and what it would read again (``Ingestor/evolutionPlan(now:)``).
public struct EvolutionPlan: Sendable, Codable, Equatable {
    /// The schema changes, e.g. `added browser: string`, `widened n: int to long`.
    public var changes: [String]
    /// The schema id now, and the one the evolution commits (equal when only reprocessing is needed).
    public var currentSchemaID: Int
    /// Objects whose fields were dropped or rescued (policy `ignore` or `rescue`), as `key`.
    public var driftedObjects: [String]
    /// Every object to read again: the drifted ones and those whose rows share a data file with them.
    public var objectsToReprocess: [String]
    /// The data files the reprocessing replaces, and the rows they hold.
    public var dataFilesToReplace: [String]
    public var rowsToReplace: Int64
    /// Checkpoint versions whose lineage was read.
    public var lineageRecordsRead: Int

    /// Whether there is anything to do.
    public var isEmpty: Bool { changes.isEmpty && objectsToReprocess.isEmpty }
}

/// What ``Ingestor/evolve(apply:now:progress:)`` did.
public struct EvolveSummary: Sendable, Codable, Equatable {
    public var plan: EvolutionPlan
    /// Whether the change was committed (false for a dry run or when there was nothing to do).
    public var applied: Bool
    /// The schema id after the commit.
    public var schemaID: Int
    /// The reprocessing pass: objects read, rows written, data files added and replaced, the snapshot.
    public var run: RunSummary?

    public var jsonLine: String { JSONLine.encode(self) }
}

extension Ingestor {
    /// An object the evolution reads again, with what its lineage says.
    struct ReprocessItem {
        var lineage: ObjectLineage
        var recordVersion: Int64
    }

    /// Works out the schema change the drift recorded in this source's lineage calls for, and the objects and
    /// data files a reprocessing under it replaces. Reads lineage records and the current snapshot's
    /// manifests, lists the hours of the objects (to check they are unchanged), and reads no input data.
    ///
    /// Data files rewritten since they were written (a compaction: ours, `run --upkeep-every`'s, or Spark's
    /// `rewrite_data_files`) are followed through the table's `replace` snapshots to the files that hold
    /// their rows now; every object whose rows share those files is read again too.
    ///
    /// Throws ``IngestError`` `.inputChanged` when an object to read again is gone or changed, and
    /// `.lineageBroken` when the rows cannot be replaced exactly: a file to replace vanished and no snapshot
    /// left in the history rewrote it (the rewrite was expired), a rewrite mixed in rows no object of this
    /// shard wrote, another writer's `overwrite` or `delete` changed them, or delete files apply to them.
    public func evolutionPlan(now: Date = Date()) async throws -> EvolutionPlan {
        let table = try await loadOrCreateTable()
        return try await evolutionWork(table: table, now: now).plan
    }

    /// Evolves the table's schema to hold what the input carried and the table dropped or rescued, and
    /// reprocesses the source objects that carried it: one overwrite commit holds the schema change (a new
    /// schema id; the old schemas stay in the metadata), the new data files, and the removal of the old ones,
    /// so no row is lost or duplicated. Readers see the backfilled values; rows of other objects read null
    /// in the new columns until their files are rewritten.
    ///
    /// With `apply: false` it only plans (see ``evolutionPlan(now:)``). The commit advances this source's
    /// checkpoint like a run does, so a crash at any point leaves the table and the checkpoint consistent;
    /// it conflicts cleanly with a concurrent schema change, and retries over concurrent appends.
    ///
    /// ```swift
    /// let preview = try await ingestor.evolve(apply: false)
    /// print(preview.plan.changes, preview.plan.objectsToReprocess.count)
    /// let done = try await ingestor.evolve(apply: true)
    /// print(done.schemaID, done.run?.dataFilesReplaced ?? 0)
    /// ```
    public func evolve(apply: Bool, now: Date = Date(), progress: (@Sendable (IngestProgress) -> Void)? = nil) async throws -> EvolveSummary {
        guard shardResolved else { return try await resolvingShard(readOnly: !apply).evolve(apply: apply, now: now, progress: progress) }
        let started = ContinuousClock().now
        var (table, summary) = try await prepareTable()
        return try await withLease(table) { lease in
            var checkpoint = try await recover(&table, summary: &summary, lease: lease)
            let work = try await evolutionWork(table: table, now: now)
            var result = EvolveSummary(plan: work.plan, applied: false, schemaID: table.metadata.currentSchemaID, run: nil)
            guard apply, !work.plan.isEmpty else { return result }
            if work.objects.isEmpty, let update = work.update {
                // Nothing to read again (the drifted rows are gone from the table): the schema change alone.
                table = try await update.commit(table, catalog: catalog)
                summary.schemaChanges += update.changes
            } else {
                var pass = Pass(now: now, configuration: configuration, schemaUpdate: work.update, snapshot: .overwrite(replacing: work.plan.dataFilesToReplace))
                // Anything the samples did not type (a value too large to keep) evolves while reading.
                pass.configuration.driftPolicy = .addColumns
                try await process(work.objects, table: &table, checkpoint: &checkpoint, summary: &summary, pass: pass, lease: lease, progress: progress)
            }
            summary.totalSeconds = (ContinuousClock().now - started).seconds
            result.applied = true
            result.schemaID = table.metadata.currentSchemaID
            result.run = summary
            logger.notice("evolved \(configuration.table) to schema \(result.schemaID): \(summary.schemaChanges.joined(separator: "; ")); reprocessed \(work.objects.count) objects, replaced \(summary.dataFilesReplaced) data files")
            return result
        }
    }

    /// The plan, the schema update, and the source objects to read again (as listed now).
    func evolutionWork(table: Table, now: Date) async throws -> (plan: EvolutionPlan, update: SchemaUpdate?, objects: [SourceObject]) {
        let store = checkpointStore(for: table)
        let committed = committedCheckpoint(table)?.version ?? 0
        // Records with drift, and reprocessings (they supersede what earlier records say of their objects).
        let entries = try await store.listLineage(upTo: committed).filter { $0.hasDrift || $0.kind == .reprocess }
        var records: [CommitLineage] = []
        for entry in entries { records.append(try await store.loadLineage(entry)) }
        var latest: [String: (record: Int, object: Int)] = [:]
        for (r, record) in records.enumerated() {
            for (o, object) in record.objects.enumerated() { latest[object.object.key] = (r, o) }
        }

        // The schema change: new fields typed from their samples, widenings to the widest type seen.
        var samples: [String: JSONValue] = [:]
        var widenings: [String: PrimitiveType] = [:]
        let drifted = latest.values.map { records[$0.record].objects[$0.object] }.filter(\.hasDrift)
        for object in drifted {
            for (path, text) in object.newFields where samples[path] == nil {
                if let value = try? JSONValue.parse(text, source: "lineage sample of \(path)"), value != .null { samples[path] = value }
            }
            for (name, text) in object.widenings {
                guard let type = try? PrimitiveType(parsing: text) else { continue }
                if let known = widenings[name], known.isWider(than: type) { continue }
                widenings[name] = type
            }
        }
        let update = try SchemaEvolution(base: table.metadata).update(samples: samples, widenings: widenings)
        var evolved = SchemaEvolution(base: table.metadata)
        if let update { try evolved.apply(update) }
        let schema = evolved.schema

        // Objects whose drift the evolved schema holds, and (closure) every object sharing a data file with them.
        func resolved(_ object: ObjectLineage) -> Bool {
            object.newFields.keys.contains { SchemaEvolution.has($0, in: schema) }
                || object.widenings.contains { name, text in
                    guard let wanted = try? PrimitiveType(parsing: text), let now = schema.field(named: name)?.type.primitive else { return false }
                    return now == wanted || now.isWider(than: wanted)
                }
        }
        let start = latest.filter { resolved(records[$0.value.record].objects[$0.value.object]) }.map(\.key)
        let liveFiles = try await table.liveDataFiles()
        let live = Dictionary(liveFiles.map { ($0.filePath, $0.recordCount) }, uniquingKeysWith: { a, _ in a })
        var closure = try LineageClosure.closure(from: start, records: records, latest: latest, history: nil, live: live, table: configuration.table)
        if closure.files.contains(where: { live[$0] == nil }) {
            // Some of the files were rewritten since (a compaction, ours or another engine's): follow the rows
            // through the table's history. Any object's rows may have been compacted with them, so every
            // lineage record of the shard is read now, not only those with drift.
            records = []
            for entry in try await store.listLineage(upTo: committed) { records.append(try await store.loadLineage(entry)) }
            latest = [:]
            for (r, record) in records.enumerated() {
                for (o, object) in record.objects.enumerated() { latest[object.object.key] = (r, o) }
            }
            closure = try LineageClosure.closure(
                from: start, records: records, latest: latest, history: try await RewriteHistory.load(table), live: live, table: configuration.table)
        }
        let chosen = closure.objects
        let files = Set(closure.files.filter { live[$0] != nil })
        // Rows deleted by another engine (position or equality delete files) would come back from the source.
        let deletes = try await table.deleteCoverage()
        if !deletes.isEmpty, let file = liveFiles.first(where: { files.contains($0.filePath) && deletes.mayApply(to: $0) }) {
            throw IngestError(
                .lineageBroken,
                "cannot reprocess exactly: row-level delete files (another engine's DELETE, UPDATE or MERGE) apply to the partition of \(file.filePath) in table \(configuration.table), and reading the source again would bring deleted rows back")
        }

        // The objects, as the source lists them now: each must still be there, unchanged.
        let wanted = chosen.mapValues { records[$0.record].objects[$0.object] }
        let objects = try await listUnchanged(wanted, now: now)
        let plan = EvolutionPlan(
            changes: update?.changes ?? [], currentSchemaID: table.metadata.currentSchemaID,
            driftedObjects: drifted.map(\.object.key).sorted(), objectsToReprocess: objects.map(\.key),
            dataFilesToReplace: files.sorted(), rowsToReplace: files.reduce(0) { $0 + (live[$1] ?? 0) }, lineageRecordsRead: records.count)
        return (plan, update, objects)
    }

    /// Lists the hours of `wanted` and returns their objects in time order; throws `.inputChanged` naming an
    /// object that is gone or whose ETag or size differ from what was ingested.
    private func listUnchanged(_ wanted: [String: ObjectLineage], now: Date) async throws -> [SourceObject] {
        guard !wanted.isEmpty else { return [] }
        var found: [String: SourceObject] = [:]
        // Runs of nearby hours are listed together.
        var ranges: [(Int32, Int32)] = []
        for hour in Set(wanted.values.map(\.hour)).sorted() {
            if let last = ranges.last, hour - last.1 <= 6 { ranges[ranges.count - 1].1 = hour } else { ranges.append((hour, hour)) }
        }
        for (first, last) in ranges {
            let end = Date(timeIntervalSince1970: TimeInterval(Int64(last) * 3600 + 3599))
            for object in try await source.list(firstOpenHour: first, now: min(end, now)).objects where wanted[object.key] != nil {
                found[object.key] = object
            }
        }
        var objects: [SourceObject] = []
        for (key, lineage) in wanted {
            guard let object = found[key] else {
                throw IngestError(.inputChanged, "cannot reprocess \(key): it is no longer in \(source.identity)")
            }
            guard object.etag == lineage.object.etag, object.size == lineage.object.size else {
                throw IngestError(
                    .inputChanged,
                    "cannot reprocess \(object.location): it changed since it was ingested (ETag \(lineage.object.etag) -> \(object.etag), size \(lineage.object.size) -> \(object.size))")
            }
            objects.append(object)
        }
        return objects.sorted { ($0.hour, $0.key) < ($1.hour, $1.key) }
    }
}
