import Foundation

/// Removes data files from a table and adds others in one snapshot: `replace` when the rows stay the same
/// (compaction), `overwrite` when they change (reprocessing under a new schema).
///
/// Manifests holding a removed file are rewritten: the removed entries become DELETED by this snapshot, the
/// others EXISTING with their snapshot id and sequence numbers kept; manifests without one are carried
/// unchanged, and the added files go into a new manifest. On a conflict the commit is rebuilt on the new
/// current snapshot (a concurrent append is kept), after checking that every file to remove is still
/// there: if another commit removed one, it fails with `.validationFailed` and does not retry. With
/// ``validateNoConcurrentAppendsIn`` it also fails when a concurrent commit added files in given partitions.
/// The snapshot summary counts what was added and removed (`added-data-files`, `deleted-data-files`,
/// `deleted-records`, `removed-files-size`, ...) and the new totals.
///
/// ```swift
/// var rewrite = RewriteFiles(table: table, catalog: catalog, operation: .overwrite)
/// rewrite.delete(paths: ["s3://lake/wh/db/events/data/old.parquet"])
/// rewrite.add(newFile)
/// let committed = try await rewrite.commit()
/// ```
public struct RewriteFiles: Sendable {
    /// The snapshot's `operation` (spec: Snapshots).
    public enum Operation: String, Sendable {
        /// Files replaced by files holding the same rows.
        case replace
        /// Files replaced by files holding different rows.
        case overwrite
    }

    /// The table as planned on: files to remove are checked against the current table at commit time.
    public private(set) var table: Table
    public let catalog: any Catalog
    public let operation: Operation
    /// Locations of the data files to remove.
    public private(set) var deletedPaths: Set<String> = []
    /// The data files to add.
    public private(set) var addedFiles: [DataFile] = []
    /// Extra snapshot summary properties (the checkpoint rides here).
    public var summaryProperties: [String: String] = [:]
    /// The new snapshot's id (random positive by default).
    public var snapshotID: Int64
    /// The clock stamping the snapshot.
    public var clock: MillisecondClock
    /// Called before each retry with the attempt number and the conflict.
    public var onRetry: (@Sendable (Int, IcebergError) -> Void)?
    /// `commit.retry.*` values (`num-retries`, `min-wait-ms`, `max-wait-ms`, `total-timeout-ms`) used where the
    /// table sets none: a writer that expects many concurrent committers (the shards of one source) allows
    /// more retries than Iceberg's default 4.
    public var retryDefaults: [String: String] = [:]
    /// Called just before each catalog swap, with the table the attempt builds on (fail-point tests stop a
    /// process here). An error it throws ends the commit and deletes what the attempt wrote.
    package var beforeCatalogSwap: (@Sendable (_ base: Table) async throws -> Void)?
    /// Metadata changes committed with the snapshot, atomically, and the requirements they rest on.
    public var additionalUpdates: [TableUpdate] = []
    public var additionalRequirements: [TableRequirement] = []
    /// Merge small manifests as ``FastAppend/mergeManifests`` does.
    public var mergeManifests = true
    /// For a compaction that must not run beside writers of the same partitions: fail with
    /// `.validationFailed` when a snapshot committed since the table was loaded added data files in one of
    /// these partitions (Java's conflicting-appends validation). Nil (default): a concurrent append is kept,
    /// which is right for bin-packing (it never touches the new files).
    public var validateNoConcurrentAppendsIn: Set<Partition>?
    /// Checks a rebuilt attempt's table (one that moved since the table was loaded) before the attempt
    /// writes anything; an error it throws ends the commit without retrying. A compaction fails here when a
    /// concurrent commit added delete files that may apply to its inputs (Java's
    /// `validateNoNewDeletesForDataFiles`): rewritten rows would escape them.
    ///
    /// ```swift
    /// rewrite.validateRebase = { base in
    ///     if try await !base.liveDeleteFiles().isEmpty { throw IcebergError(.validationFailed, "deletes arrived") }
    /// }
    /// ```
    public var validateRebase: (@Sendable (_ base: Table) async throws -> Void)?

    /// A partition of the table: a spec id and the partition tuple (``DataFile/partition``).
    public struct Partition: Sendable, Hashable {
        public var specID: Int
        public var values: [Literal?]
        public init(specID: Int, values: [Literal?]) {
            self.specID = specID
            self.values = values
        }
    }

    public init(
        table: Table, catalog: any Catalog, operation: Operation, snapshotID: Int64? = nil, clock: @escaping MillisecondClock = WallClock.nowMillis
    ) {
        self.table = table
        self.catalog = catalog
        self.operation = operation
        self.snapshotID = snapshotID ?? FastAppend.newSnapshotID()
        self.clock = clock
    }

    /// Removes the data files at these locations (each must be live in the table at commit time).
    public mutating func delete(paths: some Sequence<String>) { deletedPaths.formUnion(paths) }
    /// Adds a data file.
    public mutating func add(_ file: DataFile) { addedFiles.append(file) }
    /// Adds data files.
    public mutating func add(contentsOf files: [DataFile]) { addedFiles += files }

    /// Writes the manifests and commits, retrying on conflict; returns the table as committed. On failure
    /// the manifests and manifest lists it wrote are deleted; data files stay the caller's.
    public func commit() async throws -> Table {
        let producer = SnapshotProducer(
            operation: operation.rawValue, snapshotID: snapshotID, summaryProperties: summaryProperties, additionalUpdates: additionalUpdates,
            additionalRequirements: additionalRequirements, clock: clock, mergeManifests: mergeManifests, onRetry: onRetry, retryDefaults: retryDefaults,
            beforeCatalogSwap: beforeCatalogSwap)
        let startingSnapshotID = table.metadata.currentSnapshotID
        return try await producer.commit(table: table, catalog: catalog, added: addedFiles) { base, attempt, written in
            if let partitions = validateNoConcurrentAppendsIn, base.metadata.currentSnapshotID != startingSnapshotID {
                try await validateNoAppends(in: partitions, since: startingSnapshotID, base: base)
            }
            if let validateRebase, base.metadata.currentSnapshotID != startingSnapshotID { try await validateRebase(base) }
            return try await rewriteManifests(on: base, attempt: attempt, written: &written)
        }
    }

    /// Fails when a snapshot committed on `base` since `startingSnapshotID` added data files in `partitions`.
    private func validateNoAppends(in partitions: Set<Partition>, since startingSnapshotID: Int64?, base: Table) async throws {
        let metadata = base.metadata
        let ancestors = metadata.ancestors()
        var newer: [Snapshot] = []
        for snapshot in ancestors {
            if snapshot.id == startingSnapshotID { break }
            newer.append(snapshot)
        }
        if let startingSnapshotID, newer.count == ancestors.count {
            throw IcebergError(
                .validationFailed,
                "\(operation.rawValue) of \(base.identifier): snapshot \(startingSnapshotID) it was planned on is no longer an ancestor of the current snapshot")
        }
        for snapshot in newer where snapshot.operation == "append" || snapshot.operation == "overwrite" {
            let manifests = try ManifestCodec.readManifestList(try await base.io.read(snapshot.manifestList), location: snapshot.manifestList)
            for manifest in manifests where manifest.content == 0 && manifest.addedSnapshotID == snapshot.id && manifest.addedFilesCount > 0 {
                let entries = try ManifestCodec.readManifest(
                    try await base.io.read(manifest.path), manifest: manifest, schema: metadata.currentSchema, specs: metadata.partitionSpecs,
                    location: manifest.path)
                for entry in entries where entry.status == .added && entry.snapshotID == snapshot.id {
                    let partition = Partition(specID: entry.dataFile.specID, values: entry.dataFile.partition)
                    guard partitions.contains(partition) else { continue }
                    throw IcebergError(
                        .validationFailed,
                        "\(operation.rawValue) of \(base.identifier): snapshot \(snapshot.id) added \(entry.dataFile.filePath) concurrently in a partition being rewritten")
                }
            }
        }
    }

    /// The current snapshot's manifests on `base`, those holding removed files rewritten, and the files removed.
    /// Throws `.validationFailed` when a file to remove is no longer live.
    private func rewriteManifests(on base: Table, attempt: Int, written: inout [String]) async throws -> (manifests: [ManifestFile], deleted: [DataFile]) {
        let metadata = base.metadata
        let io = base.io
        guard let parent = metadata.currentSnapshot else {
            if deletedPaths.isEmpty { throw IcebergError(.invalidArgument, "\(operation.rawValue) of \(base.identifier): nothing to rewrite") }
            throw IcebergError(.validationFailed, "\(operation.rawValue) of \(base.identifier): the table has no snapshot, so \(deletedPaths.count) files to remove are missing")
        }
        let sequenceNumber = metadata.lastSequenceNumber + 1
        var manifests: [ManifestFile] = []
        var found: [DataFile] = []
        for manifest in try ManifestCodec.readManifestList(try await io.read(parent.manifestList), location: parent.manifestList) {
            guard manifest.content == 0, !deletedPaths.isEmpty else {
                manifests.append(manifest)
                continue
            }
            let entries = try ManifestCodec.readManifest(
                try await io.read(manifest.path), manifest: manifest, schema: metadata.currentSchema, specs: metadata.partitionSpecs, location: manifest.path)
            guard entries.contains(where: { $0.status != .deleted && deletedPaths.contains($0.dataFile.filePath) }) else {
                manifests.append(manifest)
                continue
            }
            // Entries stay with their sequence numbers; removed ones are marked deleted by this snapshot, and
            // entries deleted by earlier snapshots are dropped (as Java does when it rewrites a manifest).
            var kept: [ManifestEntry] = []
            for entry in entries where entry.status != .deleted {
                var e = entry
                if deletedPaths.contains(entry.dataFile.filePath) {
                    e.status = .deleted
                    e.snapshotID = snapshotID
                    found.append(entry.dataFile)
                } else {
                    e.status = .existing
                }
                kept.append(e)
            }
            let location = SnapshotFiles.manifest(tableLocation: metadata.location, snapshotID: snapshotID, kind: "r\(attempt)")
            manifests.append(try await SnapshotProducer.writeManifest(
                kept, specID: manifest.specID, table: base, location: location, snapshotID: snapshotID, sequenceNumber: sequenceNumber,
                written: &written))
        }
        let missing = deletedPaths.subtracting(found.map(\.filePath))
        if !missing.isEmpty {
            throw IcebergError(
                .validationFailed,
                "\(operation.rawValue) of \(base.identifier): \(missing.count) files to remove are no longer in the table (removed by a concurrent commit?), e.g. \(missing.sorted()[0])")
        }
        return (manifests, found)
    }
}
