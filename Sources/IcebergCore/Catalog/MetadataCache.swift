import Synchronization

/// The metadata files a catalog wrote or read last, by location.
///
/// A pointer catalog (SQLite, Glue) names every metadata file `<version>-<uuid>.metadata.json` (Java and
/// PyIceberg do too) and never rewrites one, so what was read or written at a location stays true for it.
/// Loading a table whose pointer has not moved, and a commit checking its requirements against the
/// metadata it started from, then need no read: a run on S3 saves one GET per load and per commit.
///
/// ```swift
/// let cache = MetadataCache()
/// cache.remember(table.metadata, at: table.metadataLocation)           // after a create or a commit
/// let metadata = try await cache.metadata(at: location, io: catalog.io) // read only on a miss
/// ```
package final class MetadataCache: Sendable {
    private let entries = Mutex<[(location: String, metadata: TableMetadata)]>([])
    /// Tables kept, the most recently used; one metadata file each (the newest one written or read), so a
    /// long run of commits holds one version of its table, not one per commit.
    package let capacity: Int

    package init(capacity: Int = 16) { self.capacity = max(1, capacity) }

    /// The metadata at `location`: remembered, or read and parsed (then remembered).
    package func metadata(at location: String, io: any FileIO) async throws -> TableMetadata {
        let hit = entries.withLock { entries -> TableMetadata? in
            guard let index = entries.lastIndex(where: { $0.location == location }) else { return nil }
            entries.append(entries.remove(at: index))
            return entries[entries.count - 1].metadata
        }
        if let hit { return hit }
        let metadata = try await MetadataFiles.read(location, io: io)
        remember(metadata, at: location)
        return metadata
    }

    /// Keeps `metadata` as the content of `location` (written or read by this catalog), in place of what was
    /// kept for its table.
    package func remember(_ metadata: TableMetadata, at location: String) {
        entries.withLock { entries in
            entries.removeAll { $0.location == location || $0.metadata.location == metadata.location }
            entries.append((location, metadata))
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
    }
}
