/// The checkpoint a table commit advances, as recorded in that commit's snapshot summary (the way Iceberg's
/// Kafka Connect and Spark streaming sinks record their offsets): the table is the truth of what was ingested.
///
/// Keys, for a source slug `S` and shard `shard-i-of-n`:
/// `iceberg-ingest.S.shard-i-of-n.checkpoint-version`, `...watermark-hour`, `...checkpoint-location`, and the
/// source's shard layout, `iceberg-ingest.S.shard-layout` (``ShardLayout``).
public struct CheckpointCommit: Sendable, Equatable {
    public var source: String
    public var shard: ShardID
    /// The checkpoint version the commit made durable.
    public var version: Int64
    /// The watermark hour of that version, if any.
    public var watermarkHour: Int32?
    /// Where that version's file is.
    public var location: String

    public init(source: String, shard: ShardID, version: Int64, watermarkHour: Int32?, location: String) {
        self.source = source
        self.shard = shard
        self.version = version
        self.watermarkHour = watermarkHour
        self.location = location
    }

    static let namespace = "iceberg-ingest."

    static func keyPrefix(source: String, shard: ShardID) -> String {
        namespace + "\(CheckpointStore.slug(source)).\(shard)."
    }

    /// One of the snapshot summary keys these records are written under, read back.
    package enum RecordKey: Equatable {
        /// `iceberg-ingest.<slug>.<shard>.checkpoint-version`: a shard's checkpoint record.
        case checkpointVersion(slug: Substring, shard: ShardID)
        /// `iceberg-ingest.<slug>.shard-layout`: the source's shard layout (``ShardLayout``).
        case shardLayout(slug: Substring)
    }

    /// Which record `key` names (its source by slug), or nil for any other key (the record's other keys,
    /// other writers' keys).
    package static func recordKey(_ key: String) -> RecordKey? {
        guard key.hasPrefix(namespace) else { return nil }
        let parts = key.dropFirst(namespace.count).split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 2, parts[1] == "shard-layout" { return .shardLayout(slug: parts[0]) }
        guard parts.count == 3, parts[2] == "checkpoint-version", let shard = ShardID(name: parts[1]) else { return nil }
        return .checkpointVersion(slug: parts[0], shard: shard)
    }

    /// The snapshot summary properties that record this commit.
    public var summaryProperties: [String: String] {
        let prefix = Self.keyPrefix(source: source, shard: shard)
        var properties = [prefix + "checkpoint-version": String(version), prefix + "checkpoint-location": location]
        if let watermarkHour { properties[prefix + "watermark-hour"] = String(watermarkHour) }
        properties[ShardLayout.key(source: source)] = shard.layout.description
        return properties
    }

    /// The newest record for `source` and `shard` in a table's history.
    ///
    /// - Parameter ancestry: snapshot summaries from the current snapshot back towards the first, newest first
    ///   (other writers' and maintenance commits carry no record and are passed over).
    public static func latest(
        in ancestry: some Sequence<[String: String]>, source: String, shard: ShardID
    ) -> CheckpointCommit? {
        let prefix = keyPrefix(source: source, shard: shard)
        for summary in ancestry {
            guard let versionText = summary[prefix + "checkpoint-version"], let version = Int64(versionText),
                let location = summary[prefix + "checkpoint-location"]
            else { continue }
            return CheckpointCommit(
                source: source, shard: shard, version: version,
                watermarkHour: summary[prefix + "watermark-hour"].flatMap { Int32($0) }, location: location)
        }
        return nil
    }
}
