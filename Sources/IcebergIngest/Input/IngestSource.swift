import Checkpoint
import Foundation
import S3Reader

/// An input object found by a source's listing.
public struct SourceObject: Sendable, Equatable, Codable {
    /// The key the checkpoint records: the object key for S3, the path below the root for a folder.
    public var key: String
    /// Where the object is, for messages: `s3://bucket/key` or a local path.
    public var location: String
    public var size: Int64
    /// S3's ETag, or for local files a tag made of the modification time and size.
    public var etag: String
    public var lastModifiedMillis: Int64
    /// The hour its prefix names (hours since the Unix epoch).
    public var hour: Int32
    /// The time-partition prefix it was listed under (what shards divide between them).
    public var partitionPrefix: String

    public init(key: String, location: String, size: Int64, etag: String, lastModifiedMillis: Int64, hour: Int32, partitionPrefix: String) {
        self.key = key
        self.location = location
        self.size = size
        self.etag = etag
        self.lastModifiedMillis = lastModifiedMillis
        self.hour = hour
        self.partitionPrefix = partitionPrefix
    }
}

extension SourceObject {
    /// The object's identity as the checkpoint records it.
    public var version: ObjectVersion {
        ObjectVersion(key: key, size: size, etag: etag, lastModifiedMillis: lastModifiedMillis)
    }
}

/// What a source's listing found.
public struct SourceListing: Sendable {
    /// Objects in time order (hour, then key).
    public var objects: [SourceObject]
    /// Prefixes (or folders) listed.
    public var listedPrefixes: [String]
    /// Keys under the root that do not follow the layout: reported, never read.
    public var unmatchedKeys: [String]
}

/// Where input files come from: S3 (``S3Source``) or a local folder (``LocalFolderSource``), laid out in
/// time partitions under a root.
public protocol IngestSource: Sendable {
    /// Identifies the source in checkpoints: root and layout, e.g. `s3://raw/events/|firehose`.
    var identity: String { get }
    var layout: PrefixLayout { get }
    /// Lists the objects of the hours from `firstOpenHour` (everything under the root when nil) to `now`.
    func list(firstOpenHour: Int32?, now: Date) async throws -> SourceListing
    /// Bytes `range` of an object (clamped at its end).
    func read(_ object: SourceObject, range: Range<Int64>) async throws -> [UInt8]
}
