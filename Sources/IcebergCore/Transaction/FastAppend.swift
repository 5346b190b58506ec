import Foundation

/// Appends data files to a table in one snapshot: one new manifest for the new files, and a manifest list
/// that carries the previous snapshot's manifests; once they are many (`commit.manifest.min-count-to-merge`,
/// default 100) small ones are merged into larger ones, as Java's merge append does (``mergeManifests``).
///
/// On a conflict (another writer committed first) the snapshot is rebuilt on the new current snapshot and
/// committed again, with exponential backoff per the table's `commit.retry.*` properties. The new manifest
/// is written once; only the manifest list (and merged manifests) and the metadata are rewritten on retry.
///
/// ```swift
/// var append = FastAppend(table: table, catalog: catalog)
/// append.add(dataFile)
/// append.summaryProperties["iceberg-ingest.checkpoint-version"] = "17"
/// let committed = try await append.commit()
/// ```
public struct FastAppend: Sendable {
    public private(set) var table: Table
    public let catalog: any Catalog
    public private(set) var dataFiles: [DataFile] = []
    /// Extra snapshot summary properties (the checkpoint rides here).
    public var summaryProperties: [String: String] = [:]
    /// The new snapshot's id (random positive by default; injectable for golden tests).
    public var snapshotID: Int64
    public var clock: MillisecondClock
    /// Called before each retry with the attempt number and the conflict; for logs and tests.
    public var onRetry: (@Sendable (Int, IcebergError) -> Void)?
    /// `commit.retry.*` values (`num-retries`, `min-wait-ms`, `max-wait-ms`, `total-timeout-ms`) used where the
    /// table sets none: a writer that expects many concurrent committers (the shards of one source) allows
    /// more retries than Iceberg's default 4.
    public var retryDefaults: [String: String] = [:]
    /// Called after the manifest and manifest list are written, just before each catalog swap, with the
    /// table the attempt builds on (a writer checks what concurrent commits changed there; fail-point tests
    /// stop a process here). An error it throws ends the commit and deletes what the attempt wrote.
    package var beforeCatalogSwap: (@Sendable (_ base: Table) async throws -> Void)?
    /// Metadata changes committed with the snapshot, atomically (a schema evolved by the same run), and the
    /// requirements they rest on. The snapshot records the schema current after them.
    public var additionalUpdates: [TableUpdate] = []
    public var additionalRequirements: [TableRequirement] = []
    /// Whether to merge small manifests into larger ones when the snapshot would have
    /// `commit.manifest.min-count-to-merge` or more (Java's merge append; see the table properties
    /// `commit.manifest-merge.enabled` and `commit.manifest.target-size-bytes`). `false`: a fast append.
    public var mergeManifests = true

    public init(table: Table, catalog: any Catalog, snapshotID: Int64? = nil, clock: @escaping MillisecondClock = WallClock.nowMillis) {
        self.table = table
        self.catalog = catalog
        self.snapshotID = snapshotID ?? Self.newSnapshotID()
        self.clock = clock
    }

    /// A random positive 63-bit id (Java and PyIceberg use random UUID-derived positive longs).
    public static func newSnapshotID() -> Int64 { Int64.random(in: 1...Int64.max) }

    public mutating func add(_ file: DataFile) { dataFiles.append(file) }
    public mutating func add(contentsOf files: [DataFile]) { dataFiles += files }

    /// Writes the manifest, then commits, retrying on conflict; returns the table as committed.
    /// On failure, the files it wrote (manifest and manifest lists) are deleted; data files stay the caller's.
    public func commit() async throws -> Table {
        try await producer.commit(table: table, catalog: catalog, added: dataFiles) { base, _, _ in
            guard let parent = base.metadata.currentSnapshot else { return ([], []) }
            return (try ManifestCodec.readManifestList(try await base.io.read(parent.manifestList), location: parent.manifestList), [])
        }
    }

    var producer: SnapshotProducer {
        SnapshotProducer(
            operation: "append", snapshotID: snapshotID, summaryProperties: summaryProperties, additionalUpdates: additionalUpdates,
            additionalRequirements: additionalRequirements, clock: clock, mergeManifests: mergeManifests, onRetry: onRetry, retryDefaults: retryDefaults,
            beforeCatalogSwap: beforeCatalogSwap)
    }

    /// The standard summary (Java's SnapshotSummary): what this snapshot added and the table's new totals.
    func summary(parent: Snapshot?) -> [String: String] {
        SnapshotProducer.summary(operation: "append", added: dataFiles, deleted: [], parent: parent, extra: summaryProperties)
    }

    /// Per partition field: whether any file has a null value, and the lowest and highest values.
    static func summaries(_ files: [DataFile], partitionType: StructType) -> [FieldSummary] {
        partitionType.fields.enumerated().map { index, field in
            var containsNull = false, containsNaN = false
            var lower: Literal?, upper: Literal?
            for file in files where index < file.partition.count {
                guard let value = file.partition[index] else { containsNull = true; continue }
                if case .double(let d) = value, d.isNaN { containsNaN = true; continue }
                if case .float(let f) = value, f.isNaN { containsNaN = true; continue }
                if lower.map({ value.compare($0) ?? 0 < 0 }) ?? true { lower = value }
                if upper.map({ value.compare($0) ?? 0 > 0 }) ?? true { upper = value }
            }
            let isFloating = field.type.primitive == .float || field.type.primitive == .double
            return FieldSummary(containsNull: containsNull, containsNaN: isFloating ? containsNaN : nil, lowerBound: lower?.binary, upperBound: upper?.binary)
        }
    }
}
