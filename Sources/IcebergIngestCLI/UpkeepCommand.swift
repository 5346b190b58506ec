import ArgumentParser
import Foundation
import IcebergCore
import IcebergIngest

extension IcebergIngestCommand {
    /// `expire-snapshots`: remove old snapshots and the files only they reference.
    struct ExpireSnapshotsCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "expire-snapshots",
            abstract: "Expire snapshots older than an age (keeping the last N, every ref, and the history back to each shard's checkpoint record) and delete the files only they reference.")

        @OptionGroup var job: JobOptions
        @Option(
            name: .long, help: "Expire snapshots older than this (90s, 30m, 12h, 7d); default: the table's history.expire.max-snapshot-age-ms (5 days).",
            transform: { try DurationText.parse($0) })
        var olderThan: DurationText?
        @Option(name: .long, help: "Keep at least this many snapshots of each branch (default: history.expire.min-snapshots-to-keep, 1).")
        var retainLast: Int?
        @Flag(name: .long, help: "List what would be expired and deleted; change nothing.")
        var dryRun = false
        @Flag(name: .long, help: "Print one JSON summary line on stdout.")
        var json = false

        func run() async throws {
            do {
                let ingestor = try await job.job().ingestor(logger: job.logger())
                let table = try await ingestor.loadOrCreateTable()
                var expire = try ExpireSnapshots(table: table, catalog: ingestor.catalog, logger: job.logger())
                expire.keepingRewriteHistory()
                expire.keepingCheckpointRecords()
                expire.sparingFilesOutsideTable()
                expire.olderThanMillis = olderThan.map { WallClock.nowMillis() - $0.millis }
                expire.retainLast = retainLast
                let result = try await expire.run(dryRun: dryRun)
                if json { return print(JSONLine.encode(result)) }
                let verb = dryRun ? "would expire" : "expired"
                print("\(table.identifier): \(verb) \(result.expiredSnapshotIDs.count) snapshots, \(result.keptSnapshots) kept")
                print("  \(dryRun ? "would delete" : "deleted"): \(result.deletedManifestLists.count) manifest lists, \(result.deletedManifests.count) manifests, \(result.deletedDataFiles.count) data files")
                if dryRun { for file in result.deletedManifestLists + result.deletedManifests + result.deletedDataFiles { print("  \(file)") } }
            } catch {
                throw ExitCodes.report(error)
            }
        }
    }

    /// `remove-orphans`: delete files under the table that nothing references.
    struct RemoveOrphansCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-orphans",
            abstract: "Delete files under the table's data and metadata folders that no snapshot or metadata file references.")

        @OptionGroup var job: JobOptions
        @Option(name: .long, help: "Only files older than this are removed: younger ones may belong to a commit in progress (under 15m, refused while a run holds a lease on the table, but for --dry-run).")
        var olderThan = DurationText(millis: RemoveOrphanFiles.defaultGraceMillis)
        @Flag(name: .long, help: "List the orphans; delete nothing.")
        var dryRun = false
        @Flag(name: .long, help: "Print one JSON summary line on stdout.")
        var json = false

        func run() async throws {
            do {
                let ingestor = try await job.job().ingestor(logger: job.logger())
                let table = try await ingestor.loadOrCreateTable()
                var cleanup = try RemoveOrphanFiles(table: table, logger: job.logger())
                cleanup.olderThanMillis = WallClock.nowMillis() - olderThan.millis
                if !dryRun, olderThan.millis < RemoveOrphanFiles.minimumGraceWhileRunning, let running = try await cleanup.liveIngestLeases().first {
                    throw IngestError(
                        .invalidConfiguration,
                        "remove-orphans --older-than \(olderThan.millis / 1000)s while a run holds a lease on \(table.identifier) (\(running)): a file younger "
                            + "than 15 minutes may be a data file of its commit in progress, which removing would lose. Run it after the run ends, or with --older-than 15m or more")
                }
                let result = try await cleanup.run(dryRun: dryRun)
                if json { return print(JSONLine.encode(result)) }
                print("\(table.identifier): \(result.scannedFiles) files scanned, \(result.orphanFiles.count) orphans (\(result.orphanBytes) bytes) \(dryRun ? "would be removed" : "removed")")
                if dryRun { for file in result.orphanFiles { print("  \(file)") } }
            } catch {
                throw ExitCodes.report(error)
            }
        }
    }

    /// `compact`: bin-pack small data files.
    struct CompactCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compact", abstract: "Rewrite small data files of each partition into target-size files (one replace commit).")

        @OptionGroup var job: JobOptions
        @Option(name: .long, help: "Target file size in MiB (default: the table's write.target-file-size-bytes, else 128).")
        var targetSizeMb: Int?
        @Flag(name: .long, help: "List the files that would be rewritten; change nothing.")
        var dryRun = false
        @Flag(name: .long, help: "Print one JSON summary line on stdout.")
        var json = false

        func run() async throws {
            do {
                let ingestor = try await job.job().ingestor(logger: job.logger())
                let table = try await ingestor.loadOrCreateTable()
                var compaction = try Compaction(table: table, catalog: ingestor.catalog, logger: job.logger())
                compaction.targetFileSizeBytes = targetSizeMb.map { $0 << 20 }
                compaction.zstdLevel = ingestor.configuration.zstdLevel
                let result = try await compaction.run(dryRun: dryRun)
                if json { return print(result.jsonLine) }
                print("\(table.identifier): \(result.inputFiles.count) small files (\(result.inputBytes) bytes, \(result.rows) rows) in \(result.groups) groups"
                    + (dryRun ? " would be rewritten" : " rewritten into \(result.outputFiles.count) files (\(result.outputBytes) bytes), snapshot \(result.snapshotID.map(String.init) ?? "none")"))
                if result.skippedForDeletes > 0 {
                    print("  \(result.skippedForDeletes) small files left alone: row-level delete files may apply to them")
                }
                if dryRun { for file in result.inputFiles { print("  \(file)") } }
            } catch {
                throw ExitCodes.report(error)
            }
        }
    }
}
