import Foundation

/// What one run did, with every input record accounted for.
public struct RunSummary: Sendable, Codable, Equatable {
    public var table: String
    public var source: String
    public var shard: String
    /// Objects the listing found for this shard, and what became of them.
    public var objectsListed = 0
    public var objectsIngested = 0
    /// Objects whose bytes are damaged (their compression, or their Parquet or Avro container), left out whole
    /// under the bad-record policies `skip` and `dead-letter` and recorded as done: none of their rows is in
    /// the table (under `dead-letter` each has one entry of kind `damaged-object`, not counted in
    /// ``deadLettered``). A repaired copy is read when it lands under a new key; under the same key it is a
    /// changed object (``IngestConfiguration/changedObjectPolicy``).
    public var damagedObjects = 0
    /// Why, for the first ten: the object and what is wrong with it.
    public var damagedObjectExamples: [String] = []
    /// Whether a ``StopRequest`` (SIGTERM) ended the run early: it committed what it had read, and the
    /// objects not read yet are left for the next run.
    public var stopped = false
    public var objectsAlreadyIngested = 0
    /// Objects whose ETag or size changed after they were ingested (keys; see the changed-object policy).
    public var objectsChanged: [String] = []
    /// Keys under the root that do not follow the layout (not read).
    public var unmatchedKeys = 0
    public var prefixesListed = 0
    /// Input bytes read (as stored) and after decompression.
    public var bytesRead: Int64 = 0
    public var bytesDecompressed: Int64 = 0
    /// Objects whose text was parsed in parts on several threads (JSON held whole: a gzip object up to 8 MiB,
    /// a plain one up to 32 MiB, at least 4 MiB of text, with `ingest.threads` above 1, among a pass's last
    /// objects).
    public var objectsParsedInParts = 0
    /// Lines of decompressed input (for line-delimited input: rows + bad records + header and blank lines).
    public var lines = 0
    public var headerLines = 0
    public var rows = 0
    public var badRecords = 0
    public var deadLettered = 0
    /// The first bad records, described (file, line, byte offset, field, reason).
    public var badRecordExamples: [String] = []
    /// Input keys the schema lacks, with counts (schema drift).
    public var unknownFields: [String: Int] = [:]
    /// Schema drift: new fields, type mismatches and missing required fields, with counts and where seen.
    public var drift: [DriftFinding] = []
    /// Schema changes this run committed (policy add-columns or rescue).
    public var schemaChanges: [String] = []
    /// Data files written by the run.
    public var dataFiles = 0
    /// Data files removed from the table by a reprocessing (``Ingestor/evolve(apply:now:progress:)``).
    public var dataFilesReplaced = 0
    /// Parquet inputs added to the table as they are (their schema matched).
    public var dataFilesRegistered = 0
    public var dataBytes: Int64 = 0
    /// Snapshots committed by this run, oldest first.
    public var snapshotIDs: [Int64] = []
    public var checkpointVersion: Int64 = 0
    public var watermarkHour: Int32?
    /// Closed hours listed again by a reconciliation or a backfill, the late files found there (objects the
    /// archive of what was ingested lacked) and the first ten of their keys.
    public var closedHoursListed = 0
    public var lateFiles = 0
    public var lateFileKeys: [String] = []
    /// Data files of a crashed earlier run found and deleted.
    public var orphanFilesDeleted = 0
    /// Seconds spent: reading (network or disk), parsing (with decompression), encoding Parquet, uploading,
    /// committing, and in all. They overlap: a commit's seconds run from its start (its data files' last row
    /// groups encoding, the checkpoint saved meanwhile) to its end, and its upload seconds from the
    /// checkpoint's save to the last file's upload.
    public var readSeconds = 0.0
    public var parseSeconds = 0.0
    public var encodeSeconds = 0.0
    public var uploadSeconds = 0.0
    public var commitSeconds = 0.0
    public var totalSeconds = 0.0

    public init(table: String, source: String, shard: String) {
        self.table = table
        self.source = source
        self.shard = shard
    }

    /// The summary as one line of JSON (keys sorted).
    public var jsonLine: String {
        JSONLine.encode(self)
    }
}

/// How far a run has got, for a progress bar.
public struct IngestProgress: Sendable, Equatable {
    public enum Phase: String, Sendable { case listing, reading, committing, done }
    public var phase: Phase
    public var objectsDone: Int
    public var objectsTotal: Int
    public var bytesDone: Int64
    public var bytesTotal: Int64
    public var rows: Int
    public var badRecords: Int

    /// One line of a terminal progress bar, `elapsed` seconds after the run started: the bar, objects and
    /// megabytes done, rows, the rates (MB/s and rows/s) and, once a rate is known, the time left.
    ///
    /// ```swift
    /// FileHandle.standardError.write(Data(("\r" + progress.line(elapsed: 12.5)).utf8))
    /// // [###############...............]  50% 2/4 objects 100.0/200.0 MB 1000000 rows 8.0 MB/s 80000 rows/s ETA 13s reading
    /// ```
    public func line(elapsed: Double) -> String {
        let fraction = bytesTotal > 0 ? min(1, Double(bytesDone) / Double(bytesTotal)) : (phase == .done ? 1 : 0)
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        var text = String(
            format: "[%@] %3d%% %d/%d objects %.1f/%.1f MB %d rows", bar, Int(fraction * 100), objectsDone, objectsTotal,
            Double(bytesDone) / 1e6, Double(bytesTotal) / 1e6, rows)
        if elapsed > 0.5, bytesDone > 0 {
            let bytesPerSecond = Double(bytesDone) / elapsed
            text += String(format: " %.1f MB/s %.0f rows/s", bytesPerSecond / 1e6, Double(rows) / elapsed)
            if phase != .done, bytesTotal > bytesDone { text += " ETA " + Self.duration(Double(bytesTotal - bytesDone) / bytesPerSecond) }
        }
        if badRecords > 0 { text += " \(badRecords) bad" }
        return text + " " + phase.rawValue
    }

    /// `42s`, `3m05s`, `2h07m`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }
}
