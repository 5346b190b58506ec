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
    public let configuration: IngestConfiguration
    public let catalog: any Catalog
    public let source: any IngestSource
    public var logger: Logger

    /// - Parameter logger: where the run logs (created tables, commits, retries, recoveries); silent by default.
    public init(
        configuration: IngestConfiguration, catalog: any Catalog, source: any IngestSource,
        logger: Logger = Logger(label: "iceberg-ingest", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.catalog = catalog
        self.source = source
        self.logger = logger
    }

    // MARK: The table and the checkpoint

    /// Loads the table, creating it (and its namespace) from the configuration when missing.
    public func loadOrCreateTable() async throws -> Table {
        if try await catalog.tableExists(configuration.table) { return try await catalog.loadTable(configuration.table) }
        let namespace = configuration.table.namespace
        if !(try await catalog.listNamespaces()).contains(namespace) {
            do { try await catalog.createNamespace(namespace) } catch let error as IcebergError where error.code == .alreadyExists {}
        }
        do {
            let table = try await catalog.createTable(
                configuration.table, schema: configuration.schema, spec: configuration.partitionSpec, sortOrder: .unsorted,
                properties: configuration.tableProperties, location: configuration.tableLocation)
            logger.info("created table \(configuration.table) at \(table.metadata.location)")
            return table
        } catch let error as IcebergError where error.code == .alreadyExists {
            // Another worker created it first.
            return try await catalog.loadTable(configuration.table)
        }
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
        return checkpoint
    }

    // MARK: Plan

    /// What a run would read now, without reading anything but the listing. Creates nothing: for a table
    /// that does not exist yet, every listed object is new.
    public func plan(now: Date = Date()) async throws -> IngestPlan {
        try configuration.validate()
        let table = try await catalog.tableExists(configuration.table) ? try await catalog.loadTable(configuration.table) : nil
        return try await classify(checkpoint: try await openCheckpoint(table), now: now)
    }

    /// Sorts what the source lists into what to read and what to skip: the one place `plan` and `run`
    /// decide, so they agree object for object.
    func classify(checkpoint: SourceCheckpoint, now: Date) async throws -> IngestPlan {
        let listing = try await source.list(firstOpenHour: checkpoint.firstOpenHour, now: now)
        var plan = IngestPlan(listedPrefixes: listing.listedPrefixes, unmatchedKeys: listing.unmatchedKeys, firstOpenHour: checkpoint.firstOpenHour)
        for object in listing.objects where configuration.shard.owns(prefix: object.partitionPrefix) {
            plan.objectsListed += 1
            let version = object.version
            switch checkpoint.status(of: version, hour: object.hour) {
            case .new: plan.toRead.append(object)
            case .ingested, .belowHorizon: plan.alreadyIngested += 1
            case .changed:
                plan.changed.append(object)
                if configuration.changedObjectPolicy == .reingest { plan.toRead.append(object) }
            }
        }
        return plan
    }

    // MARK: Run

    /// One pass: take this shard's lease, recover, list, read what is new, write, commit (in batches),
    /// let go of the lease. Returns what was done. Throws ``IngestError`` (bad record under policy `fail`,
    /// unreadable input), ``CheckpointError`` (`.leaseHeld`: another runner works on this shard; `.leaseLost`:
    /// this one was paused past its lease), ``IcebergError`` or ``S3Error``; what was committed before the
    /// error stays committed and is not read again.
    public func run(now: Date = Date(), progress: (@Sendable (IngestProgress) -> Void)? = nil) async throws -> RunSummary {
        let started = ContinuousClock().now
        var (table, summary) = try await prepareTable()
        return try await withLease(table) { lease in
            var checkpoint = try await recover(&table, summary: &summary)
            progress?(IngestProgress(phase: .listing, objectsDone: 0, objectsTotal: 0, bytesDone: 0, bytesTotal: 0, rows: 0, badRecords: 0))
            let plan = try await classify(checkpoint: checkpoint, now: now)
            summary.objectsListed = plan.objectsListed
            summary.objectsAlreadyIngested = plan.alreadyIngested
            summary.objectsChanged = plan.changed.map(\.key)
            summary.unmatchedKeys = plan.unmatchedKeys.count
            summary.prefixesListed = plan.listedPrefixes.count
            for object in plan.changed {
                logger.warning("\(object.location) changed after it was ingested (ETag or size differ); policy: \(configuration.changedObjectPolicy.rawValue)")
            }
            for key in plan.unmatchedKeys.prefix(10) { logger.warning("\(key) does not follow the layout \(source.layout.name); not read") }
            try await process(
                plan.toRead, table: &table, checkpoint: &checkpoint, summary: &summary, pass: Pass(now: now, configuration: configuration),
                lease: lease, progress: progress)
            summary.totalSeconds = (ContinuousClock().now - started).seconds
            return summary
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
        _ = try PartitionRouter(spec: table.metadata.defaultSpec, layout: try ColumnLayout(schema: table.metadata.currentSchema))
        return (table, summary)
    }

    /// Under the lease: reloads the table (another runner may have committed before we got the lease) and
    /// recovers the checkpoint: the table decides which version is true; later versions are a crashed run's,
    /// and their data files are deleted.
    func recover(_ table: inout Table, summary: inout RunSummary) async throws -> SourceCheckpoint {
        table = try await catalog.loadTable(configuration.table)
        let store = checkpointStore(for: table)
        let recovery = try await store.recover(committed: committedCheckpoint(table), lateArrivalHours: configuration.lateArrivalHours)
        for orphan in recovery.orphanDataFiles {
            do {
                try await table.io.delete(orphan)
                summary.orphanFilesDeleted += 1
            } catch {
                logger.warning("could not delete orphan data file \(orphan): \(error)")
            }
        }
        if !recovery.discardedVersions.isEmpty {
            logger.notice("discarded checkpoint versions \(recovery.discardedVersions) ahead of the table; deleted \(summary.orphanFilesDeleted) orphan data files")
        }
        return recovery.checkpoint
    }

    /// Reads `objects` in batches (``PassReader``) and commits each with the checkpoint
    /// (``CheckpointedCommit``); `table`, `checkpoint` and `summary` follow each commit.
    func process(
        _ objects: [SourceObject], table: inout Table, checkpoint: inout SourceCheckpoint, summary: inout RunSummary, pass: Pass,
        lease: LeaseKeeper, progress: (@Sendable (IngestProgress) -> Void)?
    ) async throws {
        // The local spool for data files being written (file system calls stay off the cooperative pool).
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("iceberg-ingest-\(UUID().uuidString.lowercased())").path
        try await BlockingExecutor.run { try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true) }
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
                let commit = CheckpointedCommit(
                    ingestor: self, store: store, lease: lease, snapshot: pass.snapshot, now: pass.now,
                    closesRun: batch.isLast && pass.snapshot == .append)
                let outcome = try await commit.run(batch, table: table, checkpoint: checkpoint)
                table = outcome.table
                checkpoint = outcome.checkpoint
                summary.add(outcome, batch: batch, snapshot: pass.snapshot)
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
        summary.encodeSeconds += reader.discardedEncodeSeconds + reader.pipeline.encodeSeconds
        summary.checkpointVersion = checkpoint.version
        summary.watermarkHour = checkpoint.watermarkHour
        progress?(IngestProgress(
            phase: .done, objectsDone: objects.count, objectsTotal: objects.count, bytesDone: reader.bytesDone, bytesTotal: reader.bytesTotal,
            rows: summary.rows, badRecords: summary.badRecords))
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
