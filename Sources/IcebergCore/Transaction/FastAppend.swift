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
        var written: [String] = []
        do {
            let manifests = try await SnapshotProducer.writeAddedManifests(dataFiles, snapshotID: snapshotID, table: table, written: &written)
            let committed = try await SnapshotProducer.retrying(table, catalog: catalog, clock: clock, what: "append", onRetry: onRetry) { base, attempt in
                let listLocation = "\(base.metadata.location)/metadata/snap-\(snapshotID)-\(attempt)-\(UUID().uuidString.lowercased()).avro"
                do {
                    let (updates, requirements) = try await stage(on: base, newManifests: manifests, listLocation: listLocation)
                    try beforeCatalogSwap?()
                    return try await catalog.commit(base.identifier, requirements: requirements, updates: updates)
                } catch let error as IcebergError where error.code == .commitConflict {
                    try? await base.io.delete(listLocation)
                    throw error
                } catch {
                    written.append(listLocation)
                    throw error
                }
            }
            return committed
        } catch {
            for location in written { try? await table.io.delete(location) }
            throw error
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
        let snapshot = Snapshot(
            id: snapshotID, parentID: parent?.id, sequenceNumber: sequenceNumber, timestampMillis: clock(), manifestList: listLocation,
            summary: summary(parent: parent), schemaID: try SnapshotProducer.schemaID(after: additionalUpdates, on: metadata, nowMillis: clock()))
        return (
            additionalUpdates + [.addSnapshot(snapshot), .setSnapshotRef(name: SnapshotRef.mainBranch, ref: SnapshotRef(snapshotID: snapshotID, kind: .branch))],
            additionalRequirements + [.assertTableUUID(metadata.tableUUID), .assertRefSnapshotID(ref: SnapshotRef.mainBranch, snapshotID: parent?.id)]
        )
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
