import Checkpoint
import Foundation
import IcebergCore

/// The exactly-once commit of one batch: the protocol ``CheckpointStore`` describes, step by step.
///
/// ```text
///  1. name the batch's data files and start closing them      a crash before 2: nothing was written
///     (their last row groups encode while 2 runs)
///  2. save checkpoint version v+1 listing them as pending,
///     and its lineage                                      -- after-checkpoint
///  3. upload each data file as it closes, then the dead
///     letters                                              -- before-upload / after-upload
///  4. commit one snapshot (append, or overwrite replacing
///     files) whose summary names checkpoint v+1            -- after-manifest (before the catalog swap)
///  5. trim checkpoint versions older than v+1 (the next    -- after-swap
///     run's recovery does it after a run's last commit)
/// ```
///
/// Until step 4's catalog swap the table still names version v: a crash anywhere before it leaves v+1
/// ahead of the table, and the next run's recovery discards it and deletes exactly its pending files (those
/// not uploaded yet are simply not there). A file that fails to close fails the commit the same way. After
/// the swap, v+1 is the truth. The fail points let the crash tests stop the process at each step.
///
/// Steps 1 to 3 overlap: the encoding is CPU work on this machine, the checkpoint and the uploads wait on
/// the object store, so a batch of several files commits in about the time of its encoding plus its last
/// upload rather than the sum of all three. Step 4 starts once every file has closed (its entries need each
/// file's metrics, not its upload): the manifest and manifest list are written while the last uploads run,
/// and the catalog swap waits for every upload and the dead letters. A crash before the swap leaves those
/// manifests to the next run's recovery, which deletes every file named with the dead commit's snapshot id.
///
/// All of it happens under the shard's lease (``LeaseKeeper``): checked with the store before step 2, and
/// again, with a third of its time to spare, between the version and its lineage and just before each
/// catalog swap, so a runner that lost its lease neither commits over the runner that took it over nor
/// writes over that runner's records of the same version.
struct CheckpointedCommit {
    let ingestor: Ingestor
    let store: CheckpointStore
    /// This shard's lease: checked before the checkpoint is saved and just before the catalog swap.
    let lease: LeaseKeeper
    let snapshot: SnapshotKind
    let now: Date
    /// Whether this commit ends a run over every listed object (an append's last batch): hours older than
    /// the late-arrival window then close.
    let closesRun: Bool

    /// What the commit did, for the run summary.
    struct Outcome {
        var table: Table
        var checkpoint: SourceCheckpoint
        var snapshotID: Int64
        var dataFiles: [DataFile]
        var encodeSeconds = 0.0
        var uploadSeconds = 0.0
        var commitSeconds = 0.0
    }

    func run(_ batch: PendingBatch, table: Table, checkpoint: SourceCheckpoint) async throws -> Outcome {
        let clock = ContinuousClock()
        let commitStarted = clock.now
        // 1. Name the data files, and start closing them: their encoding runs while step 2 waits on the store.
        let pipeline = batch.pipeline
        let planned = try await BlockingExecutor.run {
            try pipeline.drain()
            return pipeline.writer.finishing()
        }
        let (closed, report) = AsyncThrowingStream.makeStream(of: (Int, SpooledDataFile).self)
        let closing = Task<([SpooledDataFile], Double), any Error> {
            do {
                let outcome = try await BlockingExecutor.run {
                    let started = DispatchTime.now().uptimeNanoseconds
                    let files = try pipeline.writer.finish { index, file in report.yield((index, file)) }
                    return (files, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
                }
                report.finish()
                return outcome
            } catch {
                report.finish(throwing: error)
                throw error
            }
        }
        var uploading: Task<Double, any Error>?
        var saved: (version: Int64, snapshotID: Int64)?
        do {
            // 2. Save the checkpoint that lists the files as pending: from here on a crash leaves a version
            //    ahead of the table, and the next run deletes exactly these files.
            try await lease.verify()
            let spec = table.metadata.defaultSpec
            let locations = dataFileLocations(planned.map(\.partition), table: table)
            let snapshotID = FastAppend.newSnapshotID()
            let (next, folded) = nextCheckpoint(after: checkpoint, objects: batch.objects, pending: locations, snapshotID: snapshotID)
            let checkpointLocation: String
            do {
                checkpointLocation = try await store.save(next)
            } catch let error as CheckpointError where error.code == .versionTaken {
                // Another runner wrote this version: it took the lease over while this one was paused.
                try lease.check()
                throw error
            }
            saved = (next.version, snapshotID)
            // A runner paused past its lease since `verify()` (a stopped VM) may have lost this version to the
            // runner that took over, which discards it and saves its own under the same number: this one
            // stops here rather than write that version's archive segment and lineage over the new runner's.
            try lease.check()
            try await store.saveArchive(version: next.version, folded: folded)
            try await store.saveLineage(
                Self.lineage(
                    of: batch.objects, sources: planned.map(\.sources), locations: locations, version: next.version, snapshotID: snapshotID,
                    replacing: snapshot.replacedFiles))
            FailPoint.check("after-checkpoint")

            // 3. Upload each file as it closes, then the dead letters.
            FailPoint.check("before-upload")
            let uploadStarted = clock.now
            let deadLetters = DeadLetters(configuration: ingestor.configuration, table: table), objects = batch.objects, io = table.io
            let uploads = Task<Double, any Error> {
                try await upload(closed, to: locations, io: io)
                try await deadLetters.write(objects)
                FailPoint.check("after-upload")
                return (clock.now - uploadStarted).seconds
            }
            uploading = uploads
            // Every file closed: the snapshot's entries are known (each file's metrics and where it goes).
            let (files, closeSeconds) = try await closing.value
            guard files.count == locations.count else {
                throw IcebergError(.io, "\(files.count) data files closed for \(locations.count) planned")
            }
            let dataFiles = zip(files, locations).map { $0.dataFile(at: $1, spec: spec) }

            // 4. One snapshot with the checkpoint in its summary. Its manifest and manifest list are written
            //    while the last files still upload; the catalog swap waits for every upload.
            let registered = batch.objects.compactMap(\.report.registered)
            let checkpointCommit = CheckpointCommit(
                source: ingestor.source.identity, shard: ingestor.configuration.shard, version: next.version,
                watermarkHour: next.watermarkHour, location: checkpointLocation)
            // The uploads run in their own task: a cancelled commit cancels them too.
            let committed = try await withTaskCancellationHandler {
                try await commitSnapshot(
                    dataFiles + registered, table: table, evolution: batch.evolution, snapshotID: snapshotID, checkpoint: checkpointCommit,
                    objectCount: batch.objects.count, uploads: uploads)
            } onCancel: {
                uploads.cancel()
            }
            let uploadSeconds = try await uploads.value
            FailPoint.check("after-swap")

            // 5. The table names v+1 now: older versions are history.
            var done = next
            done.pendingDataFiles = []
            done.pendingSnapshotID = nil
            // A run's last commit leaves the trim to the next run's recovery, which lists the versions anyway.
            if !closesRun { try? await store.deleteVersions(before: next.version) }
            let rows = batch.objects.reduce(0) { $0 + $1.report.counts.rows }
            ingestor.logger.info(
                "committed snapshot \(snapshotID) with \(rows) rows: \(batch.objects.count) objects, \(dataFiles.count) data files, checkpoint v\(next.version)",
                metadata: [
                    "snapshot": "\(snapshotID)", "rows": "\(rows)", "objects": "\(batch.objects.count)", "data_files": "\(dataFiles.count)",
                    "checkpoint_version": "\(next.version)",
                ])
            return Outcome(
                table: committed, checkpoint: done, snapshotID: snapshotID, dataFiles: dataFiles, encodeSeconds: closeSeconds,
                uploadSeconds: uploadSeconds, commitSeconds: (clock.now - commitStarted).seconds)
        } catch {
            if let saved, let unknown = error as? IcebergError, unknown.code == .commitStateUnknown {
                await markUnsettled(version: saved.version, snapshotID: saved.snapshotID, error: unknown)
            }
            // The closing and the uploads end before the failure goes up (nothing may read or write the spool
            // once the caller cleans up), and the files it closed that were not uploaded leave the spool.
            if let uploading {
                uploading.cancel()
                _ = try? await uploading.value
            }
            if let (files, _) = try? await closing.value {
                try? await BlockingExecutor.run { for file in files { try? FileManager.default.removeItem(atPath: file.localPath) } }
            }
            throw error
        }
    }

    /// Records that the commit of checkpoint `version` may still land, so that the next run's recovery
    /// settles it before discarding the version and deleting its files (``Ingestor/settle(_:lease:)``), and
    /// remove-orphans leaves its files alone. When even that record cannot be written, the commit's manifest
    /// list (kept, as the outcome is unknown) tells the next run the same.
    private func markUnsettled(version: Int64, snapshotID: Int64, error: IcebergError) async {
        let logger = ingestor.logger
        do {
            try await store.markUnsettled(.init(version: version, snapshotID: snapshotID, atMillis: WallClock.nowMillis()))
            logger.error(
                "the commit of checkpoint v\(version) (snapshot \(snapshotID)) has an unknown outcome: \(error.message). It may still land; the next run's recovery keeps it if the table has it, and otherwise fences it with an empty snapshot before discarding it",
                metadata: ["checkpoint_version": "\(version)", "snapshot": "\(snapshotID)"])
        } catch {
            logger.error(
                "the commit of checkpoint v\(version) (snapshot \(snapshotID)) has an unknown outcome, and recording that failed too (\(error)): the next run settles it from its manifest list",
                metadata: ["checkpoint_version": "\(version)", "snapshot": "\(snapshotID)"])
        }
    }

    /// `<table>/data/<partition path>/<uuid>-<n>.parquet` (or under `write.data.path`).
    private func dataFileLocations(_ partitions: [[Literal?]], table: Table) -> [String] {
        let spec = table.metadata.defaultSpec
        let base = table.metadata.properties["write.data.path"] ?? table.metadata.location + "/data"
        return partitions.enumerated().map { index, partition in
            let partitionPath = spec.isUnpartitioned ? "" : spec.partitionPath(partition) + "/"
            return "\(base)/\(partitionPath)\(UUID().uuidString.lowercased())-\(index).parquet"
        }
    }

    /// Version v+1: the batch's objects recorded under the new snapshot, its data files pending; and the
    /// objects it folds out of the open window (into the archive).
    private func nextCheckpoint(
        after checkpoint: SourceCheckpoint, objects: [PendingObject], pending: [String], snapshotID: Int64
    ) -> (SourceCheckpoint, [IngestedObject]) {
        var next = checkpoint
        next.version += 1
        next.pendingDataFiles = pending
        next.pendingSnapshotID = snapshotID
        for object in objects.map(\.object) {
            // A reprocessed object below the horizon stays folded; one in the open window now names this snapshot.
            if snapshot != .append, next.recorded(object.key) == nil { continue }
            next.record(object.version, hour: object.hour, snapshotID: snapshotID)
        }
        var folded: [IngestedObject] = []
        if closesRun {
            // Every listed object of the hours up to now has been read: hours older than the window close.
            folded = next.advanceWatermark(to: PrefixLayout.hour(of: now) - ingestor.configuration.lateArrivalHours)
        }
        return (next, folded)
    }

    /// Commits the files in one snapshot of this commit's kind, with the batch's schema changes.
    private func commitSnapshot(
        _ files: [DataFile], table: Table, evolution: SchemaEvolution, snapshotID: Int64, checkpoint: CheckpointCommit, objectCount: Int,
        uploads: Task<Double, any Error>
    ) async throws -> Table {
        var summaryProperties = checkpoint.summaryProperties
        summaryProperties["iceberg-ingest.objects"] = String(objectCount)
        let logger = ingestor.logger, conflicts = ingestor.metrics.commitConflicts
        let onRetry: @Sendable (Int, IcebergError) -> Void = { attempt, error in
            conflicts.increment()
            logger.notice("commit conflict, retry \(attempt): \(error.message)", metadata: ["snapshot": "\(snapshotID)"])
        }
        let catalog = ingestor.catalog
        var commit: any SnapshotCommit
        switch snapshot {
        case .overwrite(let replacing):
            var rewrite = RewriteFiles(table: table, catalog: catalog, operation: .overwrite, snapshotID: snapshotID)
            rewrite.delete(paths: replacing)
            commit = rewrite
        case .append:
            commit = FastAppend(table: table, catalog: catalog, snapshotID: snapshotID)
        }
        commit.add(contentsOf: files)
        commit.additionalUpdates = evolution.updates
        commit.additionalRequirements = evolution.requirements
        commit.summaryProperties = summaryProperties
        let lease = self.lease, ingestor = self.ingestor
        commit.beforeCatalogSwap = { base in
            // The table names no file before it is in the store: an upload that failed fails the commit.
            _ = try await uploads.value
            FailPoint.check("after-manifest")
            try ingestor.checkLayout(base)
            // Renewed here, in the commit's own task, when a third of it has gone since (uploads can take
            // long, and a busy process may starve the background renewal); then at least a third must be left.
            try await lease.renewIfDue()
            try lease.check()
        }
        commit.onRetry = onRetry
        commit.retryDefaults = IngestConfiguration.commitRetryDefaults
        return try await commit.commit()
    }

    /// Uploads each spooled file to its location as it closes, a few at a time, and removes it from the spool;
    /// throws unless every location got its file (the snapshot names them all).
    private func upload(_ closed: AsyncThrowingStream<(Int, SpooledDataFile), any Error>, to locations: [String], io: any FileIO) async throws {
        let limit = max(1, ingestor.configuration.uploadConcurrency)
        var uploaded = [Bool](repeating: false, count: locations.count)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for try await (index, file) in closed {
                uploaded[index] = true
                if running == limit {
                    try await group.next()
                    running -= 1
                }
                let location = locations[index]
                group.addTask {
                    try await io.write(location, contentsOfFile: file.localPath)
                    _ = try? await BlockingExecutor.run { try FileManager.default.removeItem(atPath: file.localPath) }
                }
                running += 1
            }
            try await group.waitForAll()
        }
        if let missing = uploaded.firstIndex(of: false) { throw IcebergError(.io, "data file \(locations[missing]) was never closed") }
    }

    /// Which objects produced which data files in a commit, with the drift each object showed.
    static func lineage(
        of objects: [PendingObject], sources: [[Int]], locations: [String], version: Int64, snapshotID: Int64, replacing: [String]?
    ) -> CommitLineage {
        var files = locations
        var filesBySource: [Int: [Int]] = [:]
        for (i, fileSources) in sources.enumerated() {
            for source in fileSources { filesBySource[source, default: []].append(i) }
        }
        let entries = objects.map { item in
            var indexes = filesBySource[item.index] ?? []
            if let registered = item.report.registered {
                indexes.append(files.count)
                files.append(registered.filePath)
            }
            var newFields: [String: String] = [:]
            for (path, sample) in item.report.samples {
                let text = sample.serialized()
                newFields[path] = text.utf8.count <= maxSampleBytes ? text : "null"
            }
            return ObjectLineage(
                object: item.object.version, hour: item.object.hour, dataFiles: indexes, newFields: newFields,
                widenings: item.report.widenings.mapValues(\.description))
        }
        return CommitLineage(
            version: version, snapshotID: snapshotID, kind: replacing == nil ? .ingest : .reprocess, dataFiles: files, objects: entries,
            replacedDataFiles: replacing ?? [])
    }

    /// A sample value of a new field kept in the lineage is at most this long (a longer one is kept as
    /// `null`: the evolution then reads the object to type the field).
    static let maxSampleBytes = 4096
}
