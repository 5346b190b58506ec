import ArgumentParser
import Foundation
import IcebergIngest
import Logging

/// The job: a configuration file, `ICEBERG_INGEST_*` environment variables (also from `--env-file`) that
/// override its keys, and flags that override both.
struct JobOptions: ParsableArguments {
    @Option(name: .long, help: "Job configuration file (JSON; see the README).")
    var config: String?
    @Option(name: .long, help: "A .env file (NAME=value lines) whose variables fill ${VAR} in the job file and set ICEBERG_INGEST_* settings; the process's own environment wins over it.")
    var envFile: String?
    @Option(name: .long, help: "Input: s3://bucket/prefix/ or a local folder.")
    var source: String?
    @Option(name: .long, help: "Time layout under the source: firehose, hive, dt, or a pattern such as 'logs/{yyyy}{MM}{dd}/{HH}/'.")
    var layout: String?
    @Option(name: .long, help: "Input format: json (lines or concatenated), csv, tsv, csv<delimiter>.")
    var format: String?
    @Option(name: .long, help: "Catalog URI: sqlite:<path>, rest+http(s)://host/path (properties in the config file's catalog.properties), glue:[?region=R&endpoint=URL&catalog-id=ID] (AWS Glue), s3://bucket/prefix or file:<folder> (a catalog kept in the warehouse itself).")
    var catalog: String?
    @Option(name: .long, help: "Warehouse: a local folder or s3://bucket/prefix.")
    var warehouse: String?
    @Option(name: .long, help: "Table, as namespace.name.")
    var table: String?
    @Option(name: .long, help: "Schema for a new table: 'id long not null, event_time timestamptz, ...' or Iceberg schema JSON.")
    var schema: String?
    @Option(name: .long, help: "Partition spec for a new table, e.g. 'hour(event_time)'.")
    var partition: String?
    @Option(name: .long, help: "Bad records: fail, skip or dead-letter.")
    var badRecords: String?
    @Option(name: .long, help: "Fields the table lacks: fail, ignore, rescue (into _rescued_data) or add-columns (evolve the table).")
    var drift: String?
    @Option(name: .long, help: "Dead-letter location (dead-letter policy).")
    var deadLetter: String?
    @Option(name: .long, help: "Hours files may arrive late in an hour's prefix.")
    var lateArrivalHours: Int32?
    @Option(name: .long, help: "Hour a new source starts at (2026-11-01T00, UTC, or 'now'): earlier hours are neither listed nor read unless a backfill asks.")
    var startAt: String?
    @Option(name: .long, help: "Files found in closed hours that were never ingested: ingest (default) or report.")
    var lateFiles: String?
    @Option(name: .long, help: "This worker's shard, as i/n.")
    var shard: String?
    @Option(name: .long, help: "Unit of numeric timestamps: auto, seconds, milliseconds, microseconds, nanoseconds.")
    var epochUnit: String?
    @Option(name: .long, help: "Commit after this many input objects (default 1000).")
    var commitEveryObjects: Int?
    @Option(name: .long, help: "Wait up to this many seconds for another runner of the same shard to finish, instead of exiting with code 6.")
    var wait: Double?
    @Option(name: .long, help: "Seconds this runner's lease of the shard lasts without renewal (default 60).")
    var leaseSeconds: Double?
    @Option(name: .long, help: "S3 endpoint (MinIO, a local server); default: S3_ENDPOINT, else AWS.")
    var s3Endpoint: String?
    @Flag(name: .long, help: "Print debug logs on stderr.")
    var verbose = false
    @Option(name: .long, help: "Seconds a SIGTERM or SIGINT leaves to commit what was read before the process exits anyway (under Kubernetes' 30 s grace period).")
    var grace: Double = JobOptions.defaultGrace

    static let defaultGrace = 25.0

    /// The process's environment over the `--env-file`'s variables.
    func environment() throws -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let envFile {
            for (name, value) in try IngestJob.readEnvironmentFile(envFile) where environment[name] == nil { environment[name] = value }
        }
        return environment
    }

    func job() throws -> IngestJob {
        var job: IngestJob
        let environment = try environment()
        if let config {
            job = try IngestJob(file: config, environment: environment)
        } else {
            // No file: the environment's settings, with the three a job cannot do without possibly from flags.
            var base = environment
            if let source { base["ICEBERG_INGEST_SOURCE_URI"] = source }
            if let table { base["ICEBERG_INGEST_TABLE_NAME"] = table }
            if let schema { base["ICEBERG_INGEST_TABLE_SCHEMA"] = schema }
            guard ["SOURCE_URI", "TABLE_NAME", "TABLE_SCHEMA"].allSatisfy({ base["ICEBERG_INGEST_" + $0] != nil }) else {
                throw IngestError(
                    .invalidConfiguration,
                    "give --config, or --source, --table and --schema (or ICEBERG_INGEST_SOURCE_URI, ICEBERG_INGEST_TABLE_NAME, ICEBERG_INGEST_TABLE_SCHEMA)")
            }
            job = try IngestJob(environment: base)
        }
        func flag(_ key: String, _ name: String) { job.origins[key] = "flag --\(name)" }
        if source != nil { flag("source.uri", "source") }
        if layout != nil { flag("source.layout", "layout") }
        if format != nil { flag("source.format", "format") }
        if catalog != nil { flag("catalog.uri", "catalog") }
        if warehouse != nil { flag("catalog.warehouse", "warehouse") }
        if table != nil { flag("table.name", "table") }
        if schema != nil { flag("table.schema", "schema") }
        if partition != nil { flag("table.partition", "partition") }
        if badRecords != nil { flag("ingest.bad_records", "bad-records") }
        if drift != nil { flag("ingest.drift", "drift") }
        if deadLetter != nil { flag("ingest.dead_letter", "dead-letter") }
        if lateArrivalHours != nil { flag("source.late_arrival_hours", "late-arrival-hours") }
        if shard != nil { flag("ingest.shard", "shard") }
        if startAt != nil { flag("source.start_at", "start-at") }
        if lateFiles != nil { flag("source.late_files", "late-files") }
        if epochUnit != nil { flag("ingest.epoch_unit", "epoch-unit") }
        if s3Endpoint != nil { flag("s3.endpoint", "s3-endpoint") }
        if commitEveryObjects != nil { flag("ingest.commit_every_objects", "commit-every-objects") }
        if wait != nil { flag("ingest.lease_wait_seconds", "wait") }
        if leaseSeconds != nil { flag("ingest.lease_seconds", "lease-seconds") }
        if let source { job.sourceURI = source }
        if let layout { job.layout = layout }
        if let format { job.format = format }
        if let catalog { job.catalogURI = catalog }
        if let warehouse { job.warehouse = warehouse }
        if let table { job.tableName = table }
        if let schema { job.schema = schema }
        if let partition { job.partition = partition }
        if let badRecords { job.badRecords = try Self.choice(badRecords, flag: "--bad-records") }
        if let drift { job.drift = try Self.choice(drift, flag: "--drift") }
        if let deadLetter { job.deadLetter = deadLetter }
        if let lateArrivalHours { job.lateArrivalHours = lateArrivalHours }
        if let shard { job.shard = shard }
        if let startAt { job.startAt = startAt }
        if let lateFiles { job.lateFiles = try Self.choice(lateFiles, flag: "--late-files") }
        if let epochUnit { job.epochUnit = try Self.choice(epochUnit, flag: "--epoch-unit") }
        if let s3Endpoint { job.s3Endpoint = s3Endpoint }
        if let commitEveryObjects { job.commitEveryObjects = commitEveryObjects }
        if let wait { job.leaseWaitSeconds = wait }
        if let leaseSeconds { job.leaseSeconds = leaseSeconds }
        return job
    }

    /// One of an option's named values; an error listing them otherwise.
    static func choice<T: RawRepresentable & CaseIterable>(_ text: String, flag: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            let names = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw IngestError(.invalidConfiguration, "\(flag) must be one of \(names), not '\(text)'")
        }
        return value
    }

    func logger() -> Logger { Self.logger(verbose: verbose) }

    static func logger(verbose: Bool) -> Logger {
        var logger = Logger(label: "iceberg-ingest") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }
}

/// A one-line progress bar on stderr, redrawn in place (only when stderr is a terminal).
final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var started: Date?
    let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled && isatty(STDERR_FILENO) == 1 }

    func update(_ p: IngestProgress) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard p.phase == .done || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        if started == nil { started = now }
        // Erase to the end of the line: the line shortens when the ETA goes.
        let line = "\r" + p.line(elapsed: now.timeIntervalSince(started!)) + "\u{1B}[K"
        FileHandle.standardError.write(Data((line + (p.phase == .done ? "\n" : "")).utf8))
    }
}

/// A subcommand configured by ``JobOptions`` (the job file, the environment, the flags).
protocol JobCommand {
    var job: JobOptions { get }
}

extension IcebergIngestCommand.Run: JobCommand {}
extension IcebergIngestCommand.Plan: JobCommand {}
extension IcebergIngestCommand.Status: JobCommand {}
extension IcebergIngestCommand.Backfill: JobCommand {}
extension IcebergIngestCommand.Evolve: JobCommand {}
extension IcebergIngestCommand.ExpireSnapshotsCommand: JobCommand {}
extension IcebergIngestCommand.RemoveOrphansCommand: JobCommand {}
extension IcebergIngestCommand.CompactCommand: JobCommand {}
extension IcebergIngestCommand.Config: JobCommand {}
