import Foundation
import Checkpoint
import IcebergCore

/// The input files' format. Compression (gzip, zstd, snappy framed or Hadoop) is detected from magic bytes.
public enum InputFormat: Sendable, Equatable {
    /// JSON objects, one per line, or concatenated with no delimiter as Firehose writes them.
    case json
    /// CSV with a header line (RFC 4180 quoting) and this delimiter.
    case csv(delimiter: UInt8)
    /// Parquet files: registered in the table as they are when their schema matches the table's (and
    /// `register` is true), rewritten into new data files otherwise.
    case parquet(register: Bool)
    /// Avro object container files: each record a row, its fields matched to columns by name, Avro's logical
    /// types (timestamps, dates, times, decimals, UUIDs) converted to the columns' types.
    case avro
    /// Plain text lines, for logs: each line a row in the schema's first string column.
    case text

    /// `json`, `csv`, `csv;` (a delimiter after `csv`), `tsv`, `text`, `avro`, `parquet` (register when the
    /// schema matches, else rewrite), `parquet-rewrite` (always rewrite).
    public init(parsing text: String) throws {
        switch text.lowercased() {
        case "json", "jsonl", "json-lines", "ndjson", "firehose": self = .json
        case "csv": self = .csv(delimiter: UInt8(ascii: ","))
        case "tsv": self = .csv(delimiter: 0x09)
        case "parquet": self = .parquet(register: true)
        case "parquet-rewrite": self = .parquet(register: false)
        case "avro": self = .avro
        case "text", "lines", "log": self = .text
        default:
            if text.lowercased().hasPrefix("csv"), text.utf8.count == 4, let d = text.utf8.last {
                self = .csv(delimiter: d)
            } else {
                throw IngestError(.invalidConfiguration, "unknown input format '\(text)': use json, csv, csv<delimiter>, tsv, text, avro, parquet or parquet-rewrite")
            }
        }
    }

    public var name: String {
        switch self {
        case .json: "json"
        case .csv(let d): d == UInt8(ascii: ",") ? "csv" : (d == 0x09 ? "tsv" : "csv" + String(UnicodeScalar(d)))
        case .parquet(let register): register ? "parquet" : "parquet-rewrite"
        case .avro: "avro"
        case .text: "text"
        }
    }
}

/// What a run does with a late file: an object found, when closed hours are listed again, that the archive of
/// what was ingested lacks (a backfill, a replayed delivery, an upstream outage, event-time prefixes).
public enum LateFilePolicy: String, Sendable, CaseIterable, Codable {
    /// Read it, exactly once, in the run's commits.
    case ingest
    /// Only count and name it (run summary, plan, logs).
    case report
}

/// Everything a run needs besides the catalog and the source: the table, its schema and partitioning, how
/// to read the input, what to do with bad records, and when to commit.
///
/// ```swift
/// var configuration = IngestConfiguration(
///     table: try TableIdentifier(parsing: "analytics.events"),
///     schema: try SchemaText.schema("id long not null, event_time timestamptz, name string"))
/// configuration.partitionSpec = try SchemaText.partitionSpec("hour(event_time)", schema: configuration.schema)
/// configuration.badRecordPolicy = .skip
/// ```
public struct IngestConfiguration: Sendable {
    /// The table to ingest into; created when missing.
    public var table: TableIdentifier
    /// The schema to create the table with. An existing table keeps its own schema.
    public var schema: Schema
    /// The partition spec to create the table with (unpartitioned by default).
    public var partitionSpec: PartitionSpec = .unpartitioned
    /// Properties of a created table.
    public var tableProperties: [String: String] = [:]
    /// Where a created table lives (default: the catalog's warehouse).
    public var tableLocation: String?
    public var format: InputFormat = .json
    public var conversion = ConversionOptions()
    public var badRecordPolicy: BadRecordPolicy = .fail
    /// What to do with input fields the table lacks (JSON input): fail, ignore (the default), rescue or
    /// add-columns. Type mismatches and missing required fields are bad records (see `badRecordPolicy`),
    /// except that `rescue` keeps a mismatched value in `_rescued_data` and `add-columns` widens int to
    /// long and decimal precision.
    public var driftPolicy: DriftPolicy = .ignore
    /// Where dead-letter files go (`dead-letter` policy), through the table's FileIO: a local path for a local
    /// warehouse, `s3://...` for one on S3. Default: `<table location>/dead-letter`.
    public var deadLetterLocation: String?
    public var changedObjectPolicy: ChangedObjectPolicy = .skip
    /// How long files may still arrive in an hour after it ended.
    public var lateArrivalHours: Int32 = 2
    /// The ``lateArrivalHours`` allowed: none to a year.
    public static let lateArrivalHoursRange: ClosedRange<Int32> = 0...8_760
    /// Reconciliation: how many closed hours (below the horizon) a reconciliation lists again...
    public var reconcileHours: Int32 = 168
    /// The ``reconcileHours`` allowed: none to ten years.
    public static let reconcileHoursRange: ClosedRange<Int32> = 0...87_600
    /// ...and how often a run does it on its own (nil: only when asked, `run --reconcile`).
    public var reconcileEverySeconds: Double? = 86_400
    /// What to do with files found in closed hours that were never ingested.
    public var lateFiles: LateFilePolicy = .ingest
    /// The first hour a new source reads (hours before it are neither listed nor read unless a backfill asks);
    /// nil: everything under the root. Applies only before anything was ingested.
    public var startAtHour: Int32?
    /// This worker's shard of the source.
    public var shard: ShardID = .single
    /// Commit after this many input objects...
    public var commitEveryObjects = 1_000
    /// ...or this many input bytes (as stored, compressed), whichever comes first.
    public var commitEveryBytes: Int64 = 2 << 30
    /// Data files roll at this size.
    public var targetFileSizeBytes = 128 << 20
    /// Zstandard level of the data files.
    public var zstdLevel: Int32 = 1
    /// Input is read in ranges of this size; an object of up to twice this, or the rest of a larger one when
    /// that is at most twice this, is one range (one request per object up to 16 MiB by default). The first
    /// objects of a pass (one per thread) are the exception: their first read, with nothing to overlap it, is
    /// asked as ranges of 1, 2, 4 MiB and so on, all at once, so that their parses start after the first MiB.
    public var readChunkBytes = 8 << 20
    /// Rows parsed before they are handed to the writers: a batch goes once it holds this many rows (or 64
    /// MiB), checked after each piece of text, so a plain object read in one request (up to 16 MiB by
    /// default) is one batch however many rows it holds.
    public var batchRows = 65_536
    /// The longest record accepted (decompressed bytes; job file `ingest.max_record_bytes`). A record
    /// still unfinished past it is a bad record (under the bad-record policy, like any other), and the input
    /// resumes at the line after its start: input without record ends cannot grow memory without bound.
    public var maxRecordBytes = defaultMaxRecordBytes
    /// 4 MiB: four times the largest record Kinesis Data Firehose accepts.
    public static let defaultMaxRecordBytes = 4 << 20
    /// Input objects fetched ahead of their parse, at most (their first ``readChunkBytes``; the objects being
    /// parsed read their next chunk ahead too). Past the first, only while those first chunks together stay
    /// within ``prefetchBytes`` (at first 32 MiB of it): objects of up to two read chunks (read whole) keep 2
    /// or more fetched ahead (8 once the source falls behind), larger ones (first read one chunk) 4 (16),
    /// small ones up to this many, so that an endpoint's latency per request (tens of milliseconds on S3)
    /// overlaps across objects.
    public var prefetchObjects = 32
    /// The bytes of first chunks fetched ahead, at most (see ``prefetchObjects``): 128 MiB by default, eight
    /// objects of up to two read chunks (read in one request each; nine 14.7 MB Firehose objects), or the
    /// first chunks of sixteen larger ones. A pass starts with 32 MiB ahead (or this, if less): two such
    /// objects, so that each of two parses finds its next object already here. Once a parse has waited
    /// (over 20 ms) for an object fetched ahead, the source delivers slower than the threads parse (S3 gives
    /// one connection some 100 MB/s), and up to this much is fetched ahead, for more requests at once
    /// (`iceberg-bench ingest --connection-mbps 80` measures it). A source that keeps up never has more
    /// than the 32 MiB ahead; one that does not, this much more memory.
    public var prefetchBytes: Int64 = 128 << 20
    /// Objects read and parsed at once (decompression and parsing run on that many threads; encoding runs on
    /// one more): the machine's active cores by default (`ingest.threads`). When fewer objects are left than
    /// threads, JSON text held whole (a gzip object up to 8 MiB, a plain one of 4 to 32 MiB) is parsed in up to
    /// this many parts at once. Memory
    /// grows with it: each parse holds a read chunk, its decompressor's window and a batch of rows, or a
    /// text held whole and its rows.
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// The ``threads`` allowed.
    public static let threadsRange = 1...256
    /// Data files uploaded at the same time.
    public var uploadConcurrency = 4
    /// How long this runner's lease of the source shard lasts without renewal (it renews every third of
    /// it). A runner killed without letting go blocks the shard this long, unless a later runner on the same
    /// host sees that its process is gone.
    public var leaseSeconds = IngestConfiguration.leaseSecondsDefault
    /// The ``leaseSeconds`` a configuration starts with: a minute.
    package static let leaseSecondsDefault = 60.0
    /// The ``leaseSeconds`` allowed: 1 s to 1 day.
    public static let leaseSecondsRange = 1.0...86_400
    /// ``leaseSeconds`` in milliseconds, held to ``leaseSecondsRange`` (``validate()`` refuses anything else;
    /// this keeps a path that reads the lease before validating, such as status, from trapping on a huge or
    /// NaN value).
    var leaseMillis: Int64 { leaseSeconds.isNaN ? Int64(Self.leaseSecondsDefault * 1000) : Int64(min(max(leaseSeconds, Self.leaseSecondsRange.lowerBound), Self.leaseSecondsRange.upperBound) * 1000) }
    /// How long a run waits for another runner's lease of the same shard to end; nil (the default): fail at
    /// once with ``CheckpointError/Code/leaseHeld`` naming the holder. At most ``maxLeaseWaitSeconds``.
    public var leaseWaitSeconds: Double?
    /// The longest ``leaseWaitSeconds``: 7 days.
    public static let maxLeaseWaitSeconds = 604_800.0
    /// A run whose shard count differs from the one the source's commits record (``ShardLayout``) fails
    /// unless this is set; then the first such run rescales the source: under the layout's lock and every old
    /// shard's lease it merges the old shards' checkpoints into the new ones and commits them in one snapshot
    /// (``Ingestor/rescale(_:)``), and every run of the new count goes on from there. Also moves a source
    /// sharded by hour prefix (before layouts were recorded) to per-object ownership.
    public var rescale = false

    /// The commit retries of ingestion commits where the table sets no `commit.retry.*` property: N shards
    /// commit to one table, and a conflict costs only a new manifest list, so a commit tries up to 30 times,
    /// waiting a random time between 50 ms and a ceiling that doubles up to 5 s, for at most 10 minutes in all
    /// (`iceberg-bench commit-scaling` measures it: with 8 committers of 20 commits each, none gave up; with
    /// Iceberg's default of 4 retries, 1 or 2 of the 160 did).
    public static let commitRetryDefaults: [String: String] = [
        "commit.retry.num-retries": "30", "commit.retry.min-wait-ms": "50", "commit.retry.max-wait-ms": "5000",
        "commit.retry.total-timeout-ms": "600000",
    ]

    public init(table: TableIdentifier, schema: Schema) {
        self.table = table
        self.schema = schema
    }

    func validate() throws {
        guard Self.threadsRange.contains(threads) else { throw IngestError(.invalidConfiguration, IngestError.outOfRange("threads", threads, Self.threadsRange)) }
        guard commitEveryObjects > 0, commitEveryBytes > 0, targetFileSizeBytes > 0, readChunkBytes >= 1024, batchRows > 0, maxRecordBytes > 0 else {
            throw IngestError(.invalidConfiguration, "commit thresholds, target file size, read chunk size, batch rows and the record size limit must be positive")
        }
        guard prefetchObjects >= 1, prefetchBytes >= 1 else {
            throw IngestError(.invalidConfiguration, "prefetchObjects and prefetchBytes must be positive, not \(prefetchObjects) and \(prefetchBytes)")
        }
        guard Self.lateArrivalHoursRange.contains(lateArrivalHours) else {
            throw IngestError(.invalidConfiguration, IngestError.outOfRange("late_arrival_hours", lateArrivalHours, Self.lateArrivalHoursRange))
        }
        guard Self.reconcileHoursRange.contains(reconcileHours) else {
            throw IngestError(.invalidConfiguration, IngestError.outOfRange("reconcile_hours", reconcileHours, Self.reconcileHoursRange))
        }
        if let every = reconcileEverySeconds, !(every > 0) { throw IngestError(.invalidConfiguration, "reconcile_every must be positive (or off)") }
        guard Self.leaseSecondsRange.contains(leaseSeconds) else {
            throw IngestError(.invalidConfiguration, IngestError.outOfRange("lease_seconds", leaseSeconds, Self.leaseSecondsRange))
        }
        if let wait = leaseWaitSeconds, !(0...Self.maxLeaseWaitSeconds).contains(wait) {
            throw IngestError(.invalidConfiguration, IngestError.outOfRange("lease_wait_seconds", wait, 0...Self.maxLeaseWaitSeconds))
        }
    }
}
