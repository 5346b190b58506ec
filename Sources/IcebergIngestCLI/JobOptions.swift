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
    @Option(name: .long, help: "Input format: json (lines or concatenated), csv, tsv, csv<delimiter>, text (a line per row), avro, parquet, parquet-rewrite. Compression (gzip, zstd, snappy, ZIP) is detected.")
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
    @Option(name: .long, help: "Bad records: fail, skip or dead-letter (skip and dead-letter also leave an object with damaged bytes out whole).")
    var badRecords: String?
    @Option(name: .long, help: "Fields the table lacks: fail, ignore, rescue (into _rescued_data) or add-columns (evolve the table).")
    var drift: String?
    @Option(name: .long, help: "Dead-letter location (dead-letter policy).")
    var deadLetter: String?
    @Option(name: .long, help: "Hours files may arrive late in an hour's prefix (\(IngestConfiguration.lateArrivalHoursRange.lowerBound) to \(IngestConfiguration.lateArrivalHoursRange.upperBound)).")
    var lateArrivalHours: Int32?
    @Option(name: .long, help: "Hour a new source starts at (2026-11-01T00, UTC, or 'now'): earlier hours are neither listed nor read unless a backfill asks.")
    var startAt: String?
    @Option(name: .long, help: "Files found in closed hours that were never ingested: ingest (default) or report.")
    var lateFiles: String?
    @Option(name: .long, help: "This worker's shard, as i/n: it reads the objects whose key hashes to i among n.")
    var shard: String?
    @Flag(name: .long, help: "Take the shard from a Kubernetes Indexed Job: the index from JOB_COMPLETION_INDEX, the count from ICEBERG_INGEST_SHARD_COUNT (set it to the Job's completions).")
    var shardFromEnv = false
    @Flag(name: .long, help: "If the source's shards are counted differently than this run's, rescale it (merge the old shards' checkpoints once, under their leases) instead of failing.")
    var rescale = false
    @Option(name: .long, help: "Unit of numeric timestamps: auto, seconds, milliseconds, microseconds, nanoseconds.")
    var epochUnit: String?
    @Option(name: .long, help: "Objects read and parsed at once, and parts of a JSON object held whole (default: the machine's cores).")
    var threads: Int?
    @Option(name: .long, help: "Commit after this many input objects (default 1000).")
    var commitEveryObjects: Int?
    @Option(name: .long, help: "Wait up to this many seconds (at most \(Int(IngestConfiguration.maxLeaseWaitSeconds)), a week) for another runner of the same shard to finish, instead of exiting with code 6.")
    var wait: Double?
    @Option(name: .long, help: "Seconds this runner's lease of the shard lasts without renewal (default \(Int(IngestConfiguration.leaseSecondsDefault)); \(Int(IngestConfiguration.leaseSecondsRange.lowerBound)) to \(Int(IngestConfiguration.leaseSecondsRange.upperBound))).")
    var leaseSeconds: Double?
    @Option(name: .long, help: "S3 endpoint (MinIO, a local server); default: S3_ENDPOINT, else AWS.")
    var s3Endpoint: String?
    @Flag(name: .long, help: "Log at debug level (the same as --log-level debug).")
    var verbose = false
    @Option(name: .long, help: "Least level logged on stderr: trace, debug, info (default: started, each commit, finished), notice, warning, error.")
    var logLevel: String?
    @Option(name: .long, help: "Logs on stderr as text (default) or json: one object per line with time, level, message, logger, and fields such as table, source, shard, object, snapshot, rows.")
    var logFormat: String = "text"
    @Option(name: .long, help: "Seconds a SIGTERM or SIGINT leaves to commit what was read before the process exits anyway (under Kubernetes' 30 s grace period; \(Int(JobOptions.graceRange.lowerBound)) to \(Int(JobOptions.graceRange.upperBound))).")
    var grace: Double = JobOptions.defaultGrace

    static let defaultGrace = 25.0
    /// The `--grace` allowed: a second to a day.
    static let graceRange = 1.0...86_400

    /// `--grace`, checked: a negative one would exit at once without committing, an infinite one trap.
    func checkedGrace() throws -> Double {
        try Self.check(grace, "--grace", Self.graceRange, unit: "seconds")
        return grace
    }

    /// Throws unless `value` of `flag` is a finite number within `range`: an invalid-configuration error (exit
    /// code 2) naming the flag, the value and the range, where a huge or infinite number would otherwise trap
    /// as it becomes an integer or a duration.
    static func check(_ value: Double, _ flag: String, _ range: ClosedRange<Double>, unit: String) throws {
        guard value.isFinite, range.contains(value) else {
            throw IngestError(.invalidConfiguration, IngestError.outOfRange(flag, value, range, unit: unit))
        }
    }

    /// The process's environment over the `--env-file`'s variables.
    func environment() throws -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let envFile {
            for (name, value) in try IngestJob.readEnvironmentFile(envFile) where environment[name] == nil { environment[name] = value }
        }
        return environment
    }

    /// The job the file, environment and flags make. `requiringTable: false` (for `infer`, which reads the
    /// source only) lets the table name and schema be missing.
    func job(requiringTable: Bool = true) throws -> IngestJob {
        var job: IngestJob
        var environment = try environment()
        if !requiringTable, config == nil {
            if table == nil { environment["ICEBERG_INGEST_TABLE_NAME"] = environment["ICEBERG_INGEST_TABLE_NAME"] ?? "inferred.table" }
            if schema == nil { environment["ICEBERG_INGEST_TABLE_SCHEMA"] = environment["ICEBERG_INGEST_TABLE_SCHEMA"] ?? "line string" }
        }
        // The three settings a job cannot do without may come from flags, with or without a job file: given to
        // the job as their variables (which flags beat anyway, and whose values are not expanded), they meet its
        // check for required keys even where the file lacks them. Their origin becomes the flag below.
        var base = environment
        if let source { base["ICEBERG_INGEST_SOURCE_URI"] = source }
        if let table { base["ICEBERG_INGEST_TABLE_NAME"] = table }
        if let schema { base["ICEBERG_INGEST_TABLE_SCHEMA"] = schema }
        if let config {
            job = try IngestJob(file: config, environment: base)
        } else {
            // No file: the environment's settings.
            let routed = base["ICEBERG_INGEST_TABLE_ROUTE"] != nil
            guard ["SOURCE_URI", "TABLE_NAME"].allSatisfy({ base["ICEBERG_INGEST_" + $0] != nil }), routed || base["ICEBERG_INGEST_TABLE_SCHEMA"] != nil else {
                throw IngestError(
                    .invalidConfiguration,
                    "give --config, or --source, --table and --schema (or ICEBERG_INGEST_SOURCE_URI, ICEBERG_INGEST_TABLE_NAME, ICEBERG_INGEST_TABLE_SCHEMA)")
            }
            job = try IngestJob(environment: base)
        }
        // Each flag given sets its key and is recorded as that key's origin.
        func flag<T>(_ value: T?, _ key: String, _ name: String, _ apply: (T) throws -> Void) rethrows {
            guard let value else { return }
            try apply(value)
            job.origins[key] = "flag --\(name)"
        }
        flag(source, "source.uri", "source") { job.sourceURI = $0 }
        flag(layout, "source.layout", "layout") { job.layout = $0 }
        flag(format, "source.format", "format") { job.format = $0 }
        flag(catalog, "catalog.uri", "catalog") { job.catalogURI = $0 }
        flag(warehouse, "catalog.warehouse", "warehouse") { job.warehouse = $0 }
        flag(table, "table.name", "table") { job.tableName = $0 }
        flag(schema, "table.schema", "schema") { job.schema = $0 }
        flag(partition, "table.partition", "partition") { job.partition = $0 }
        try flag(badRecords, "ingest.bad_records", "bad-records") { job.badRecords = try Self.choice($0, flag: "--bad-records") }
        try flag(drift, "ingest.drift", "drift") { job.drift = try Self.choice($0, flag: "--drift") }
        // An empty value is the same as none, as in the job file and the environment: `--dead-letter ''` unsets it.
        flag(deadLetter, "ingest.dead_letter", "dead-letter") { job.deadLetter = $0.isEmpty ? nil : $0 }
        try flag(lateArrivalHours, "source.late_arrival_hours", "late-arrival-hours") {
            let range = IngestConfiguration.lateArrivalHoursRange
            guard range.contains($0) else {
                throw IngestError(.invalidConfiguration, IngestError.outOfRange("--late-arrival-hours", $0, range, unit: "hours"))
            }
            job.lateArrivalHours = $0
        }
        flag(shard, "ingest.shard", "shard") { job.shard = $0 }
        if shardFromEnv {
            guard shard == nil else { throw IngestError(.invalidConfiguration, "give --shard or --shard-from-env, not both") }
            guard let index = environment["JOB_COMPLETION_INDEX"], let count = environment["ICEBERG_INGEST_SHARD_COUNT"] else {
                throw IngestError(
                    .invalidConfiguration,
                    "--shard-from-env: JOB_COMPLETION_INDEX (set by an Indexed Job) and ICEBERG_INGEST_SHARD_COUNT (the Job's completions) must both be set")
            }
            job.shard = "\(index)/\(count)"
            job.origins["ingest.shard"] = "flag --shard-from-env (JOB_COMPLETION_INDEX=\(index), ICEBERG_INGEST_SHARD_COUNT=\(count))"
        }
        flag(rescale ? true : nil, "ingest.rescale", "rescale") { job.rescale = $0 }
        flag(startAt, "source.start_at", "start-at") { job.startAt = $0.isEmpty ? nil : $0 }
        try flag(lateFiles, "source.late_files", "late-files") { job.lateFiles = try Self.choice($0, flag: "--late-files") }
        try flag(epochUnit, "ingest.epoch_unit", "epoch-unit") { job.epochUnit = try Self.choice($0, flag: "--epoch-unit") }
        flag(s3Endpoint, "s3.endpoint", "s3-endpoint") { job.s3Endpoint = $0.isEmpty ? nil : $0 }
        flag(commitEveryObjects, "ingest.commit_every_objects", "commit-every-objects") { job.commitEveryObjects = $0 }
        flag(threads, "ingest.threads", "threads") { job.threads = $0 }
        try flag(wait, "ingest.lease_wait_seconds", "wait") {
            try Self.check($0, "--wait", 0...IngestConfiguration.maxLeaseWaitSeconds, unit: "seconds")
            job.leaseWaitSeconds = $0
        }
        try flag(leaseSeconds, "ingest.lease_seconds", "lease-seconds") {
            try Self.check($0, "--lease-seconds", IngestConfiguration.leaseSecondsRange, unit: "seconds")
            job.leaseSeconds = $0
        }
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

    /// The logger of the command's work, on stderr, as `--log-level`, `--verbose` and `--log-format` ask.
    func logger() throws -> Logger {
        let level: Logger.Level
        if let logLevel {
            guard let named = Logger.Level(rawValue: logLevel) else {
                throw IngestError(
                    .invalidConfiguration, "--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), not '\(logLevel)'")
            }
            level = named
        } else {
            level = verbose ? .debug : .info
        }
        let json: Bool
        switch logFormat {
        case "text": json = false
        case "json": json = true
        default: throw IngestError(.invalidConfiguration, "--log-format must be text or json, not '\(logFormat)'")
        }
        return Self.logger(level: level, json: json)
    }

    static func logger(level: Logger.Level, json: Bool = false) -> Logger {
        var logger = Logger(label: "iceberg-ingest") { label in
            json ? JSONLogHandler(label: label) as any LogHandler : StreamLogHandler.standardError(label: label)
        }
        logger.logLevel = level
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
