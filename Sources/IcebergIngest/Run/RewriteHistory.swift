import Checkpoint
import Foundation
import IcebergCore

/// The data files the table's own history says were rewritten: for every snapshot on the current branch
/// that removed data files (not an `append`), which files it removed and which it added in their place,
/// per partition. A compaction (ours, or Spark's `rewrite_data_files`) is a `replace`: its new files hold
/// exactly the rows of the files it removed, so the lineage of an object follows its rows into them.
/// Other operations (`overwrite`, `delete`) changed rows, and following them would undo that change.
///
/// Expiring a snapshot erases that history, so our expiry (`ExpireSnapshots` after
/// `keepingRewriteHistory()`: `expire-snapshots` and upkeep) first saves the
/// groups of the snapshots it removes under `metadata/ingest-checkpoints/rewrites/<snapshot id>.json`, and
/// ``load(_:)`` reads them back. Another engine's expiry does not.
///
/// ```swift
/// let history = try await RewriteHistory.load(table)
/// for group in history.groups(removing: "s3://lake/wh/db/events/data/a.parquet") { print(group.snapshotID, group.added) }
/// ```
struct RewriteHistory: Sendable {
    /// Files one snapshot removed from one partition, and the files it added there.
    struct Group: Sendable, Codable {
        var snapshotID: Int64
        var operation: String
        var removed: Set<String>
        var added: Set<String>
    }

    private(set) var groups: [Group] = []
    private var byRemoved: [String: [Int]] = [:]
    private var byAdded: [String: [Int]] = [:]

    init(groups: [Group]) {
        self.groups = groups
        for (i, group) in groups.enumerated() {
            for file in group.removed { byRemoved[file, default: []].append(i) }
            for file in group.added { byAdded[file, default: []].append(i) }
        }
    }

    /// Reads the manifests each non-append snapshot of the current branch wrote (its removed entries and
    /// added entries), and the groups saved from snapshots our expiry removed.
    static func load(_ table: Table) async throws -> RewriteHistory {
        var groups: [Group] = []
        for snapshot in table.metadata.ancestors().reversed() { groups += try await Self.groups(of: snapshot, in: table) }
        for file in try await table.io.list(prefix: directory(table)) where file.location.hasSuffix(".json") {
            let saved = try JSONDecoder().decode([Group].self, from: Data(try await table.io.read(file.location)))
            groups += saved.filter { table.metadata.snapshot(id: $0.snapshotID) == nil }
        }
        return RewriteHistory(groups: groups)
    }

    /// Where the groups of expired snapshots are kept.
    static func directory(_ table: Table) -> String {
        let location = table.metadata.location.hasSuffix("/") ? String(table.metadata.location.dropLast()) : table.metadata.location
        return location + "/metadata/ingest-checkpoints/rewrites/"
    }

    /// Saves the groups of `snapshots` (about to be expired) that removed data files, one file per snapshot.
    static func save(_ snapshots: [Snapshot], of table: Table) async throws {
        for snapshot in snapshots {
            let groups = try await Self.groups(of: snapshot, in: table)
            guard !groups.isEmpty else { continue }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            try await table.io.write(directory(table) + "\(snapshot.id).json", bytes: Array(try encoder.encode(groups)))
        }
    }

    /// What one snapshot removed and added, per partition (none for an append).
    static func groups(of snapshot: Snapshot, in table: Table) async throws -> [Group] {
        guard (snapshot.operation ?? "append") != "append" else { return [] }
        let list = try ManifestCodec.readManifestList(try await table.io.read(snapshot.manifestList), location: snapshot.manifestList)
        var removed: [RewriteFiles.Partition: Set<String>] = [:], added: [RewriteFiles.Partition: Set<String>] = [:]
        for manifest in list where manifest.content == 0 && manifest.addedSnapshotID == snapshot.id {
            for entry in try await table.manifestEntries(of: manifest) where (entry.snapshotID ?? snapshot.id) == snapshot.id {
                let key = RewriteFiles.Partition(entry.dataFile)
                switch entry.status {
                case .deleted: removed[key, default: []].insert(entry.dataFile.filePath)
                case .added: added[key, default: []].insert(entry.dataFile.filePath)
                case .existing: break
                }
            }
        }
        guard !removed.isEmpty else { return [] }
        let operation = snapshot.operation ?? ""
        // Per partition when the new files stay in their partitions (a rewrite under the same spec);
        // otherwise the whole snapshot is one group.
        guard Set(added.keys).isSubset(of: Set(removed.keys)) else {
            return [Group(snapshotID: snapshot.id, operation: operation, removed: Set(removed.values.joined()), added: Set(added.values.joined()))]
        }
        return removed.map { key, files in Group(snapshotID: snapshot.id, operation: operation, removed: files, added: added[key] ?? []) }
    }

    /// The groups that removed `file`.
    func groups(removing file: String) -> [Group] { (byRemoved[file] ?? []).map { groups[$0] } }
    /// The groups that added `file`.
    func groups(adding file: String) -> [Group] { (byAdded[file] ?? []).map { groups[$0] } }
}

extension ExpireSnapshots {
    /// Makes the expiry save what the snapshots it removes rewrote (which files a compaction replaced by
    /// which, under `metadata/ingest-checkpoints/rewrites/`) before removing them, so that `evolve` can
    /// still follow rows through compactions that are no longer in the history. `expire-snapshots` and
    /// ``Ingestor/upkeep(_:now:)`` expire this way.
    ///
    /// ```swift
    /// var expire = ExpireSnapshots(table: table, catalog: catalog)
    /// expire.keepingRewriteHistory()
    /// _ = try await expire.run()
    /// ```
    public mutating func keepingRewriteHistory() {
        beforeExpiring = { table, expiring in try await RewriteHistory.save(expiring, of: table) }
    }
}

/// Which objects' rows are in which data files, from the latest lineage of every object of a source shard,
/// followed through the table's rewrites: the objects a reprocessing must read again and the live files it
/// must replace so that each row is replaced exactly once.
struct LineageClosure {
    /// The objects to read again, each with the record that last wrote it.
    var objects: [String: (record: Int, object: Int)] = [:]
    /// The data files (live or rewritten) holding their rows.
    var files: Set<String> = []

    /// From `start` (object keys): every object sharing a data file with one of them, directly or through a
    /// rewrite, and every file holding their rows. With `history`, rewritten files are followed; a file that
    /// vanished without a `replace` in the history, a rewrite that mixed in rows of no known object, or a
    /// snapshot that changed rows (`overwrite`, `delete` by another writer) makes it `.lineageBroken`.
    static func closure(
        from start: [String], records: [CommitLineage], latest: [String: (record: Int, object: Int)], history: RewriteHistory?,
        live: [String: Int64], table: TableIdentifier
    ) throws -> LineageClosure {
        // Who wrote each file, by the latest lineage of each object (a reprocessing supersedes earlier records).
        var owners: [String: [String]] = [:]
        for (key, at) in latest {
            let record = records[at.record]
            for file in record.dataFiles(of: record.objects[at.object]) { owners[file, default: []].append(key) }
        }
        let ours = Set(records.map(\.snapshotID))
        var result = LineageClosure()
        var objectQueue = start
        var fileQueue: [String] = []
        func visit(file: String) { if result.files.insert(file).inserted { fileQueue.append(file) } }
        while !objectQueue.isEmpty || !fileQueue.isEmpty {
            while let key = objectQueue.popLast() {
                guard result.objects[key] == nil, let at = latest[key] else { continue }
                result.objects[key] = at
                let record = records[at.record]
                let mine = record.dataFiles(of: record.objects[at.object])
                for file in mine { visit(file: file) }
                // Objects of the same commit sharing one of these files must still be written by it.
                for other in record.objects where other.object.key != key && !Set(record.dataFiles(of: other)).isDisjoint(with: mine) {
                    guard let otherLatest = latest[other.object.key], otherLatest.record == at.record else {
                        throw IngestError(
                            .lineageBroken,
                            "lineage of \(other.object.key) (checkpoint v\(record.version)) was superseded, but it shares a data file with \(key)")
                    }
                }
            }
            while let file = fileQueue.popLast() {
                for key in owners[file] ?? [] where result.objects[key] == nil { objectQueue.append(key) }
                guard let history else { continue }
                for group in history.groups(removing: file) + history.groups(adding: file) {
                    guard group.operation == "replace" || ours.contains(group.snapshotID) else {
                        throw IngestError(
                            .lineageBroken,
                            "cannot reprocess the rows of \(file): snapshot \(group.snapshotID) (\(group.operation)) changed them in table \(table), and reading the source again would undo that change")
                    }
                    for other in group.removed.union(group.added) { visit(file: other) }
                }
            }
        }
        guard let history else { return result }
        for file in result.files.sorted() {
            if live[file] != nil {
                // A live file holds rows of known objects only: written by one of them, or by a rewrite of such files.
                if owners[file] == nil, history.groups(adding: file).isEmpty {
                    throw IngestError(
                        .lineageBroken,
                        "cannot reprocess exactly: data file \(file) of table \(table) holds rows that no object of this source's lineage wrote (another writer's or another shard's), and a rewrite mixed them with rows to replace")
                }
            } else if history.groups(removing: file).isEmpty {
                throw IngestError(
                    .lineageBroken,
                    "cannot reprocess exactly: data file \(file) is no longer in table \(table), and no snapshot left in its history rewrote it (the rewrite was expired, or the file was removed otherwise)")
            }
        }
        return result
    }
}
