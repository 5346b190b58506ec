import Codecs

/// One of `count` workers ingesting the same source into the same table. A shard owns a deterministic
/// subset of the source's prefixes (by a stable hash of the prefix), keeps its own checkpoint, and commits
/// on its own; commits of different shards only conflict at the catalog swap, where they retry.
public struct ShardID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// This worker's index, `0 ..< count`.
    public var index: Int
    /// How many shards share the source.
    public var count: Int

    /// The one shard of an unsharded source.
    public static let single = ShardID(index: 0, count: 1)

    public init(index: Int, count: Int) {
        precondition(count >= 1 && (0..<count).contains(index), "shard \(index) of \(count) is not a shard")
        self.index = index
        self.count = count
    }

    /// `shard-<index>-of-<count>`, as used in file names and snapshot summary keys.
    public var description: String { "shard-\(index)-of-\(count)" }

    /// Whether this shard owns `prefix` (an hour's prefix such as `raw/2026/11/24/10/`). The hash is FNV-1a
    /// over the prefix's UTF-8 bytes: stable across processes, machines and releases.
    public func owns(prefix: String) -> Bool {
        if count == 1 { return true }
        return Int(FNV1a64.hash(prefix) % UInt64(count)) == index
    }
}
