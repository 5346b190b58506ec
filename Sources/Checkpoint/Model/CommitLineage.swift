/// Which source objects produced which data files in one committed checkpoint version: what a later
/// reprocessing needs to replace exactly the rows of the objects it reads again.
///
/// A data file can hold rows of several objects (small inputs coalesce) and an object's rows can span
/// several files (one per partition); the record keeps both directions through ``ObjectLineage/dataFiles``.
/// Each object also records the drift it showed: fields the table lacked (with a sample value, so the
/// schema change they call for is known without reading the object again) and columns whose values needed
/// a wider type.
///
/// ```swift
/// let object = ObjectLineage(
///     object: ObjectVersion(key: "events/2026/11/24/10/a.gz", size: 912, etag: "9b2c", lastModifiedMillis: 0),
///     hour: 494_458, dataFiles: [0], newFields: ["browser": #""firefox""#], widenings: [:])
/// let lineage = CommitLineage(version: 7, snapshotID: 42, kind: .ingest,
///                             dataFiles: ["s3://lake/wh/db/events/data/x.parquet"], objects: [object])
/// try await store.saveLineage(lineage)
/// ```
public struct CommitLineage: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// New objects appended.
        case ingest
        /// Objects read again under an evolved schema; their earlier data files were replaced.
        case reprocess
    }

    /// The checkpoint version the commit made durable.
    public var version: Int64
    /// The snapshot that committed it.
    public var snapshotID: Int64
    public var kind: Kind
    /// The data files the commit added (full locations).
    public var dataFiles: [String]
    public var objects: [ObjectLineage]
    /// For `reprocess`: the data files the commit removed from the table.
    public var replacedDataFiles: [String]

    public init(
        version: Int64, snapshotID: Int64, kind: Kind, dataFiles: [String], objects: [ObjectLineage], replacedDataFiles: [String] = []
    ) {
        self.version = version
        self.snapshotID = snapshotID
        self.kind = kind
        self.dataFiles = dataFiles
        self.objects = objects
        self.replacedDataFiles = replacedDataFiles
    }

    /// Whether any object showed drift (such records are the ones a schema evolution looks at).
    public var hasDrift: Bool { objects.contains { $0.hasDrift } }

    /// The data file locations of one object.
    public func dataFiles(of object: ObjectLineage) -> [String] { object.dataFiles.map { dataFiles[$0] } }
}

/// One source object in a ``CommitLineage``.
public struct ObjectLineage: Sendable, Equatable {
    /// The object as it was read.
    public var object: ObjectVersion
    /// The hour its prefix names (hours since the Unix epoch).
    public var hour: Int32
    /// Indexes into the commit's ``CommitLineage/dataFiles``: the files holding this object's rows.
    public var dataFiles: [Int]
    /// Fields the table lacked when the object was read (dotted paths), each with the JSON text of a sample
    /// value (`null` when the sample was too large to keep).
    public var newFields: [String: String]
    /// Columns with values that need a wider type, with that type (`long`, `decimal(9, 2)`).
    public var widenings: [String: String]

    public init(object: ObjectVersion, hour: Int32, dataFiles: [Int], newFields: [String: String] = [:], widenings: [String: String] = [:]) {
        self.object = object
        self.hour = hour
        self.dataFiles = dataFiles
        self.newFields = newFields
        self.widenings = widenings
    }

    public var hasDrift: Bool { !newFields.isEmpty || !widenings.isEmpty }
}
