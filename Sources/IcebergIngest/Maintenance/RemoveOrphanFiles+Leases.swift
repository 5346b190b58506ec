import Checkpoint
import IcebergCore

extension RemoveOrphanFiles {
    /// Files younger than this may be a commit in progress (its upload, before the catalog swap, takes up to
    /// the commit's 10-minute retry limit): `remove-orphans` with a shorter grace refuses to run while a run
    /// holds a lease on the table (``liveIngestLeases()``).
    public static let minimumGraceWhileRunning: Int64 = 15 * 60_000

    /// The leases runs hold on the table now (one per source shard being ingested), described (`host pid …,
    /// expires in 42 s`) with their folder, and the commits whose outcome their run did not learn (which may
    /// still land until the next run settles them); empty when no run is under way and none is unsettled.
    ///
    /// ```swift
    /// let running = try await RemoveOrphanFiles(table: table).liveIngestLeases()
    /// if !running.isEmpty { print("runs in progress:", running) }
    /// ```
    public func liveIngestLeases() async throws -> [String] {
        let location = table.metadata.location.hasSuffix("/") ? String(table.metadata.location.dropLast()) : table.metadata.location
        var folders: Set<String> = []
        var live: [String] = []
        for file in try await table.io.list(prefix: location + "/metadata/ingest-checkpoints/") {
            if file.location.hasSuffix(".unknown") {
                live.append("\(file.location): a commit whose outcome is unknown, which the next run settles")
                continue
            }
            guard let lease = file.location.range(of: "/lease/") else { continue }
            folders.insert(String(file.location[..<lease.upperBound]))
        }
        for folder in folders.sorted() {
            let store = LeaseStore(io: table.io, directory: folder, ttlMillis: 60_000)
            guard let (_, record) = try await store.current(), store.isLive(record) else { continue }
            live.append("\(folder): \(record.describe(nowMillis: WallClock.nowMillis()))")
        }
        return live
    }
}
