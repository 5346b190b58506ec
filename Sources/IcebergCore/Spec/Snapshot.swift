/// A snapshot: the table's state at one commit (spec: "Snapshots").
public struct Snapshot: Sendable, Hashable {
    /// `snapshot-id`.
    public var id: Int64
    /// `parent-snapshot-id`.
    public var parentID: Int64?
    /// `sequence-number` (v2): orders changes; data files added by this snapshot inherit it.
    public var sequenceNumber: Int64
    /// `timestamp-ms`.
    public var timestampMillis: Int64
    /// `manifest-list`: location of the Avro manifest list.
    public var manifestList: String
    /// `summary`: `operation` plus counters such as `added-data-files`, `total-records`.
    public var summary: [String: String]
    /// `schema-id` current when the snapshot was written.
    public var schemaID: Int?

    public init(
        id: Int64, parentID: Int64?, sequenceNumber: Int64, timestampMillis: Int64, manifestList: String,
        summary: [String: String], schemaID: Int?
    ) {
        self.id = id
        self.parentID = parentID
        self.sequenceNumber = sequenceNumber
        self.timestampMillis = timestampMillis
        self.manifestList = manifestList
        self.summary = summary
        self.schemaID = schemaID
    }

    /// The summary's `operation`: append, replace, overwrite or delete.
    public var operation: String? { summary["operation"] }
}

/// A named reference to a snapshot: a branch or a tag (spec: "Snapshot References").
public struct SnapshotRef: Sendable, Hashable {
    public enum Kind: String, Sendable { case branch, tag }

    public var snapshotID: Int64
    public var kind: Kind
    public var minSnapshotsToKeep: Int?
    public var maxSnapshotAgeMillis: Int64?
    public var maxRefAgeMillis: Int64?

    public init(snapshotID: Int64, kind: Kind, minSnapshotsToKeep: Int? = nil, maxSnapshotAgeMillis: Int64? = nil, maxRefAgeMillis: Int64? = nil) {
        self.snapshotID = snapshotID
        self.kind = kind
        self.minSnapshotsToKeep = minSnapshotsToKeep
        self.maxSnapshotAgeMillis = maxSnapshotAgeMillis
        self.maxRefAgeMillis = maxRefAgeMillis
    }

    /// The branch every write goes to unless told otherwise.
    public static let mainBranch = "main"
}

/// An entry of the snapshot log: which snapshot became current when.
public struct SnapshotLogEntry: Sendable, Hashable {
    public var snapshotID: Int64
    public var timestampMillis: Int64
    public init(snapshotID: Int64, timestampMillis: Int64) {
        self.snapshotID = snapshotID
        self.timestampMillis = timestampMillis
    }
}

/// An entry of the metadata log: a previous metadata file and when it was current.
public struct MetadataLogEntry: Sendable, Hashable {
    public var metadataFile: String
    public var timestampMillis: Int64
    public init(metadataFile: String, timestampMillis: Int64) {
        self.metadataFile = metadataFile
        self.timestampMillis = timestampMillis
    }
}
