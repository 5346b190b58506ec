import Foundation

/// What the operations that commit a snapshot (``FastAppend``, ``RewriteFiles``) share: writing a manifest
/// of the new files once, the retry loop over conflicts, the manifest list (with manifest merging, as
/// Java's merge append does), the snapshot summary, and the cleanup of what a failed commit wrote.
struct SnapshotProducer: Sendable {
    /// The snapshot's `operation`: append, replace, overwrite.
    var operation: String
    var snapshotID: Int64
    var summaryProperties: [String: String]
    var additionalUpdates: [TableUpdate]
    var additionalRequirements: [TableRequirement]
    var clock: MillisecondClock
    /// Whether to merge manifests (still subject to the table's `commit.manifest-merge.enabled`).
    var mergeManifests: Bool
    var onRetry: (@Sendable (Int, IcebergError) -> Void)?
    /// `commit.retry.*` values used where the table sets none.
    var retryDefaults: [String: String] = [:]
    var beforeCatalogSwap: (@Sendable (_ base: Table) async throws -> Void)?

    /// The manifests a snapshot on `base` carries besides the new files' manifest (the parent's, some of
    /// them rewritten), and the data files it removes. Files it writes go into `written`.
    typealias Carry = (_ base: Table, _ attempt: Int, _ written: inout [String]) async throws -> (manifests: [ManifestFile], deleted: [DataFile])

    /// Writes the manifest of `added` once, then builds the snapshot on the table and commits it, on a
    /// conflict again on the catalog's current table. A commit whose answer was lost is looked up in the
    /// table (by its snapshot id) and retried when it is not there. Returns the table as committed. On
    /// failure the manifests and manifest lists it wrote are deleted (not when the commit's outcome is unknown).
    func commit(table: Table, catalog: any Catalog, added: [DataFile], carry: Carry) async throws -> Table {
        var written: [String] = []
        // Whether an attempt's answer was lost and the table did not have it when read: it may still land
        // (a server that goes on after its gateway timed out), naming what it wrote, so from then on nothing
        // this commit wrote is deleted, and a failure leaves the outcome unknown.
        var mayLandLate = false
        do {
            let newManifests = try await Self.writeAddedManifests(added, snapshotID: snapshotID, table: table, written: &written)
            var listed: Set<String> = []
            var landedLate = false
            let committed = try await Self.retrying(
                table, catalog: catalog, clock: clock, what: operation, onRetry: onRetry, retryDefaults: retryDefaults
            ) { base, attempt in
                // An earlier attempt whose answer was lost, found landed after all: the snapshot is in (which
                // attempt's manifests it lists is not known here, so none is deleted below).
                if base.metadata.snapshots.contains(where: { $0.id == snapshotID }) {
                    landedLate = true
                    return base
                }
                var attemptFiles: [String] = []
                do {
                    let (carried, deleted) = try await carry(base, attempt, &attemptFiles)
                    let (updates, requirements, manifests) = try await stage(
                        on: base, newManifests: newManifests, carried: carried, added: added, deleted: deleted, attempt: attempt, written: &attemptFiles)
                    try await beforeCatalogSwap?(base)
                    listed = Set(manifests.map(\.path))
                    do {
                        return try await catalog.commit(base.identifier, requirements: requirements, updates: updates)
                    } catch let error as IcebergError where error.code == .commitStateUnknown {
                        // The answer was lost (a reset, a 5xx, a timeout): the table says whether the swap
                        // happened, since only this commit makes a snapshot with this id. If it did not, the
                        // commit is retried like a conflict; its requirements keep a late landing of this try
                        // and the retry from both taking effect.
                        let now: Table
                        do {
                            now = try await catalog.loadTable(base.identifier)
                        } catch let lookup {
                            // Still unknown: nothing this commit wrote may be deleted, as the swap may
                            // reference it.
                            throw IcebergError(
                                .commitStateUnknown, "\(error.message); reading the table to see whether it landed failed too: \(lookup)",
                                cause: lookup)
                        }
                        if now.metadata.snapshots.contains(where: { $0.id == snapshotID }) { return now }
                        mayLandLate = true
                        throw IcebergError(.commitConflict, "the commit's answer was lost and the table does not have it: \(error.message)", cause: error)
                    }
                } catch let error as IcebergError where error.code == .commitConflict {
                    if !mayLandLate {
                        for location in attemptFiles { try? await base.io.delete(location) }
                    }
                    throw error
                } catch {
                    written += attemptFiles
                    throw error
                }
            }
            // The new files' manifest merged into a larger one is referenced by nothing: not left behind.
            for manifest in newManifests where !landedLate && !mayLandLate && !listed.contains(manifest.path) { try? await table.io.delete(manifest.path) }
            return committed
        } catch let error as IcebergError where error.code == .commitStateUnknown {
            // The swap may have happened: what it wrote may be referenced now.
            throw error
        } catch where mayLandLate {
            // An attempt whose answer was lost may still land: its outcome is unknown, and what it wrote stays.
            throw IcebergError(.commitStateUnknown, "an attempt whose answer was lost may still land, and the commit then failed: \(error)", cause: error)
        } catch {
            for location in written { try? await table.io.delete(location) }
            throw error
        }
    }

    /// Writes the manifest list (merging manifests when due) for a snapshot on `base` and returns the
    /// commit's updates and requirements.
    private func stage(
        on base: Table, newManifests: [ManifestFile], carried: [ManifestFile], added: [DataFile], deleted: [DataFile], attempt: Int,
        written: inout [String]
    ) async throws -> ([TableUpdate], [TableRequirement], [ManifestFile]) {
        let metadata = base.metadata
        let parent = metadata.currentSnapshot
        let sequenceNumber = metadata.lastSequenceNumber + 1
        var manifests = newManifests.map {
            var m = $0
            m.sequenceNumber = sequenceNumber
            m.minSequenceNumber = sequenceNumber
            return m
        }
        manifests += carried
        if mergeManifests {
            manifests = try await ManifestMerge(table: base, snapshotID: snapshotID, sequenceNumber: sequenceNumber, attempt: attempt)
                .merge(manifests, written: &written)
        }
        let listLocation = SnapshotFiles.manifestList(tableLocation: metadata.location, snapshotID: snapshotID, attempt: attempt)
        let bytes = try ManifestCodec.writeManifestList(manifests, snapshotID: snapshotID, parentID: parent?.id, sequenceNumber: sequenceNumber)
        try await base.io.writeIfAbsent(listLocation, bytes: bytes)
        written.append(listLocation)
        let now = clock()
        let snapshot = Snapshot(
            id: snapshotID, parentID: parent?.id, sequenceNumber: sequenceNumber, timestampMillis: now, manifestList: listLocation,
            summary: Self.summary(operation: operation, added: added, deleted: deleted, parent: parent, extra: summaryProperties),
            schemaID: try Self.schemaID(after: additionalUpdates, on: metadata, nowMillis: now))
        return (
            additionalUpdates + [.addSnapshot(snapshot), .setSnapshotRef(name: SnapshotRef.mainBranch, ref: SnapshotRef(snapshotID: snapshotID, kind: .branch))],
            additionalRequirements + [.assertTableUUID(metadata.tableUUID), .assertRefSnapshotID(ref: SnapshotRef.mainBranch, snapshotID: parent?.id)],
            manifests
        )
    }

    /// Writes one manifest per partition spec holding `files` as ADDED by `snapshotID`; returns the
    /// manifests (sequence numbers 0: the manifest list assigns them) and appends their locations to `written`.
    static func writeAddedManifests(
        _ files: [DataFile], snapshotID: Int64, table: Table, written: inout [String]
    ) async throws -> [ManifestFile] {
        let metadata = table.metadata
        var manifests: [ManifestFile] = []
        for specID in Set(files.map(\.specID)).sorted() {
            let specFiles = files.filter { $0.specID == specID }
            let entries = specFiles.map { ManifestEntry(status: .added, snapshotID: snapshotID, sequenceNumber: nil, fileSequenceNumber: nil, dataFile: $0) }
            let location = SnapshotFiles.manifest(tableLocation: metadata.location, snapshotID: snapshotID, kind: "m\(manifests.count)")
            manifests.append(try await writeManifest(
                entries, specID: specID, table: table, location: location, snapshotID: snapshotID, sequenceNumber: 0, written: &written))
        }
        return manifests
    }

    /// Writes a manifest of `entries` (all of spec `specID`) at `location` and returns its manifest list
    /// entry, with counts and partition summaries. Entries without a sequence number inherit `sequenceNumber`.
    static func writeManifest(
        _ entries: [ManifestEntry], specID: Int, table: Table, location: String, snapshotID: Int64, sequenceNumber: Int64,
        written: inout [String]
    ) async throws -> ManifestFile {
        let metadata = table.metadata
        guard let spec = metadata.spec(id: specID) else {
            throw IcebergError(.invalidMetadata, "table \(table.identifier) has no partition spec \(specID) (writing manifest \(location))")
        }
        let bytes = try ManifestCodec.writeManifest(entries: entries, spec: spec, schema: metadata.currentSchema)
        try await table.io.writeIfAbsent(location, bytes: bytes)
        written.append(location)
        func count(_ status: ManifestEntry.Status) -> Int { entries.count { $0.status == status } }
        func rows(_ status: ManifestEntry.Status) -> Int64 { entries.filter { $0.status == status }.reduce(0) { $0 + $1.dataFile.recordCount } }
        return ManifestFile(
            path: location, length: Int64(bytes.count), specID: specID, sequenceNumber: sequenceNumber,
            minSequenceNumber: entries.map { $0.sequenceNumber ?? sequenceNumber }.min() ?? sequenceNumber, addedSnapshotID: snapshotID,
            addedFilesCount: count(.added), existingFilesCount: count(.existing), deletedFilesCount: count(.deleted),
            addedRowsCount: rows(.added), existingRowsCount: rows(.existing), deletedRowsCount: rows(.deleted),
            partitions: FastAppend.summaries(entries.map(\.dataFile), partitionType: try spec.partitionType(schema: metadata.currentSchema)))
    }

    /// Runs `attempt` on `table`, and on `.commitConflict` again on the catalog's current table, with
    /// exponential backoff and jitter bounded by the table's `commit.retry.*` properties.
    static func retrying(
        _ table: Table, catalog: any Catalog, clock: MillisecondClock, what: String, onRetry: (@Sendable (Int, IcebergError) -> Void)?,
        retryDefaults: [String: String] = [:], _ attempt: (Table, Int) async throws -> Table
    ) async throws -> Table {
        let properties = retryDefaults.merging(table.metadata.properties) { _, table in table }
        let retries = Int(properties["commit.retry.num-retries"] ?? "") ?? 4
        let minWait = Int64(properties["commit.retry.min-wait-ms"] ?? "") ?? 100
        let maxWait = Int64(properties["commit.retry.max-wait-ms"] ?? "") ?? 60_000
        let totalTimeout = Int64(properties["commit.retry.total-timeout-ms"] ?? "") ?? 1_800_000
        let started = clock()
        var base = table
        var number = 0
        while true {
            do {
                return try await attempt(base, number)
            } catch let error as IcebergError where error.code == .commitConflict {
                number += 1
                guard number <= retries, clock() - started < totalTimeout else {
                    throw IcebergError(.commitConflict, "\(what) to \(base.identifier) failed after \(number) attempts: \(error.message)", cause: error)
                }
                onRetry?(number, error)
                let ceiling = min(maxWait, minWait << min(number - 1, 20))
                try await Task.sleep(nanoseconds: UInt64(Int64.random(in: minWait...max(minWait, ceiling))) * 1_000_000)
                base = try await catalog.loadTable(base.identifier)
            }
        }
    }

    /// The schema id current after `updates` are applied to `metadata` (a schema evolved in the same commit).
    static func schemaID(after updates: [TableUpdate], on metadata: TableMetadata, nowMillis: Int64) throws -> Int {
        guard !updates.isEmpty else { return metadata.currentSchemaID }
        var builder = TableMetadataBuilder(base: metadata)
        for update in updates { try builder.apply(update) }
        return builder.build(nowMillis: nowMillis, previousMetadataLocation: nil).currentSchemaID
    }

    /// The standard summary (Java's SnapshotSummary): what the snapshot added and removed, and the totals.
    static func summary(
        operation: String, added: [DataFile], deleted: [DataFile], parent: Snapshot?, extra: [String: String]
    ) -> [String: String] {
        let addedRecords = added.reduce(Int64(0)) { $0 + $1.recordCount }
        let addedSize = added.reduce(Int64(0)) { $0 + $1.fileSizeInBytes }
        let deletedRecords = deleted.reduce(Int64(0)) { $0 + $1.recordCount }
        let deletedSize = deleted.reduce(Int64(0)) { $0 + $1.fileSizeInBytes }
        let partitions = Set((added + deleted).map { "\($0.specID)/\($0.partition.map { $0?.description ?? "null" })" })
        func total(_ key: String, plus: Int64, minus: Int64 = 0) -> String {
            String((parent?.summary[key].flatMap { Int64($0) } ?? 0) + plus - minus)
        }
        var summary = extra
        summary["operation"] = operation
        if !added.isEmpty || deleted.isEmpty {
            summary["added-data-files"] = String(added.count)
            summary["added-records"] = String(addedRecords)
            summary["added-files-size"] = String(addedSize)
        }
        if !deleted.isEmpty {
            summary["deleted-data-files"] = String(deleted.count)
            summary["deleted-records"] = String(deletedRecords)
            summary["removed-files-size"] = String(deletedSize)
        }
        summary["changed-partition-count"] = String(partitions.count)
        summary["total-records"] = total("total-records", plus: addedRecords, minus: deletedRecords)
        summary["total-data-files"] = total("total-data-files", plus: Int64(added.count), minus: Int64(deleted.count))
        summary["total-files-size"] = total("total-files-size", plus: addedSize, minus: deletedSize)
        summary["total-delete-files"] = total("total-delete-files", plus: 0)
        summary["total-position-deletes"] = total("total-position-deletes", plus: 0)
        summary["total-equality-deletes"] = total("total-equality-deletes", plus: 0)
        return summary
    }
}

/// What ``FastAppend`` and ``RewriteFiles`` have in common for a caller that commits either: files to add,
/// summary properties, metadata changes committed with the snapshot, the retry and swap hooks, and the commit.
package protocol SnapshotCommit: Sendable {
    var summaryProperties: [String: String] { get set }
    var additionalUpdates: [TableUpdate] { get set }
    var additionalRequirements: [TableRequirement] { get set }
    var onRetry: (@Sendable (Int, IcebergError) -> Void)? { get set }
    var retryDefaults: [String: String] { get set }
    var beforeCatalogSwap: (@Sendable (_ base: Table) async throws -> Void)? { get set }
    mutating func add(contentsOf files: [DataFile])
    func commit() async throws -> Table
}

extension FastAppend: SnapshotCommit {}
extension RewriteFiles: SnapshotCommit {}
