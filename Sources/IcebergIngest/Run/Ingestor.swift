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

    // MARK: Plan

    /// What a run would read now, without reading anything but the listing.
    public func plan(now: Date = Date()) async throws -> IngestPlan {
        let table = try await loadOrCreateTable()
        let committed = committedCheckpoint(table)
        let checkpoint =
            if let committed, committed.version > 0 {
                try await checkpointStore(for: table).load(version: committed.version)
            } else {
                SourceCheckpoint(source: source.identity, shard: configuration.shard, lateArrivalHours: configuration.lateArrivalHours)
            }
        return try await classify(checkpoint: checkpoint, now: now)
    }

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

    /// One pass: recover, list, read what is new, write, commit (in batches). Returns what was done.
    /// Throws ``IngestError`` (bad record under policy `fail`, unreadable input), ``IcebergError`` or
    /// ``S3Error``; what was committed before the error stays committed and is not read again.
    public func run(now: Date = Date(), progress: (@Sendable (IngestProgress) -> Void)? = nil) async throws -> RunSummary {
        let started = ContinuousClock().now
        var (table, checkpoint, summary) = try await prepare()
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
            progress: progress)
        summary.totalSeconds = (ContinuousClock().now - started).seconds
        return summary
    }

    /// What every pass does first: validates the configuration, loads (or creates) the table, adds the
    /// rescue column when the policy needs it, and recovers the checkpoint (the table decides which version
    /// is true; later versions are a crashed run's, and their data files are deleted).
    func prepare() async throws -> (Table, SourceCheckpoint, RunSummary) {
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
        return (table, recovery.checkpoint, summary)
    }

    /// How a pass reads and commits: a run appends new objects in batches; a reprocessing reads objects
    /// again under an evolved schema and replaces their data files in one overwrite commit.
    struct Pass {
        var now: Date
        /// The configuration the objects are parsed with (a reprocessing parses with `add-columns`).
        var configuration: IngestConfiguration
        /// Schema changes committed with the first commit (a reprocessing's evolution).
        var schemaUpdate: SchemaUpdate?
        /// Data files the (single) commit removes; nil for an append.
        var replacing: [String]?
        var isReprocess: Bool { replacing != nil }
    }

    /// Reads `objects`, writes their rows and commits them with the checkpoint (see ``run(now:progress:)``).
    func process(
        _ objects: [SourceObject], table: inout Table, checkpoint: inout SourceCheckpoint, summary: inout RunSummary, pass: Pass,
        progress: (@Sendable (IngestProgress) -> Void)?
    ) async throws {
        let configuration = pass.configuration
        let clock = ContinuousClock()
        let store = checkpointStore(for: table)
        // The local spool for data files being written (file system calls stay off the cooperative pool).
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("iceberg-ingest-\(UUID().uuidString.lowercased())").path
        try await BlockingExecutor.run { try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true) }
        let removeSpool: @Sendable () async -> Void = { _ = try? await BlockingExecutor.run { try? FileManager.default.removeItem(atPath: spool) } }
        var writerOptions = PartitionedDataWriter.Options()
        writerOptions.targetFileSizeBytes = configuration.targetFileSizeBytes
        writerOptions.parquet.zstdLevel = configuration.zstdLevel
        // Schema changes decided by this pass (add-columns, an evolution) ride in the next commit.
        var evolution = SchemaEvolution(base: table.metadata)
        if let update = pass.schemaUpdate { try evolution.apply(update) }
        var layout = try ColumnLayout(schema: evolution.schema)
        var pipeline = EncodingPipeline(writer: PartitionedDataWriter(
            layout: layout, router: try PartitionRouter(spec: table.metadata.defaultSpec, layout: layout), options: writerOptions, spoolDirectory: spool))

        let total = objects.reduce(Int64(0)) { $0 + $1.size }
        let commitEveryObjects = pass.isReprocess ? Int.max : configuration.commitEveryObjects
        let commitEveryBytes = pass.isReprocess ? Int64.max : configuration.commitEveryBytes
        var pending: [PendingObject] = []
        var pendingBytes: Int64 = 0
        var bytesDone: Int64 = 0
        var discardedEncodeSeconds = 0.0
        let context = CommitContext(store: store, spool: spool, now: pass.now, replacing: pass.replacing)
        var reader = PrefetchingReader(source: source, objects: objects, chunkBytes: configuration.readChunkBytes, depth: configuration.prefetchObjects)
        var index = 0
        do {
            while index < objects.count {
                let object = objects[index]
                let parser = ObjectParser(object: object, sourceIndex: index, layout: layout, configuration: configuration, pipeline: pipeline)
                var item = PendingObject(object: object, index: index)
                let readStarted = clock.now
                var stream = try await reader.next()
                item.readSeconds += (clock.now - readStarted).seconds
                while let chunk = stream.chunk {
                    item.bytesRead += Int64(chunk.count)
                    try await BlockingExecutor.run { try parser.feed(chunk) }
                    let waitStarted = clock.now
                    stream = try await reader.nextChunk(of: stream)
                    item.readSeconds += (clock.now - waitStarted).seconds
                }
                try await BlockingExecutor.run { try parser.finish() }

                // add-columns: fields the schema lacks evolve it, and the batch is parsed again under it.
                if configuration.driftPolicy == .addColumns, let update = try evolution.update(samples: parser.samples, widenings: parser.widenings) {
                    reader.cancel()
                    let old = pipeline
                    discardedEncodeSeconds += try await BlockingExecutor.run {
                        try? old.drain()
                        old.writer.discard()
                        return old.encodeSeconds
                    }
                    try evolution.apply(update)
                    logger.notice("schema evolves (add-columns): \(update.changes.joined(separator: "; ")); parsing \(pending.count + 1) objects again")
                    layout = try ColumnLayout(schema: evolution.schema)
                    pipeline = EncodingPipeline(writer: PartitionedDataWriter(
                        layout: layout, router: try PartitionRouter(spec: table.metadata.defaultSpec, layout: layout), options: writerOptions,
                        spoolDirectory: spool))
                    index -= pending.count
                    bytesDone -= pendingBytes
                    pending = []
                    pendingBytes = 0
                    reader = PrefetchingReader(
                        source: source, objects: Array(objects[index...]), chunkBytes: configuration.readChunkBytes, depth: configuration.prefetchObjects)
                    continue
                }
                // Records held back for a widening that did not come are bad after all.
                try await BlockingExecutor.run { try parser.applyDeferred() }
                item.take(parser)
                pending.append(item)
                pendingBytes += object.size
                bytesDone += object.size
                index += 1
                let rowsSoFar = summary.rows + pending.reduce(0) { $0 + $1.counts.rows }
                let badSoFar = summary.badRecords + pending.reduce(0) { $0 + $1.counts.badRecords }
                progress?(IngestProgress(
                    phase: .reading, objectsDone: index, objectsTotal: objects.count, bytesDone: bytesDone, bytesTotal: total,
                    rows: rowsSoFar, badRecords: badSoFar))
                let last = index == objects.count
                if last || pending.count >= commitEveryObjects || pendingBytes >= commitEveryBytes {
                    progress?(IngestProgress(
                        phase: .committing, objectsDone: index, objectsTotal: objects.count, bytesDone: bytesDone, bytesTotal: total,
                        rows: rowsSoFar, badRecords: badSoFar))
                    table = try await commit(
                        pending, pipeline: pipeline, table: table, evolution: evolution, checkpoint: &checkpoint, closesRun: last && !pass.isReprocess,
                        context: context, summary: &summary)
                    for item in pending { item.fold(into: &summary) }
                    summary.schemaChanges += evolution.changes
                    evolution = SchemaEvolution(base: table.metadata)
                    pending = []
                    pendingBytes = 0
                }
            }
        } catch {
            reader.cancel()
            let current = pipeline
            try? await BlockingExecutor.run {
                try? current.drain()
                current.writer.discard()
            }
            await removeSpool()
            throw error
        }
        await removeSpool()
        summary.encodeSeconds += discardedEncodeSeconds
        summary.encodeSeconds += pipeline.encodeSeconds
        summary.checkpointVersion = checkpoint.version
        summary.watermarkHour = checkpoint.watermarkHour
        progress?(IngestProgress(
            phase: .done, objectsDone: objects.count, objectsTotal: objects.count, bytesDone: bytesDone, bytesTotal: total,
            rows: summary.rows, badRecords: summary.badRecords))
    }

    struct CommitContext {
        let store: CheckpointStore
        let spool: String
        let now: Date
        /// Data files the commit replaces (a reprocessing), or nil for an append.
        let replacing: [String]?
    }

    /// An object read since the last commit, with what its parse found (folded into the summary once its
    /// commit lands, so that a batch parsed again is not counted twice).
    struct PendingObject {
        let object: SourceObject
        /// Its number in the pass (the spooled files record which numbers they hold).
        let index: Int
        var deadLetters: [BadRecord] = []
        /// Fields the schema lacked, with a sample value, and columns needing a wider type (for the lineage).
        var samples: [String: JSONValue] = [:]
        var widenings: [String: PrimitiveType] = [:]
        var registered: DataFile?
        var counts = ParseCounts()
        var badExamples: [String] = []
        var drift: [DriftFinding] = []
        var bytesRead: Int64 = 0
        var decompressed: Int64 = 0
        var readSeconds = 0.0
        var parseSeconds = 0.0

        init(object: SourceObject, index: Int) {
            self.object = object
            self.index = index
        }

        mutating func take(_ parser: ObjectParser) {
            deadLetters = parser.deadLetters
            registered = parser.registered
            counts = parser.counts
            badExamples = parser.badExamples
            drift = parser.drift
            samples = parser.samples
            widenings = parser.widenings
            decompressed = parser.decompressedBytes
            parseSeconds = Double(parser.parseNanos) / 1e9
        }

        func fold(into summary: inout RunSummary) {
            summary.objectsIngested += 1
            summary.bytesRead += bytesRead
            summary.bytesDecompressed += decompressed
            summary.readSeconds += readSeconds
            summary.parseSeconds += parseSeconds
            summary.lines += counts.lines
            summary.headerLines += counts.headerLines
            summary.rows += counts.rows
            summary.badRecords += counts.badRecords
            summary.deadLettered += deadLetters.count
            if registered != nil { summary.dataFilesRegistered += 1 }
            for (k, v) in counts.unknownFields { summary.unknownFields[k, default: 0] += v }
            for example in badExamples where summary.badRecordExamples.count < 20 { summary.badRecordExamples.append(example) }
            for finding in drift {
                if let i = summary.drift.firstIndex(where: { $0.kind == finding.kind && $0.field == finding.field }) {
                    summary.drift[i].count += finding.count
                    summary.drift[i].examples = Array((summary.drift[i].examples + finding.examples).prefix(3))
                } else {
                    summary.drift.append(finding)
                }
            }
        }
    }

    /// Closes the data files, saves the next checkpoint version (listing them as pending), uploads them and
    /// commits them with the checkpoint in one snapshot. The fail points mark each step for the crash tests.
    private func commit(
        _ objects: [PendingObject], pipeline: EncodingPipeline, table: Table, evolution: SchemaEvolution,
        checkpoint: inout SourceCheckpoint, closesRun: Bool, context: CommitContext, summary: inout RunSummary
    ) async throws -> Table {
        let registered = objects.compactMap(\.registered)
        let clock = ContinuousClock()
        let (spooled, closeSeconds) = try await BlockingExecutor.run {
            try pipeline.drain()
            let started = DispatchTime.now().uptimeNanoseconds
            let files = try pipeline.writer.finish()
            return (files, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        }
        // Closing files (their last row groups) is encoding too; the batches' share is added at the end.
        summary.encodeSeconds += closeSeconds

        // Name the data files, then save the checkpoint that lists them as pending: from here on a crash
        // leaves a version ahead of the table, and the next run deletes exactly these files.
        let spec = table.metadata.defaultSpec
        let base = table.metadata.properties["write.data.path"] ?? table.metadata.location + "/data"
        let locations = spooled.enumerated().map { index, file in
            let partitionPath = spec.isUnpartitioned ? "" : spec.partitionPath(file.partition) + "/"
            return "\(base)/\(partitionPath)\(UUID().uuidString.lowercased())-\(index).parquet"
        }
        let commitStarted = clock.now
        let snapshotID = FastAppend.newSnapshotID()
        var next = checkpoint
        next.version += 1
        next.pendingDataFiles = locations
        for object in objects.map(\.object) {
            // A reprocessed object below the horizon stays folded; one in the open window now names this snapshot.
            if context.replacing != nil, next.recorded(object.key) == nil { continue }
            next.record(object.version, hour: object.hour, snapshotID: snapshotID)
        }
        if closesRun {
            // Every listed object of the hours up to now has been read: hours older than the window close.
            next.advanceWatermark(to: PrefixLayout.hour(of: context.now) - configuration.lateArrivalHours)
        }
        let location = try await context.store.save(next)
        try await context.store.saveLineage(Self.lineage(
            of: objects, spooled: spooled, locations: locations, version: next.version, snapshotID: snapshotID, replacing: context.replacing))
        FailPoint.check("after-checkpoint")

        FailPoint.check("before-upload")
        let uploadStarted = clock.now
        let dataFiles = try await upload(spooled, to: locations, io: table.io, spec: spec)
        try await writeDeadLetters(objects, table: table)
        summary.uploadSeconds += (clock.now - uploadStarted).seconds
        FailPoint.check("after-upload")

        let record = CheckpointCommit(source: source.identity, shard: configuration.shard, version: next.version, watermarkHour: next.watermarkHour, location: location)
        var summaryProperties = record.summaryProperties
        summaryProperties["iceberg-ingest.objects"] = String(objects.count)
        let logger = self.logger
        let onRetry: @Sendable (Int, IcebergError) -> Void = { attempt, error in logger.notice("commit conflict, retry \(attempt): \(error.message)") }
        // On failure the saved version stays ahead of the table: the next run discards it and deletes the files.
        let committed: Table
        if let replacing = context.replacing {
            var rewrite = RewriteFiles(table: table, catalog: catalog, operation: .overwrite, snapshotID: snapshotID)
            rewrite.delete(paths: replacing)
            rewrite.add(contentsOf: dataFiles + registered)
            rewrite.additionalUpdates = evolution.updates
            rewrite.additionalRequirements = evolution.requirements
            rewrite.summaryProperties = summaryProperties
            rewrite.beforeCatalogSwap = { FailPoint.check("after-manifest") }
            rewrite.onRetry = onRetry
            committed = try await rewrite.commit()
            summary.dataFilesReplaced += replacing.count
        } else {
            var append = FastAppend(table: table, catalog: catalog, snapshotID: snapshotID)
            append.add(contentsOf: dataFiles + registered)
            append.additionalUpdates = evolution.updates
            append.additionalRequirements = evolution.requirements
            append.summaryProperties = summaryProperties
            append.beforeCatalogSwap = { FailPoint.check("after-manifest") }
            append.onRetry = onRetry
            committed = try await append.commit()
        }
        FailPoint.check("after-swap")
        checkpoint = next
        checkpoint.pendingDataFiles = []
        try? await context.store.deleteVersions(before: next.version)
        summary.commitSeconds += (clock.now - commitStarted).seconds
        summary.snapshotIDs.append(snapshotID)
        summary.dataFiles += dataFiles.count
        summary.dataBytes += dataFiles.reduce(0) { $0 + $1.fileSizeInBytes }
        logger.info("committed snapshot \(snapshotID): \(objects.count) objects, \(dataFiles.count) data files, checkpoint v\(next.version)")
        return committed
    }

    /// Which objects produced which data files in a commit, with the drift each object showed.
    static func lineage(
        of objects: [PendingObject], spooled: [SpooledDataFile], locations: [String], version: Int64, snapshotID: Int64, replacing: [String]?
    ) -> CommitLineage {
        var files = locations
        var filesBySource: [Int: [Int]] = [:]
        for (i, file) in spooled.enumerated() {
            for source in file.sources { filesBySource[source, default: []].append(i) }
        }
        let entries = objects.map { item in
            var indexes = filesBySource[item.index] ?? []
            if let registered = item.registered {
                indexes.append(files.count)
                files.append(registered.filePath)
            }
            var newFields: [String: String] = [:]
            for (path, sample) in item.samples {
                let text = sample.serialized()
                newFields[path] = text.utf8.count <= maxSampleBytes ? text : "null"
            }
            return ObjectLineage(
                object: item.object.version, hour: item.object.hour, dataFiles: indexes, newFields: newFields,
                widenings: item.widenings.mapValues(\.description))
        }
        return CommitLineage(
            version: version, snapshotID: snapshotID, kind: replacing == nil ? .ingest : .reprocess, dataFiles: files, objects: entries,
            replacedDataFiles: replacing ?? [])
    }

    /// A sample value of a new field kept in the lineage is at most this long (a longer one is kept as
    /// `null`: the evolution then reads the object to type the field).
    static let maxSampleBytes = 4096

    /// Uploads spooled files to their locations (under `<table>/data/<partition path>/`), a few at a time.
    private func upload(_ files: [SpooledDataFile], to locations: [String], io: any FileIO, spec: PartitionSpec) async throws -> [DataFile] {
        let limit = max(1, configuration.uploadConcurrency)
        return try await withThrowingTaskGroup(of: (Int, DataFile).self) { group in
            var results = [DataFile?](repeating: nil, count: files.count)
            var next = 0
            func start(_ index: Int) {
                let file = files[index]
                let location = locations[index]
                group.addTask {
                    try await io.write(location, contentsOfFile: file.localPath)
                    _ = try? await BlockingExecutor.run { try FileManager.default.removeItem(atPath: file.localPath) }
                    return (index, file.dataFile(at: location, spec: spec))
                }
            }
            while next < min(limit, files.count) { start(next); next += 1 }
            for try await (index, file) in group {
                results[index] = file
                if next < files.count { start(next); next += 1 }
            }
            return results.compactMap { $0 }
        }
    }

    /// Writes each object's bad records to `<dead-letter location>/<object key>.bad.jsonl`: one JSON object
    /// per record with the source, line, byte offset, field, reason and the record as read. The name is
    /// fixed per object, so a run repeated after a crash rewrites the same file.
    private func writeDeadLetters(_ objects: [PendingObject], table: Table) async throws {
        let base = configuration.deadLetterLocation ?? table.metadata.location + "/dead-letter"
        for item in objects where !item.deadLetters.isEmpty {
            let object = item.object, records = item.deadLetters
            var lines = ""
            for record in records {
                let fields: [(String, JSONValue)] = [
                    ("source", .string(record.source)), ("line", .int(Int64(record.line))), ("byte_offset", .int(record.byteOffset)),
                    ("field", record.field.map(JSONValue.string) ?? .null), ("reason", .string(record.reason)),
                    ("record", .string(String(decoding: record.raw, as: UTF8.self))),
                ]
                lines += JSONValue.object(fields).serialized() + "\n"
            }
            let name = object.key.hasPrefix("/") ? String(object.key.dropFirst()) : object.key
            try await table.io.write("\(base)/\(name).bad.jsonl", bytes: Array(lines.utf8))
        }
    }
}

/// What a run would do: the objects it would read and what it would skip.
public struct IngestPlan: Sendable {
    public var listedPrefixes: [String]
    public var unmatchedKeys: [String]
    /// The first hour listed (nil: the whole root, before any watermark).
    public var firstOpenHour: Int32?
    /// Objects found for this shard.
    public var objectsListed = 0
    /// New objects (and changed ones under the `reingest` policy), in time order.
    public var toRead: [SourceObject] = []
    /// Objects already ingested (or in closed hours).
    public var alreadyIngested = 0
    /// Objects changed since they were ingested.
    public var changed: [SourceObject] = []
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
