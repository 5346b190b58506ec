import Checkpoint
import IcebergCore

extension ExpireSnapshots {
    /// Keeps, whatever their age, the current branch's snapshots from its head back to the newest
    /// checkpoint record of every source shard that commits into the table (and its shard layout).
    ///
    /// A run learns what it has ingested from the newest record of its shard on the table's history
    /// (``CheckpointCommit/latest(in:source:shard:)``), and that walk stops at the first snapshot that is
    /// gone. Expiring the record's snapshot, which happens once compactions or other shards' and writers'
    /// commits sit on top of it and it is older than the age limit (a shard that found nothing new for
    /// days, or failed for days), would make its next run start over: every object read again, and the data
    /// files of its last commit deleted as a crashed run's. `expire-snapshots` and
    /// ``Ingestor/upkeep(_:now:)`` expire this way; the snapshots kept are the ones the walk needs. A source
    /// that no longer runs keeps its last record, and the snapshots after it, until another engine expires
    /// them. After a rescale only the shards of each source's newest layout count: the old shards' last
    /// records are history.
    ///
    /// ```swift
    /// var expire = ExpireSnapshots(table: table, catalog: catalog)
    /// expire.keepingCheckpointRecords()
    /// _ = try await expire.run()
    /// ```
    public mutating func keepingCheckpointRecords() {
        retaining = { metadata in Self.checkpointRecordChain(metadata) }
    }

    /// The current branch's snapshots from its head back to the oldest of the newest records of each shard
    /// of each source's newest layout (nothing when no snapshot carries a record).
    static func checkpointRecordChain(_ metadata: TableMetadata) -> Set<Int64> {
        let ancestors = metadata.ancestors()
        // Each source's layout as its newest record names it.
        var layouts: [Substring: ShardLayout] = [:]
        for snapshot in ancestors {
            for (key, text) in snapshot.summary {
                guard case .shardLayout(let slug)? = CheckpointCommit.recordKey(key), layouts[slug] == nil,
                    let layout = ShardLayout(recorded: text)
                else { continue }
                layouts[slug] = layout
            }
        }
        var seen: Set<String> = [], depth = -1
        for (index, snapshot) in ancestors.enumerated() {
            for key in snapshot.summary.keys {
                guard case .checkpointVersion(let slug, let shard)? = CheckpointCommit.recordKey(key) else { continue }
                if let layout = layouts[slug], shard.layout != layout { continue }  // a shard before a rescale
                if seen.insert(key).inserted { depth = index }
            }
        }
        return Set(ancestors.prefix(depth + 1).map(\.id))
    }

    /// Deletes no data file outside the table's own folders (its location, `write.data.path`, and Java's
    /// `write.object-storage.path` and `write.folder-storage.path`; a file under another spelling of them
    /// stays, for `remove-orphans` to find): a Parquet
    /// input registered where it landed (format `parquet`) is the source's object, and a compaction or a
    /// reprocessing that replaced it in the table must not make the expiry delete it from the source's bucket.
    /// `expire-snapshots` and ``Ingestor/upkeep(_:now:)`` expire this way.
    ///
    /// ```swift
    /// var expire = ExpireSnapshots(table: table, catalog: catalog)
    /// expire.sparingFilesOutsideTable()
    /// _ = try await expire.run()
    /// ```
    public mutating func sparingFilesOutsideTable() {
        let metadata = table.metadata
        let folders = [
            metadata.location, metadata.properties["write.data.path"], metadata.properties["write.object-storage.path"],
            metadata.properties["write.folder-storage.path"],
        ].compactMap { $0 }.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        mayDelete = { location in folders.contains { location.hasPrefix($0) } }
    }
}
