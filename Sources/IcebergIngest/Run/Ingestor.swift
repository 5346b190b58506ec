import Checkpoint
import Foundation
import IcebergCore
import Logging
import Parquet
import S3Reader

/// Runs ingestion: lists what is new in the source, reads and parses it, writes Parquet data files, and
/// commits them to the Iceberg table together with the checkpoint, so that every source row lands exactly
/// once whatever fails in between (see ``CheckpointStore`` for the protocol).
///
/// ```swift
/// let catalog = try SQLiteCatalog(path: "/tmp/wh/catalog.db", warehouse: "/tmp/wh")
/// let source = LocalFolderSource(root: "Fixtures/demo/events", layout: .firehose)
/// let ingestor = Ingestor(configuration: configuration, catalog: catalog, source: source)
/// let summary = try await ingestor.run()
/// print(summary.rows, summary.snapshotIDs)
/// ```
public struct Ingestor: Sendable {
    public internal(set) var configuration: IngestConfiguration
    public let catalog: any Catalog
    public let source: any IngestSource
    /// Carries the metadata `table`, `source` and `shard` on every line it logs.
    public var logger: Logger
    /// Where the run's counters and gauges go (``IngestMetrics``): the bootstrapped `swift-metrics` backend
    /// unless set.
    public var metrics: IngestMetrics
    /// Observed between objects: once requested, the run commits what it has read and returns.
    public var stop: StopRequest = .process
    /// Whether a missing table is created from the configuration (false: it is an error; a routed stream whose
    /// table existed when listed must not be created again from the routed job's placeholder schema).
    package var createsTable = true
    /// Runs before each batch's commit, with the table as it stands (routing by a field makes the tables its
    /// records named first, so that no object is committed anywhere before every table it feeds exists, and
    /// writes the unroutable records' dead letters).
    package var beforeCommit: (@Sendable (Table) async throws -> Void)?
    /// Whether `configuration.shard` carries the source's layout epoch as the table records it
    /// (``resolvingShard(readOnly:)``); every entry point resolves it first.
    var shardResolved = false

    /// - Parameter logger: where the run logs (at info: started, each commit, finished; at notice and up:
    ///   retries, recoveries, late and changed files); silent by default.
    public init(
        configuration: IngestConfiguration, catalog: any Catalog, source: any IngestSource,
        logger: Logger = Logger(label: "iceberg-ingest", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.catalog = catalog
        self.source = source
        var logger = logger
        logger[metadataKey: "table"] = "\(configuration.table)"
        logger[metadataKey: "source"] = "\(source.identity)"
        logger[metadataKey: "shard"] = "\(configuration.shard)"
        self.logger = logger
        metrics = IngestMetrics(table: configuration.table.description, shard: configuration.shard.description)
    }

    // MARK: The table and the checkpoint

    /// Loads the table, creating it (and its namespace) from the configuration when missing.
    public func loadOrCreateTable() async throws -> Table {
        if try await catalog.tableExists(configuration.table) { return try await catalog.loadTable(configuration.table) }
        guard createsTable else {
            throw IngestError(.invalidConfiguration, "table \(configuration.table) is gone (dropped since its stream was listed); the next run creates it again")
        }
        let namespace = configuration.table.namespace
        if !(try await catalog.listNamespaces()).contains(namespace) {
            for attempt in 1...3 {
                do {
                    try await catalog.createNamespace(namespace)
                    break
                } catch let error as IcebergError where error.code == .alreadyExists {
                    break  // another worker made it
                } catch let error as IcebergError where (error.code == .commitStateUnknown || error.isRetryable) && attempt < 3 {
                    // The answer was lost, or the connection failed (a POST is not resent blindly): the
                    // namespace may be there now; if not, ask again.
                    if try await catalog.listNamespaces().contains(namespace) { break }
                    logger.notice("creating namespace \(namespace.joined(separator: ".")) failed (\(error.message)); trying again")
                    try await Task.sleep(for: .milliseconds(200 * attempt))
                } catch let error as IcebergError where error.code == .commitStateUnknown {
                    break  // creating the table says whether the namespace is there
                }
            }
        }
        for attempt in 1...3 {
            do {
                let table = try await catalog.createTable(
                    configuration.table, schema: configuration.schema, spec: configuration.partitionSpec, sortOrder: .unsorted,
                    properties: configuration.tableProperties, location: configuration.tableLocation)
                logger.info("created table \(configuration.table) at \(table.metadata.location)")
                return table
            } catch let error as IcebergError where error.code == .alreadyExists {
                break  // another worker created it first: the table as the catalog has it now is the one to use
            } catch let error as IcebergError where error.code == .commitStateUnknown {
                // The answer to the create was lost: it may have taken effect; if not, ask again.
                if try await catalog.tableExists(configuration.table) { break }
                guard attempt < 3 else { throw error }
                logger.notice("creating table \(configuration.table) failed (\(error.message)); trying again")
                try await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
        return try await catalog.loadTable(configuration.table)
    }

    func checkpointStore(for table: Table) -> CheckpointStore {
        CheckpointStore(io: table.io, tableLocation: table.metadata.location, source: source.identity, shard: configuration.shard)
    }

    /// The checkpoint the table's history commits to for this source and shard.
    func committedCheckpoint(_ table: Table) -> CheckpointCommit? {
        CheckpointCommit.latest(in: table.metadata.ancestors().lazy.map(\.summary), source: source.identity, shard: configuration.shard)
    }

    /// The checkpoint the table commits to, as this configuration sees it: the late-arrival window is the
    /// configured one (the horizon never moves back over what was folded, whatever the window says). Reads,
    /// never writes: plan and status use it as it is, a run after recovery.
    func openCheckpoint(_ table: Table?) async throws -> SourceCheckpoint {
        var checkpoint: SourceCheckpoint
        if let table, let committed = committedCheckpoint(table), committed.version > 0 {
            checkpoint = try await checkpointStore(for: table).load(version: committed.version)
        } else {
            checkpoint = SourceCheckpoint(source: source.identity, shard: configuration.shard, lateArrivalHours: configuration.lateArrivalHours)
        }
        checkpoint.lateArrivalHours = configuration.lateArrivalHours
        if let start = configuration.startAtHour { checkpoint.start(at: start) }
        return checkpoint
    }

    // MARK: Run

    /// One pass: take this shard's lease, recover, list, read what is new, write, commit (in batches),
    /// let go of the lease. Returns what was done. Throws ``IngestError`` (bad record under policy `fail`,
    /// unreadable input), ``CheckpointError`` (`.leaseHeld`: another runner works on this shard; `.leaseLost`:
    /// this one was paused past its lease), ``IcebergError`` or ``S3Error``; what was committed before the
    /// error stays committed and is not read again.
    ///
    /// A run also reconciles (``IngestConfiguration/reconcileEverySeconds``, or `reconcile: true`): it lists
    /// the last ``IngestConfiguration/reconcileHours`` closed hours again and reads the late files there, the
    /// objects the archive of what was ingested lacks (``IngestConfiguration/lateFiles``).
    public func run(now: Date = Date(), reconcile: Bool = false, progress: (@Sendable (IngestProgress) -> Void)? = nil) async throws -> RunSummary {
        guard shardResolved else { return try await resolvingShard(readOnly: false).run(now: now, reconcile: reconcile, progress: progress) }
        let started = ContinuousClock().now
        logger.info("run started")
        var (table, summary) = try await prepareTable()
        return try await withLease(table) { lease in
            var checkpoint = try await recover(&table, summary: &summary, lease: lease)
            progress?(IngestProgress(phase: .listing, objectsDone: 0, objectsTotal: 0, bytesDone: 0, bytesTotal: 0, rows: 0, badRecords: 0))
            let closed = try await reconciliation(table: table, checkpoint: checkpoint, asked: reconcile, now: now)
            let plan = try await classify(checkpoint: checkpoint, now: now, closed: closed)
            report(plan, into: &summary)
            metrics.backlog(plan.toRead, newestIngestedMillis: checkpoint.newestIngestedMillis)
            var pass = Pass(now: now, configuration: configuration)
            // An idle source (nothing to read) still moves its watermark, at most once an hour, so that its
            // runs keep listing only the open window: an empty snapshot carries the checkpoint, because the
            // table's history is the only place a checkpoint version becomes true.
            let target = PrefixLayout.hour(of: now) - configuration.lateArrivalHours
            pass.commitWhenIdle = plan.toRead.isEmpty && checkpoint.watermarkHour.map { target > $0 } ?? false
            try await process(plan.toRead, table: &table, checkpoint: &checkpoint, summary: &summary, pass: pass, lease: lease, progress: progress)
            // A stopped run has not read every late file: the reconciliation is not done.
            if let closed, !summary.stopped {
                let marker = JSONValue.object([
                    ("atMillis", .int(Int64(now.timeIntervalSince1970 * 1000))), ("hours", .string("\(closed.hours.lowerBound)-\(closed.hours.upperBound)")),
                    ("lateFiles", .int(Int64(summary.lateFiles))),
                ])
                try await table.io.write(reconciledMarker(table), bytes: Array(marker.serialized().utf8))
                // Said even when nothing was late: "the last reconciliation found nothing" is worth knowing.
                logger.info(
                    "reconciled the closed hours \(IngestStatus.hourText(closed.hours.lowerBound)) to \(IngestStatus.hourText(closed.hours.upperBound)): \(summary.lateFiles) late files (policy \(configuration.lateFiles.rawValue))",
                    metadata: ["late_files": "\(summary.lateFiles)", "closed_hours": "\(closed.hours.count)"])
            }
            finish(&summary, started: started, plan: plan, checkpoint: checkpoint)
            return summary
        }
    }

    /// Reads every object of the hours `from ... to` that is not in the table yet, exactly once, whatever
    /// the watermark: the checkpoint decides for open hours, the archive of what was ingested for closed
    /// ones. For hours a `startAtHour` skipped, data that landed in a closed hour without a reconciliation,
    /// or a replay. Does not move the watermark.
    ///
    /// ```swift
    /// let summary = try await ingestor.backfill(from: try IngestJob.hour("2026-11-01T00"), to: try IngestJob.hour("2026-11-07T23"))
    /// print(summary.objectsIngested, summary.lateFileKeys)
    /// ```
    public func backfill(from: Int32, to: Int32, now: Date = Date(), progress: (@Sendable (IngestProgress) -> Void)? = nil) async throws -> RunSummary {
        guard shardResolved else { return try await resolvingShard(readOnly: false).backfill(from: from, to: to, now: now, progress: progress) }
        guard from <= to else { throw IngestError(.invalidConfiguration, "backfill: the first hour \(from) is after the last \(to)") }
        let started = ContinuousClock().now
        var (table, summary) = try await prepareTable()
        return try await withLease(table) { lease in
            var checkpoint = try await recover(&table, summary: &summary, lease: lease)
            if let unarchived = checkpoint.unarchivedThroughHour, from <= unarchived {
                throw IngestError(
                    .invalidConfiguration,
                    "backfill: the hours up to \(IngestStatus.hourText(unarchived)) were folded by a release that kept no archive of what it ingested, so a backfill cannot tell which of their objects the table has; backfill from \(IngestStatus.hourText(unarchived + 1)) on")
            }
            let closed = ClosedHours(hours: from...to, archived: try await archived(table, hours: from...to), withOpenWindow: false)
            var everyLateFile = configuration
            everyLateFile.lateFiles = .ingest
            let backfill = Ingestor(configuration: everyLateFile, catalog: catalog, source: source, logger: logger)
            let plan = try await backfill.classify(checkpoint: checkpoint, now: now, closed: closed)
            report(plan, into: &summary)
            var pass = Pass(now: now, configuration: configuration)
            pass.advancesWatermark = false
            try await process(plan.toRead, table: &table, checkpoint: &checkpoint, summary: &summary, pass: pass, lease: lease, progress: progress)
            finish(&summary, started: started, plan: plan, checkpoint: checkpoint)
            return summary
        }
    }

    /// The end of a pass: its time, the backlog it leaves (nothing, unless it was stopped), the log line.
    func finish(_ summary: inout RunSummary, started: ContinuousClock.Instant, plan: IngestPlan, checkpoint: SourceCheckpoint) {
        let elapsed = ContinuousClock().now - started
        summary.totalSeconds = elapsed.seconds
        metrics.runDuration.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        let left = summary.stopped ? plan.toRead.filter { checkpoint.recorded($0.key)?.version != $0.version } : []
        metrics.backlog(left, newestIngestedMillis: checkpoint.newestIngestedMillis)
        let stopped = summary.stopped ? " (stopped on request; \(left.count) objects left for the next run)" : ""
        let damaged = summary.damagedObjects > 0 ? ", \(summary.damagedObjects) damaged objects left out" : ""
        logger.info(
            "run finished: \(summary.objectsIngested) objects, \(summary.rows) rows, \(summary.badRecords) bad records\(damaged), \(summary.snapshotIDs.count) commits in \(String(format: "%.1f", summary.totalSeconds)) s\(stopped)",
            metadata: [
                "objects": "\(summary.objectsIngested)", "rows": "\(summary.rows)", "bad_records": "\(summary.badRecords)",
                "damaged_objects": "\(summary.damagedObjects)",
                "commits": "\(summary.snapshotIDs.count)", "seconds": "\(String(format: "%.3f", summary.totalSeconds))",
                "stopped": "\(summary.stopped)",
            ])
    }

    /// Puts what a pass's classification found into its summary and the logs.
    func report(_ plan: IngestPlan, into summary: inout RunSummary) {
        summary.objectsListed = plan.objectsListed
        summary.objectsAlreadyIngested = plan.alreadyIngested
        summary.objectsChanged = plan.changed.map(\.key)
        summary.unmatchedKeys = plan.unmatchedKeys.count
        summary.prefixesListed = plan.listedPrefixes.count
        summary.closedHoursListed = plan.closedHoursListed
        summary.lateFiles = plan.lateFiles.count
        summary.lateFileKeys = Array(plan.lateFiles.prefix(10).map(\.key))
        for object in plan.changed {
            logger.warning(
                "\(object.location) changed after it was ingested (ETag or size differ); policy: \(configuration.changedObjectPolicy.rawValue)",
                metadata: ["object": "\(object.location)"])
        }
        if !plan.lateFiles.isEmpty {
            let keys = plan.lateFiles.prefix(10).map(\.key).joined(separator: ", ")
            logger.warning("\(plan.lateFiles.count) late files in closed hours (policy \(configuration.lateFiles.rawValue)): \(keys)\(plan.lateFiles.count > 10 ? ", ..." : "")")
        }
        for key in plan.unmatchedKeys.prefix(10) {
            logger.warning("\(key) does not follow the layout \(source.layout.name); not read", metadata: ["object": "\(key)"])
        }
    }

    /// What every pass does first: validates the configuration, loads (or creates) the table, and adds the
    /// rescue column when the policy needs it.
    func prepareTable() async throws -> (Table, RunSummary) {
        try configuration.validate()
        var summary = RunSummary(table: configuration.table.description, source: source.identity, shard: configuration.shard.description)
        var table = try await loadOrCreateTable()
        if configuration.driftPolicy == .rescue, table.metadata.currentSchema.field(named: RescuedData.column) == nil {
            var update = SchemaUpdate(table.metadata)
            try update.addColumn(RescuedData.column, .primitive(.string), doc: "input fields the schema lacks, and values that did not fit, as JSON")
            table = try await update.commit(table, catalog: catalog)
            summary.schemaChanges += update.changes
        }
        // Checked before anything is read: a partition source missing from the schema is a configuration error.
        let layout = try ColumnLayout(schema: table.metadata.currentSchema)
        _ = try PartitionRouter(spec: table.metadata.defaultSpec, layout: layout)
        if configuration.format == .text, TextRecordParser.lineColumn(in: layout) == nil {
            throw IngestError(.invalidConfiguration, "format 'text' puts each line in the schema's first string column, and table \(configuration.table) has none")
        }
        return (table, summary)
    }

    /// Under the lease: reloads the table (another runner may have committed before we got the lease) and
    /// recovers the checkpoint: the table decides which version is true; later versions are a crashed run's,
    /// and their data files are deleted, once none of their commits can land any more (``settle(_:lease:)``).
    func recover(_ table: inout Table, summary: inout RunSummary, lease: LeaseKeeper?, checkingLayout: Bool = true) async throws -> SourceCheckpoint {
        var recovery: CheckpointStore.Recovery
        var passes = 0
        repeat {
            // An unsettled commit found in the table is recovered from: once, as the record of a commit the
            // table has is deleted then; a few times at most whatever happens.
            passes += 1
            guard passes <= 3 else {
                throw IcebergError(
                    .commitStateUnknown, "recovering \(configuration.table): a commit whose outcome was unknown kept being found in the table, and recovering from it kept failing")
            }
            table = try await catalog.loadTable(configuration.table)
            // Under the lease: a rescaling that landed since this runner resolved its shard ends it here.
            if checkingLayout { try checkLayout(table) }
            let store = checkpointStore(for: table)
            let current = table
            recovery = try await store.recover(
                committed: committedCheckpoint(table), lateArrivalHours: configuration.lateArrivalHours, tableSnapshots: Set(current.metadata.snapshots.map(\.id)),
                unsettled: { commits in try await self.settle(commits, lease: lease) },
                withoutRecord: { versions in try await self.checkRecordNotLost(current, store: store, versions: versions) })
        } while recovery.landedLate  // the table took an unsettled commit: recover from it
        // A fence (``settle(_:lease:)``) may have moved the table on: the run commits on the table as it is.
        if !recovery.discardedVersions.isEmpty { table = try await catalog.loadTable(configuration.table) }
        for orphan in recovery.orphanDataFiles {
            do {
                try await table.io.delete(orphan)
                summary.orphanFilesDeleted += 1
            } catch {
                logger.warning("could not delete orphan data file \(orphan): \(error)")
            }
        }
        // The dead commits' manifests and manifest lists: every file of a commit is named with its snapshot id.
        for id in recovery.orphanSnapshotIDs {
            for prefix in SnapshotFiles.prefixes(tableLocation: table.metadata.location, snapshotID: id) {
                do {
                    for file in try await table.io.list(prefix: prefix) {
                        try await table.io.delete(file.location)
                        summary.orphanFilesDeleted += 1
                    }
                } catch {
                    logger.warning("could not delete the manifests of dead commit \(id) under \(prefix): \(error)")
                }
            }
        }
        if !recovery.discardedVersions.isEmpty {
            logger.notice(
                "discarded checkpoint versions \(recovery.discardedVersions) ahead of the table; deleted \(summary.orphanFilesDeleted) orphan data and manifest files")
        }
        if !recovery.keptSnapshotIDs.isEmpty {
            logger.warning(
                "snapshots \(recovery.keptSnapshotIDs) of this source are in the table's history but not on its branch (rolled back?): their objects are read again, and their files stay until the snapshots expire",
                metadata: ["snapshots": "\(recovery.keptSnapshotIDs)"])
        }
        var checkpoint = recovery.checkpoint
        if let start = configuration.startAtHour { checkpoint.start(at: start) }
        return checkpoint
    }

    /// Settles commits that may still land (``CheckpointStore/UnsettledCommit``): true when the table has one
    /// of them on its current branch (its snapshot, or its checkpoint version or a later one for this shard);
    /// otherwise fences them and returns false. The fence is an empty snapshot committed on the table as it
    /// stands: it moves the branch every lost attempt required to be where it was, so none of them can land
    /// after it, and their versions and files can go. A lost attempt that lands first makes the fence's swap
    /// conflict, and the fence's next try, rebuilt on the table with it, finds it (`beforeCatalogSwap`, also
    /// when the fence's own answer was lost before). The lease is checked before the fence's swap and after
    /// it, since the versions are discarded next. A fence that fails (its outcome unknown, or conflicts past
    /// its retries) fails the recovery with nothing discarded; the next run settles again.
    func settle(_ commits: [CheckpointStore.UnsettledCommit], lease: LeaseKeeper?) async throws -> Bool {
        struct Landed: Error { let commit: CheckpointStore.UnsettledCommit }
        let source = source.identity, shard = configuration.shard
        let versions = commits.map { "v\($0.version)\($0.snapshotID.map { " (snapshot \($0))" } ?? "")" }.joined(separator: ", ")
        let landed: @Sendable (Table) -> CheckpointStore.UnsettledCommit? = { table in
            let branch = Set(table.metadata.ancestors().map(\.id))
            let committedVersion = self.committedCheckpoint(table)?.version ?? 0
            return commits.first { commit in commit.version <= committedVersion || commit.snapshotID.map(branch.contains) == true }
        }
        do {
            let table = try await catalog.loadTable(configuration.table)
            if let commit = landed(table) { throw Landed(commit: commit) }
            var fence = FastAppend(table: table, catalog: catalog)
            fence.mergeManifests = false
            fence.summaryProperties = ["iceberg-ingest.fence": "\(source) \(shard): checkpoint \(versions), whose commits may still have landed"]
            fence.retryDefaults = IngestConfiguration.commitRetryDefaults
            fence.beforeCatalogSwap = { base in
                if let commit = landed(base) { throw Landed(commit: commit) }
                if let lease {
                    try await lease.renewIfDue()
                    try lease.check()
                }
            }
            _ = try await fence.commit()
            try lease?.check()
            logger.notice(
                "checkpoint \(versions), whose commits may still have landed, is not in the table: fenced it with empty snapshot \(fence.snapshotID), so that it can no longer land, and discards it",
                metadata: ["snapshot": "\(fence.snapshotID)", "checkpoint_versions": "\(commits.map(\.version))"])
            return false
        } catch {
            // Found landed, possibly under a fence whose own answer was lost (then wrapped as unknown).
            var cause: (any Error)? = error
            while let current = cause {
                if let found = current as? Landed {
                    logger.notice(
                        "checkpoint v\(found.commit.version), whose commit may still have landed, is in the table: recovering from it",
                        metadata: ["checkpoint_version": "\(found.commit.version)"])
                    return true
                }
                cause = (current as? IcebergError)?.cause
            }
            throw error
        }
    }

    /// With no record of this shard on the table's history, the stored versions must all be ahead of it (a
    /// first run that crashed before its commit): recovery would discard them and start over. A version past
    /// the first one is only ever written after the one before it committed, and a first version whose data
    /// files are in the table, or were rewritten by a compaction the table's history (or our expiry's saved
    /// rewrites) knows, committed too: then the record was expired, and starting over would read every object
    /// again and delete the last commit's files as a crashed run's. That stops the run instead.
    private func checkRecordNotLost(_ table: Table, store: CheckpointStore, versions: [Int64]) async throws {
        guard let newest = versions.last else { return }
        var committedFiles = 0
        if newest == 1, let first = try? await store.load(version: 1) {
            // Its files: those it wrote, and (from its lineage) Parquet inputs it registered where they landed.
            var pending = Set(first.pendingDataFiles)
            for entry in (try? await store.listLineage(upTo: 1)) ?? [] {
                if let lineage = try? await store.loadLineage(entry) { pending.formUnion(lineage.dataFiles) }
            }
            committedFiles = try await table.liveDataFiles().filter { pending.contains($0.filePath) }.count
            if committedFiles == 0, !pending.isEmpty {
                let history = try await RewriteHistory.load(table)
                committedFiles = pending.filter { !history.groups(removing: $0).isEmpty }.count
            }
        }
        guard newest > 1 || committedFiles > 0 else { return }
        let evidence = newest > 1
            ? "its checkpoint files reach version \(newest), written only after version \(newest - 1) committed"
            : "\(committedFiles) data files of its checkpoint version 1 are in the table or were compacted in it"
        throw IngestError(
            .checkpointRecordLost,
            "table \(configuration.table) has no checkpoint record of source \(source.identity) shard \(configuration.shard) on its history, "
                + "but \(evidence) (under \(store.directory)): the snapshot that carried the record was expired, by an engine that does not keep "
                + "it (our expire-snapshots and upkeep keep it), or the table was dropped and created again at the same location, or rolled back "
                + "to before this shard's first commit. Starting over would ingest every object again, so the run stops. Restore the table's "
                + "metadata from before that, or, to start over on purpose, move the shard's checkpoint folder away.")
    }

    /// Reads `objects` in batches (``PassReader``) and commits each with the checkpoint
    /// (``CheckpointedCommit``); `table`, `checkpoint` and `summary` follow each commit.
    func process(
        _ objects: [SourceObject], table: inout Table, checkpoint: inout SourceCheckpoint, summary: inout RunSummary, pass: Pass,
        lease: LeaseKeeper, progress: (@Sendable (IngestProgress) -> Void)?
    ) async throws {
        // The local spool for data files being written (file system calls stay off the cooperative pool):
        // private to this user (0700), named with this process's id so that a later run removes it if this
        // process dies without cleaning up.
        let spool = try await BlockingExecutor.run { () throws -> String in
            Self.removeDeadSpools(logger: logger)
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent("\(Self.spoolPrefix)\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.lowercased())").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            return path
        }
        var reader = try PassReader(ingestor: self, objects: objects, table: table, pass: pass, lease: lease, spool: spool)
        let store = checkpointStore(for: table)
        let rowsBefore = summary.rows, badBefore = summary.badRecords
        var rowsCommitted = 0, badCommitted = 0
        func report(_ phase: IngestProgress.Phase, _ reader: PassReader) {
            progress?(IngestProgress(
                phase: phase, objectsDone: reader.objectsDone, objectsTotal: objects.count, bytesDone: reader.bytesDone,
                bytesTotal: reader.bytesTotal, rows: rowsBefore + rowsCommitted + reader.pendingRows,
                badRecords: badBefore + badCommitted + reader.pendingBadRecords))
        }
        do {
            while let batch = try await reader.nextBatch(onObject: { report(.reading, $0) }) {
                report(.committing, reader)
                try await beforeCommit?(table)
                let commit = CheckpointedCommit(
                    ingestor: self, store: store, lease: lease, snapshot: pass.snapshot, now: pass.now,
                    closesRun: batch.isLast && pass.snapshot == .append && pass.advancesWatermark)
                let outcome = try await commit.run(batch, table: table, checkpoint: checkpoint)
                table = outcome.table
                checkpoint = outcome.checkpoint
                summary.add(outcome, batch: batch, snapshot: pass.snapshot)
                let reports = batch.objects.map(\.report)
                metrics.committed(
                    objects: reports.filter { $0.damage == nil }.count, bytes: reports.reduce(0) { $0 + $1.bytesRead }, rows: reports.reduce(0) { $0 + $1.counts.rows },
                    badRecords: reports.reduce(0) { $0 + $1.counts.badRecords }, damagedObjects: reports.filter { $0.damage != nil }.count)
                rowsCommitted = summary.rows - rowsBefore
                badCommitted = summary.badRecords - badBefore
                reader.committed(table)
            }
        } catch {
            await reader.abandon()
            await Self.removeSpool(spool)
            throw error
        }
        await Self.removeSpool(spool)
        if reader.stopped {
            summary.stopped = true
            logger.notice("stopped on request after \(reader.objectsDone) of \(objects.count) objects; what was read is committed, the rest is left for the next run")
        }
        summary.encodeSeconds += reader.discardedEncodeSeconds + reader.pipeline.encodeSeconds
        summary.checkpointVersion = checkpoint.version
        summary.watermarkHour = checkpoint.watermarkHour
        progress?(IngestProgress(
            phase: .done, objectsDone: objects.count, objectsTotal: objects.count, bytesDone: reader.bytesDone, bytesTotal: reader.bytesTotal,
            rows: summary.rows, badRecords: summary.badRecords))
    }

    static let spoolPrefix = "iceberg-ingest-spool-"

    /// Removes spool folders of processes that are gone (killed, crashed) from the temporary directory.
    static func removeDeadSpools(logger: Logger) {
        let temporary = FileManager.default.temporaryDirectory
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: temporary.path) else { return }
        for name in names where name.hasPrefix(spoolPrefix) {
            guard let pid = Int32(name.dropFirst(spoolPrefix.count).prefix { $0 != "-" }), !LeaseStore.isRunning(pid: pid, start: nil) else { continue }
            // Also untouched for ten minutes: a process of another PID namespace sharing this folder is never cut short.
            let modified = (try? FileManager.default.attributesOfItem(atPath: temporary.appendingPathComponent(name).path))?[.modificationDate] as? Date
            guard let modified, Date().timeIntervalSince(modified) > 600 else { continue }
            if (try? FileManager.default.removeItem(at: temporary.appendingPathComponent(name))) != nil {
                logger.notice("removed the spool folder \(name) of process \(pid), which is gone")
            }
        }
    }

    private static func removeSpool(_ spool: String) async {
        _ = try? await BlockingExecutor.run { try? FileManager.default.removeItem(atPath: spool) }
    }
}

extension RunSummary {
    /// Adds a landed commit: its snapshot, files and timings, and the reports of its objects.
    mutating func add(_ outcome: CheckpointedCommit.Outcome, batch: PendingBatch, snapshot: SnapshotKind) {
        for item in batch.objects { add(item.report) }
        schemaChanges += batch.evolution.changes
        if case .overwrite(let replaced) = snapshot { dataFilesReplaced += replaced.count }
        snapshotIDs.append(outcome.snapshotID)
        dataFiles += outcome.dataFiles.count
        dataBytes += outcome.dataFiles.reduce(0) { $0 + $1.fileSizeInBytes }
        encodeSeconds += outcome.encodeSeconds
        uploadSeconds += outcome.uploadSeconds
        commitSeconds += outcome.commitSeconds
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
