import CoreMetrics
import Foundation

/// What a run reports through `swift-metrics`: whatever backend the process bootstrapped receives them (the
/// executable bootstraps Prometheus for `--metrics-port` and `--metrics-file`; a library caller bootstraps
/// its own, or passes a factory). Names follow Prometheus' conventions: the `iceberg_ingest_` prefix, base
/// units (seconds, bytes), `_total` on counters; every series but the S3 retries has the labels `table` and `shard`
/// (`shard-<i>-of-<n>`).
///
/// | name | kind | what |
/// | --- | --- | --- |
/// | `iceberg_ingest_objects_read_total` | counter | source objects committed to the table |
/// | `iceberg_ingest_bytes_read_total` | counter | their bytes, as stored |
/// | `iceberg_ingest_rows_total` | counter | rows committed |
/// | `iceberg_ingest_bad_records_total` | counter | bad records (skipped or dead-lettered) |
/// | `iceberg_ingest_damaged_objects_total` | counter | objects with damaged bytes left out whole (bad-record policies `skip`, `dead-letter`) |
/// | `iceberg_ingest_commits_total` | counter | snapshots committed |
/// | `iceberg_ingest_commit_conflicts_total` | counter | commits retried after another writer's commit |
/// | `iceberg_ingest_run_duration_seconds` | histogram | one pass (list, read, write, commit) |
/// | `iceberg_ingest_pending_objects` | gauge | objects listed and not yet committed |
/// | `iceberg_ingest_pending_bytes` | gauge | their bytes |
/// | `iceberg_ingest_lag_seconds` | gauge | last-modified of the newest pending object minus that of the newest ingested one (0: caught up) |
/// | `iceberg_ingest_last_commit_timestamp_seconds` | gauge | Unix time of the last successful commit |
/// | `iceberg_ingest_s3_retries_total` | counter | S3 requests retried, by `reason` (the S3 error code, or `connection`) |
///
/// ```swift
/// let registry = PrometheusCollectorRegistry()          // package swift-prometheus
/// var ingestor = try await job.ingestor()
/// ingestor.metrics = IngestMetrics(
///     table: job.tableName, shard: ingestor.configuration.shard.description, factory: PrometheusMetricsFactory(registry: registry))
/// let summary = try await ingestor.run()
/// let text = registry.emitToString()  // Prometheus' text format
/// ```
public struct IngestMetrics: Sendable {
    public static let prefix = "iceberg_ingest_"

    let objectsRead, bytesRead, rows, badRecords, damagedObjects, commits, commitConflicts: Counter
    let runDuration: CoreMetrics.Timer
    let pendingObjects, pendingBytes, lagSeconds, lastCommit: Gauge

    /// The metrics of one table and shard, made by `factory` (the bootstrapped one by default).
    public init(table: String, shard: String, factory: any MetricsFactory = MetricsSystem.factory) {
        let labels = [("table", table), ("shard", shard)]
        func counter(_ name: String) -> Counter { Counter(label: Self.prefix + name, dimensions: labels, factory: factory) }
        func gauge(_ name: String) -> Gauge { Gauge(label: Self.prefix + name, dimensions: labels, factory: factory) }
        objectsRead = counter("objects_read_total")
        bytesRead = counter("bytes_read_total")
        rows = counter("rows_total")
        badRecords = counter("bad_records_total")
        damagedObjects = counter("damaged_objects_total")
        commits = counter("commits_total")
        commitConflicts = counter("commit_conflicts_total")
        runDuration = CoreMetrics.Timer(label: Self.prefix + "run_duration_seconds", dimensions: labels, factory: factory)
        pendingObjects = gauge("pending_objects")
        pendingBytes = gauge("pending_bytes")
        lagSeconds = gauge("lag_seconds")
        lastCommit = gauge("last_commit_timestamp_seconds")
        // Every series exists from the start, so that a scrape before the first commit sees zeros, not gaps.
        for counter in [objectsRead, bytesRead, rows, badRecords, damagedObjects, commits, commitConflicts] { counter.increment(by: 0) }
    }

    /// A landed commit: its objects, bytes, rows, bad records and damaged objects left out.
    func committed(objects: Int, bytes: Int64, rows: Int, badRecords: Int, damagedObjects: Int = 0, at date: Date = Date()) {
        commits.increment()
        objectsRead.increment(by: Int64(objects))
        bytesRead.increment(by: bytes)
        self.rows.increment(by: Int64(rows))
        self.badRecords.increment(by: Int64(badRecords))
        self.damagedObjects.increment(by: Int64(damagedObjects))
        lastCommit.record(date.timeIntervalSince1970)
    }

    /// What is waiting: `pending` objects listed and not committed, and the newest ingested object's time.
    func backlog(_ pending: [SourceObject], newestIngestedMillis: Int64?) {
        pendingObjects.record(pending.count)
        pendingBytes.record(pending.reduce(0) { $0 + $1.size })
        lagSeconds.record(Self.lagSeconds(pending: pending, newestIngestedMillis: newestIngestedMillis))
    }

    /// How far ingestion is behind the source: the last-modified time of the newest pending object minus
    /// that of the newest ingested one, 0 when nothing is pending (the metric and `status` alike).
    static func lagSeconds(pending: [SourceObject], newestIngestedMillis: Int64?) -> Double {
        let newestPending = pending.map(\.lastModifiedMillis).max()
        return newestPending.map { Double(max(0, $0 - (newestIngestedMillis ?? $0))) / 1000 } ?? 0
    }

    /// A retried S3 request, for `RetryPolicy.onRetry`: counted under its error code (`connection` for a
    /// failure without an answer; codes outside letters and digits, or long ones, as `other`, so that a
    /// misbehaving endpoint cannot make unbounded label values).
    public static func s3Retry(code: String, status: Int, factory: any MetricsFactory = MetricsSystem.factory) {
        let reason: String
        if status == 0 {
            reason = "connection"
        } else if !code.isEmpty, code.count <= 40, code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            reason = code
        } else {
            reason = "other"
        }
        Counter(label: prefix + "s3_retries_total", dimensions: [("reason", reason)], factory: factory).increment()
    }
}
