import Foundation

/// Appends data files to a table in one snapshot, the way Iceberg's fast append does: one new manifest for
/// the new files, and a manifest list that carries the previous snapshot's manifests unchanged.
///
/// On a conflict (another writer committed first) the snapshot is rebuilt on the new current snapshot and
/// committed again, with exponential backoff per the table's `commit.retry.*` properties. The new manifest
/// is written once; only the manifest list and the metadata are rewritten on retry.
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
    /// Called after the manifest and manifest list are written, just before each catalog swap (fail-point
    /// tests stop a process here).
    package var beforeCatalogSwap: (@Sendable () throws -> Void)?
    /// Metadata changes committed with the snapshot, atomically (a schema evolved by the same run), and the
    /// requirements they rest on. The snapshot records the schema current after them.
    public var additionalUpdates: [TableUpdate] = []
    public var additionalRequirements: [TableRequirement] = []

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
        let io = table.io
        let metadata = table.metadata
        let schema = metadata.currentSchema
        var manifests: [ManifestFile] = []
        var written: [String] = []
        do {
            // One manifest per partition spec among the files.
            for specID in Set(dataFiles.map(\.specID)).sorted() {
                guard let spec = metadata.spec(id: specID) else {
                    throw IcebergError(.invalidArgument, "table \(table.identifier) has no partition spec \(specID)")
                }
                let files = dataFiles.filter { $0.specID == specID }
                let entries = files.map { ManifestEntry(status: .added, snapshotID: snapshotID, sequenceNumber: nil, fileSequenceNumber: nil, dataFile: $0) }
                let bytes = try ManifestCodec.writeManifest(entries: entries, spec: spec, schema: schema)
                let location = "\(metadata.location)/metadata/\(UUID().uuidString.lowercased())-m\(manifests.count).avro"
                try await io.writeIfAbsent(location, bytes: bytes)
                written.append(location)
                let partitionType = try spec.partitionType(schema: schema)
                manifests.append(ManifestFile(
                    path: location, length: Int64(bytes.count), specID: specID, sequenceNumber: 0, minSequenceNumber: 0,
                    addedSnapshotID: snapshotID, addedFilesCount: files.count, existingFilesCount: 0, deletedFilesCount: 0,
                    addedRowsCount: files.reduce(0) { $0 + $1.recordCount }, existingRowsCount: 0, deletedRowsCount: 0,
                    partitions: Self.summaries(files, partitionType: partitionType)))
            }
            return try await commitWithRetries(newManifests: manifests, written: &written)
        } catch {
            for location in written { try? await io.delete(location) }
            throw error
        }
    }

    private func commitWithRetries(newManifests: [ManifestFile], written: inout [String]) async throws -> Table {
        let properties = table.metadata.properties
        let retries = Int(properties["commit.retry.num-retries"] ?? "") ?? 4
        let minWait = Int64(properties["commit.retry.min-wait-ms"] ?? "") ?? 100
        let maxWait = Int64(properties["commit.retry.max-wait-ms"] ?? "") ?? 60_000
        let totalTimeout = Int64(properties["commit.retry.total-timeout-ms"] ?? "") ?? 1_800_000
        let started = clock()
        var base = table
        var attempt = 0
        while true {
            let listLocation = "\(base.metadata.location)/metadata/snap-\(snapshotID)-\(attempt)-\(UUID().uuidString.lowercased()).avro"
            do {
                let (updates, requirements) = try await stage(on: base, newManifests: newManifests, listLocation: listLocation)
                written.append(listLocation)
                try beforeCatalogSwap?()
                let committed = try await catalog.commit(base.identifier, requirements: requirements, updates: updates)
                // Keep the files that are now part of the table.
                written.removeAll()
                return committed
            } catch let error as IcebergError where error.code == .commitConflict {
                try? await base.io.delete(listLocation)
                written.removeAll { $0 == listLocation }
                attempt += 1
                guard attempt <= retries, clock() - started < totalTimeout else {
                    throw IcebergError(
                        .commitConflict, "append to \(base.identifier) failed after \(attempt) attempts: \(error.message)", cause: error)
                }
                onRetry?(attempt, error)
                // Exponential backoff with jitter, bounded by the table's limits.
                let ceiling = min(maxWait, minWait << min(attempt - 1, 20))
                try await Task.sleep(nanoseconds: UInt64(Int64.random(in: minWait...max(minWait, ceiling))) * 1_000_000)
                base = try await catalog.loadTable(base.identifier)
            }
        }
    }

    /// Writes the manifest list for a snapshot on `base` and returns the commit's updates and requirements.
    private func stage(on base: Table, newManifests: [ManifestFile], listLocation: String) async throws -> ([TableUpdate], [TableRequirement]) {
        let metadata = base.metadata
        let parent = metadata.currentSnapshot
        let sequenceNumber = metadata.lastSequenceNumber + 1
        var manifests = newManifests.map {
            var m = $0
            m.sequenceNumber = sequenceNumber
            m.minSequenceNumber = sequenceNumber
            return m
        }
        if let parent {
            manifests += try ManifestCodec.readManifestList(try await base.io.read(parent.manifestList), location: parent.manifestList)
        }
        let bytes = try ManifestCodec.writeManifestList(manifests, snapshotID: snapshotID, parentID: parent?.id, sequenceNumber: sequenceNumber)
        try await base.io.writeIfAbsent(listLocation, bytes: bytes)
        var schemaID = metadata.currentSchemaID
        if !additionalUpdates.isEmpty {
            var builder = TableMetadataBuilder(base: metadata)
            for update in additionalUpdates { try builder.apply(update) }
            schemaID = builder.build(nowMillis: clock(), previousMetadataLocation: nil).currentSchemaID
        }
        let snapshot = Snapshot(
            id: snapshotID, parentID: parent?.id, sequenceNumber: sequenceNumber, timestampMillis: clock(),
            manifestList: listLocation, summary: summary(parent: parent), schemaID: schemaID)
        return (
            additionalUpdates + [.addSnapshot(snapshot), .setSnapshotRef(name: SnapshotRef.mainBranch, ref: SnapshotRef(snapshotID: snapshotID, kind: .branch))],
            additionalRequirements + [.assertTableUUID(metadata.tableUUID), .assertRefSnapshotID(ref: SnapshotRef.mainBranch, snapshotID: parent?.id)]
        )
    }

    /// The standard summary (Java's SnapshotSummary): what this snapshot added and the table's new totals.
    func summary(parent: Snapshot?) -> [String: String] {
        let addedRecords = dataFiles.reduce(Int64(0)) { $0 + $1.recordCount }
        let addedSize = dataFiles.reduce(Int64(0)) { $0 + $1.fileSizeInBytes }
        let partitions = Set(dataFiles.map { "\($0.specID)/\($0.partition.map { $0?.description ?? "null" })" })
        func total(_ key: String, plus added: Int64) -> String {
            String((parent?.summary[key].flatMap { Int64($0) } ?? 0) + added)
        }
        var summary = summaryProperties
        summary["operation"] = "append"
        summary["added-data-files"] = String(dataFiles.count)
        summary["added-records"] = String(addedRecords)
        summary["added-files-size"] = String(addedSize)
        summary["changed-partition-count"] = String(partitions.count)
        summary["total-records"] = total("total-records", plus: addedRecords)
        summary["total-data-files"] = total("total-data-files", plus: Int64(dataFiles.count))
        summary["total-files-size"] = total("total-files-size", plus: addedSize)
        summary["total-delete-files"] = total("total-delete-files", plus: 0)
        summary["total-position-deletes"] = total("total-position-deletes", plus: 0)
        summary["total-equality-deletes"] = total("total-equality-deletes", plus: 0)
        return summary
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
