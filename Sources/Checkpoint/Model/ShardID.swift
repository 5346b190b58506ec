import Codecs

/// One worker's share of a source: the objects whose key hashes to `index` among `count` shards, under the
/// source's shard layout `epoch` (see ``ShardLayout``: each rescaling starts a new epoch, with checkpoints of
/// its own).
///
/// ```swift
/// let shard = ShardID(index: 1, count: 3)
/// shard.owns(key: "raw/2026/11/24/10/events-1-2026-11-24-10-00-00-abc.gz")   // true for about a third of keys
/// ```
public struct ShardID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// This worker's index, `0 ..< count`.
    public var index: Int
    /// How many shards share the source.
    public var count: Int
    /// The source's shard layout epoch: 0 as first deployed, one more after each rescaling.
    public var epoch: Int

    /// The one shard of an unsharded source.
    public static let single = ShardID(index: 0, count: 1)

    public init(index: Int, count: Int, epoch: Int = 0) {
        precondition(count >= 1 && (0..<count).contains(index) && epoch >= 0, "shard \(index) of \(count) is not a shard")
        self.index = index
        self.count = count
        self.epoch = epoch
    }

    /// `shard-<index>-of-<count>` (epoch 0) or `shard-<index>-of-<count>-e<epoch>`, as used in file names and
    /// snapshot summary keys.
    public var description: String { "shard-\(index)-of-\(count)" + (epoch == 0 ? "" : "-e\(epoch)") }

    /// Whether this shard owns the object with `key` (the key without the bucket): the key's FNV-1a 64-bit
    /// hash, mixed by SplitMix64's finaliser so that its low bits are as good as its high ones, modulo
    /// `count`. Stable across processes, machines and releases; objects of one busy hour spread over every
    /// shard.
    public func owns(key: String) -> Bool {
        count == 1 || Self.shardIndex(of: key, count: count) == index
    }

    /// The index of the shard among `count` that owns `key`.
    public static func shardIndex(of key: String, count: Int) -> Int {
        var x = FNV1a64.hash(key)
        x = (x ^ (x >> 30)) &* 0xbf58_476d_1ce4_e5b9
        x = (x ^ (x >> 27)) &* 0x94d0_49bb_1331_11eb
        x ^= x >> 31
        return Int(x % UInt64(count))
    }

    /// The shard a ``description`` names (`shard-1-of-3`, `shard-0-of-4-e2`), or nil for any other text.
    package init?(name: Substring) {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4 || parts.count == 5, parts[0] == "shard", parts[2] == "of",
            let index = Int(parts[1]), let count = Int(parts[3]), count >= 1, (0..<count).contains(index)
        else { return nil }
        var epoch = 0
        if parts.count == 5 {
            guard parts[4].hasPrefix("e"), let e = Int(parts[4].dropFirst()), e > 0 else { return nil }
            epoch = e
        }
        self.init(index: index, count: count, epoch: epoch)
        guard description == name else { return nil }  // one spelling: no `+1`, `01` or `-e0`
    }

    /// The shard layout this shard belongs to.
    public var layout: ShardLayout { ShardLayout(count: count, epoch: epoch) }

    enum CodingKeys: String, CodingKey { case index, count, epoch }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            index: try container.decode(Int.self, forKey: .index), count: try container.decode(Int.self, forKey: .count),
            epoch: try container.decodeIfPresent(Int.self, forKey: .epoch) ?? 0)
    }
}

/// How a source is split among workers: `count` shards, in `epoch`. Recorded with every ingestion commit in
/// the snapshot summary (`iceberg-ingest.<source>.shard-layout` = `<count>/e<epoch>`), so a runner finds the
/// layout its peers use in the table itself, and refuses to run with another count unless asked to rescale.
public struct ShardLayout: Sendable, Hashable, CustomStringConvertible {
    public var count: Int
    public var epoch: Int

    public init(count: Int, epoch: Int) {
        self.count = count
        self.epoch = epoch
    }

    public var description: String { "\(count)/e\(epoch)" }

    /// Every shard of the layout.
    public var shards: [ShardID] { (0..<count).map { ShardID(index: $0, count: count, epoch: epoch) } }

    static func key(source: String) -> String { CheckpointCommit.namespace + "\(CheckpointStore.slug(source)).shard-layout" }

    /// The layout a summary's `shard-layout` value records (`<count>/e<epoch>`), or nil for any other text.
    package init?(recorded text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[0]), count >= 1, parts[1].hasPrefix("e"),
            let epoch = Int(parts[1].dropFirst()), epoch >= 0
        else { return nil }
        self.init(count: count, epoch: epoch)
    }

    /// What a table's history says of a source's layout.
    public enum Recorded: Sendable, Equatable {
        /// No ingestion commit of the source yet.
        case none
        case layout(ShardLayout)
        /// Commits written before layouts were recorded: `count` shards that owned whole hour prefixes.
        case legacy(count: Int)
    }

    /// The layout the newest ingestion commit of `source` records (ancestry newest first).
    public static func recorded(in ancestry: some Sequence<[String: String]>, source: String) -> Recorded {
        let key = key(source: source), slug = CheckpointStore.slug(source)
        for summary in ancestry {
            if let text = summary[key] {
                if let layout = ShardLayout(recorded: text) { return .layout(layout) }
                continue
            }
            // An older commit: its checkpoint keys name the shard, `shard-i-of-n.checkpoint-version`.
            for name in summary.keys {
                if case .checkpointVersion(let keySlug, let shard)? = CheckpointCommit.recordKey(name), keySlug == slug, shard.epoch == 0 {
                    return .legacy(count: shard.count)
                }
            }
        }
        return .none
    }
}
