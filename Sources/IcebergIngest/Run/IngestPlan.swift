/// What a run would do: the objects it would read and what it would skip. `iceberg-ingest plan --json`
/// prints it as one line of JSON (``jsonLine``).
public struct IngestPlan: Sendable, Codable, Equatable {
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
    /// Closed hours listed again (a reconciliation or a backfill), and the late files found there: objects
    /// the archive of what was ingested lacks (in `toRead` too under the late-file policy `ingest`).
    public var closedHoursListed = 0
    public var lateFiles: [SourceObject] = []

    /// The plan as one line of JSON (keys sorted, lowerCamelCase like every `--json` output).
    public var jsonLine: String { JSONLine.encode(self) }
}
