import Foundation

/// Removes data files from a table and adds others in one snapshot: `replace` when the rows stay the same
/// (compaction), `overwrite` when they change (reprocessing under a new schema).
///
/// Manifests holding a removed file are rewritten: the removed entries become DELETED by this snapshot, the
/// others EXISTING with their snapshot id and sequence numbers kept; manifests without one are carried
/// unchanged, and the added files go into a new manifest. On a conflict the commit is rebuilt on the new
/// current snapshot (a concurrent append is kept), after checking that every file to remove is still
/// there: if another commit removed one, it fails with `.validationFailed` and does not retry.
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

    public private(set) var table: Table
    public let catalog: any Catalog
    public let operation: Operation
    /// Locations of the data files to remove.
    public private(set) var deletedPaths: Set<String> = []
    public private(set) var addedFiles: [DataFile] = []
    /// Extra snapshot summary properties (the checkpoint rides here).
    public var summaryProperties: [String: String] = [:]
    public var snapshotID: Int64
    public var clock: MillisecondClock
    /// Called before each retry with the attempt number and the conflict.
    public var onRetry: (@Sendable (Int, IcebergError) -> Void)?
    /// Called just before each catalog swap (fail-point tests stop a process here).
    package var beforeCatalogSwap: (@Sendable () throws -> Void)?
    /// Metadata changes committed with the snapshot, atomically, and the requirements they rest on.
    public var additionalUpdates: [TableUpdate] = []
    public var additionalRequirements: [TableRequirement] = []

    public init(
        table: Table, catalog: any Catalog, operation: Operation, snapshotID: Int64? = nil, clock: @escaping MillisecondClock = WallClock.nowMillis
    ) {
        self.table = table
        self.catalog = catalog
        self.operation = operation
        self.snapshotID = snapshotID ?? FastAppend.newSnapshotID()
        self.clock = clock
    }

    public mutating func delete(paths: some Sequence<String>) { deletedPaths.formUnion(paths) }
    public mutating func add(_ file: DataFile) { addedFiles.append(file) }
    public mutating func add(contentsOf files: [DataFile]) { addedFiles += files }

    /// Writes the manifests and commits, retrying on conflict; returns the table as committed. On failure
    /// the manifests and manifest lists it wrote are deleted; data files stay the caller's.
    public func commit() async throws -> Table {
        var written: [String] = []
        do {
            let added = try await SnapshotProducer.writeAddedManifests(addedFiles, snapshotID: snapshotID, table: table, written: &written)
            return try await SnapshotProducer.retrying(table, catalog: catalog, clock: clock, what: operation.rawValue, onRetry: onRetry) { base, attempt in
                var attemptFiles: [String] = []
                do {
                    let (updates, requirements) = try await stage(on: base, added: added, attempt: attempt, written: &attemptFiles)
                    try beforeCatalogSwap?()
                    return try await catalog.commit(base.identifier, requirements: requirements, updates: updates)
                } catch let error as IcebergError where error.code == .commitConflict {
                    for location in attemptFiles { try? await base.io.delete(location) }
                    throw error
                } catch {
                    written += attemptFiles
                    throw error
                }
            }
        } catch {
            for location in written { try? await table.io.delete(location) }
            throw error
        }
    }

    /// Rewrites the manifests holding removed files and writes the manifest list for a snapshot on `base`.
    private func stage(
        on base: Table, added: [ManifestFile], attempt: Int, written: inout [String]
    ) async throws -> ([TableUpdate], [TableRequirement]) {
        let metadata = base.metadata
        let io = base.io
        guard let parent = metadata.currentSnapshot else {
            if deletedPaths.isEmpty { throw IcebergError(.invalidArgument, "\(operation.rawValue) of \(base.identifier): nothing to rewrite") }
            throw IcebergError(.validationFailed, "\(operation.rawValue) of \(base.identifier): the table has no snapshot, so \(deletedPaths.count) files to remove are missing")
        }
        let sequenceNumber = metadata.lastSequenceNumber + 1
        var manifests = added.map {
            var m = $0
            m.sequenceNumber = sequenceNumber
            m.minSequenceNumber = sequenceNumber
            return m
        }
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
            var removedHere: [DataFile] = []
            for entry in entries where entry.status != .deleted {
                var e = entry
                if deletedPaths.contains(entry.dataFile.filePath) {
                    e.status = .deleted
                    e.snapshotID = snapshotID
                    removedHere.append(entry.dataFile)
                } else {
                    e.status = .existing
                }
                kept.append(e)
            }
            found += removedHere
            guard let spec = metadata.spec(id: manifest.specID) else {
                throw IcebergError(.invalidMetadata, "manifest \(manifest.path) names partition spec \(manifest.specID), which table \(base.identifier) lacks")
            }
            let bytes = try ManifestCodec.writeManifest(entries: kept, spec: spec, schema: metadata.currentSchema)
            let location = "\(metadata.location)/metadata/\(UUID().uuidString.lowercased())-r\(attempt).avro"
            try await io.writeIfAbsent(location, bytes: bytes)
            written.append(location)
            let existing = kept.filter { $0.status == .existing }
            manifests.append(ManifestFile(
                path: location, length: Int64(bytes.count), specID: manifest.specID, sequenceNumber: sequenceNumber,
                minSequenceNumber: kept.compactMap(\.sequenceNumber).min() ?? sequenceNumber, addedSnapshotID: snapshotID,
                addedFilesCount: 0, existingFilesCount: existing.count, deletedFilesCount: removedHere.count,
                addedRowsCount: 0, existingRowsCount: existing.reduce(0) { $0 + $1.dataFile.recordCount },
                deletedRowsCount: removedHere.reduce(0) { $0 + $1.recordCount },
                partitions: FastAppend.summaries(kept.map(\.dataFile), partitionType: try spec.partitionType(schema: metadata.currentSchema))))
        }
        let missing = deletedPaths.subtracting(found.map(\.filePath))
        if !missing.isEmpty {
            throw IcebergError(
                .validationFailed,
                "\(operation.rawValue) of \(base.identifier): \(missing.count) files to remove are no longer in the table (removed by a concurrent commit?), e.g. \(missing.sorted()[0])")
        }
        let listLocation = "\(metadata.location)/metadata/snap-\(snapshotID)-\(attempt)-\(UUID().uuidString.lowercased()).avro"
        let bytes = try ManifestCodec.writeManifestList(manifests, snapshotID: snapshotID, parentID: parent.id, sequenceNumber: sequenceNumber)
        try await io.writeIfAbsent(listLocation, bytes: bytes)
        written.append(listLocation)
        let snapshot = Snapshot(
            id: snapshotID, parentID: parent.id, sequenceNumber: sequenceNumber, timestampMillis: clock(), manifestList: listLocation,
            summary: SnapshotProducer.summary(operation: operation.rawValue, added: addedFiles, deleted: found, parent: parent, extra: summaryProperties),
            schemaID: try SnapshotProducer.schemaID(after: additionalUpdates, on: metadata, nowMillis: clock()))
        return (
            additionalUpdates + [.addSnapshot(snapshot), .setSnapshotRef(name: SnapshotRef.mainBranch, ref: SnapshotRef(snapshotID: snapshotID, kind: .branch))],
            additionalRequirements + [.assertTableUUID(metadata.tableUUID), .assertRefSnapshotID(ref: SnapshotRef.mainBranch, snapshotID: parent.id)]
        )
    }
}
