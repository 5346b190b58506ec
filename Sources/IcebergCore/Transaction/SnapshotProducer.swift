import Foundation

/// What the operations that commit a snapshot (``FastAppend``, ``RewriteFiles``) share: writing a manifest
/// of new files, the retry loop over conflicts, and the snapshot summary's totals.
enum SnapshotProducer {
    /// Writes one manifest per partition spec holding `files` as ADDED by `snapshotID`; returns the
    /// manifests (sequence numbers 0: the manifest list assigns them) and appends their locations to `written`.
    static func writeAddedManifests(
        _ files: [DataFile], snapshotID: Int64, table: Table, written: inout [String]
    ) async throws -> [ManifestFile] {
        let metadata = table.metadata
        let schema = metadata.currentSchema
        var manifests: [ManifestFile] = []
        for specID in Set(files.map(\.specID)).sorted() {
            guard let spec = metadata.spec(id: specID) else {
                throw IcebergError(.invalidArgument, "table \(table.identifier) has no partition spec \(specID)")
            }
            let specFiles = files.filter { $0.specID == specID }
            let entries = specFiles.map { ManifestEntry(status: .added, snapshotID: snapshotID, sequenceNumber: nil, fileSequenceNumber: nil, dataFile: $0) }
            let bytes = try ManifestCodec.writeManifest(entries: entries, spec: spec, schema: schema)
            let location = "\(metadata.location)/metadata/\(UUID().uuidString.lowercased())-m\(manifests.count).avro"
            try await table.io.writeIfAbsent(location, bytes: bytes)
            written.append(location)
            manifests.append(ManifestFile(
                path: location, length: Int64(bytes.count), specID: specID, sequenceNumber: 0, minSequenceNumber: 0,
                addedSnapshotID: snapshotID, addedFilesCount: specFiles.count, existingFilesCount: 0, deletedFilesCount: 0,
                addedRowsCount: specFiles.reduce(0) { $0 + $1.recordCount }, existingRowsCount: 0, deletedRowsCount: 0,
                partitions: FastAppend.summaries(specFiles, partitionType: try spec.partitionType(schema: schema))))
        }
        return manifests
    }

    /// Runs `attempt` on `table`, and on `.commitConflict` again on the catalog's current table, with
    /// exponential backoff and jitter bounded by the table's `commit.retry.*` properties.
    static func retrying(
        _ table: Table, catalog: any Catalog, clock: MillisecondClock, what: String, onRetry: (@Sendable (Int, IcebergError) -> Void)?,
        _ attempt: (Table, Int) async throws -> Table
    ) async throws -> Table {
        let properties = table.metadata.properties
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
