import Foundation

/// Merges small manifests of a new snapshot, as Java's merge append does (`ManifestMergeManager`), so a
/// table that takes a commit every few minutes keeps a bounded number of manifests.
///
/// The manifests (newest first, the new snapshot's own first) are grouped by partition spec and packed,
/// from the oldest, into bins of at most `commit.manifest.target-size-bytes` (default 8 MiB). A bin of
/// several manifests becomes one manifest, except the bin holding the newest manifest while it has fewer
/// than `commit.manifest.min-count-to-merge` (default 100) manifests. In a merged manifest entries keep
/// their snapshot id and sequence numbers: those of the new snapshot stay ADDED, older live ones become
/// EXISTING, DELETED ones of older snapshots are dropped. `commit.manifest-merge.enabled=false` turns it off.
struct ManifestMerge {
    let table: Table
    let snapshotID: Int64
    let sequenceNumber: Int64
    let attempt: Int

    var enabled: Bool { (table.metadata.properties["commit.manifest-merge.enabled"] ?? "true").lowercased() != "false" }
    var minCountToMerge: Int { max(2, table.metadata.intProperty("commit.manifest.min-count-to-merge", default: 100)) }
    var targetSizeBytes: Int64 { Int64(table.metadata.intProperty("commit.manifest.target-size-bytes", default: 8 * 1024 * 1024)) }

    /// The manifests for the new snapshot's list, merged where due; merged manifests go into `written`.
    func merge(_ manifests: [ManifestFile], written: inout [String]) async throws -> [ManifestFile] {
        guard enabled, let first = manifests.first else { return manifests }
        // Delete manifests are not merged (this writer makes none; another writer's stay as they are).
        let data = manifests.filter { $0.content == 0 }
        var result: [ManifestFile] = []
        for specID in Set(data.map(\.specID)).sorted(by: >) {
            let group = data.filter { $0.specID == specID }
            for bin in Self.packFromEnd(group, target: targetSizeBytes) {
                if bin.count == 1 || (bin.contains(first) && bin.count < minCountToMerge) {
                    result += bin
                } else {
                    result.append(try await mergeBin(bin, specID: specID, written: &written))
                }
            }
        }
        return result + manifests.filter { $0.content != 0 }
    }

    /// Bins of consecutive manifests of at most `target` bytes each, filled from the oldest (the end), so
    /// that the bin left under size is the newest one (Java's `ListPacker.packEnd` with lookback 1).
    static func packFromEnd(_ manifests: [ManifestFile], target: Int64) -> [[ManifestFile]] {
        var bins: [[ManifestFile]] = []
        var current: [ManifestFile] = []
        var size: Int64 = 0
        for manifest in manifests.reversed() {
            if !current.isEmpty, size + manifest.length > target {
                bins.append(current.reversed())
                current = []
                size = 0
            }
            current.append(manifest)
            size += manifest.length
        }
        if !current.isEmpty { bins.append(current.reversed()) }
        return bins.reversed()
    }

    /// One manifest holding the entries of `bin`.
    private func mergeBin(_ bin: [ManifestFile], specID: Int, written: inout [String]) async throws -> ManifestFile {
        let metadata = table.metadata
        var entries: [ManifestEntry] = []
        for manifest in bin {
            let read = try ManifestCodec.readManifest(
                try await table.io.read(manifest.path), manifest: manifest, schema: metadata.currentSchema, specs: metadata.partitionSpecs,
                location: manifest.path)
            for var entry in read {
                let ours = entry.snapshotID == snapshotID
                switch entry.status {
                case .deleted:
                    guard ours else { continue }
                case .added where ours:
                    // Inherits the new snapshot's sequence number from the merged manifest.
                    entry.sequenceNumber = nil
                    entry.fileSequenceNumber = nil
                case .added, .existing:
                    entry.status = .existing
                }
                entries.append(entry)
            }
        }
        let location = SnapshotFiles.manifest(tableLocation: metadata.location, snapshotID: snapshotID, kind: "merged-\(attempt)")
        return try await SnapshotProducer.writeManifest(
            entries, specID: specID, table: table, location: location, snapshotID: snapshotID, sequenceNumber: sequenceNumber, written: &written)
    }
}
