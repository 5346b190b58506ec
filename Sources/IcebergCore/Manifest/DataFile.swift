/// A data file and its metrics, as a manifest records it (spec: "Manifests", `data_file` struct, field ids
/// 100-140). Metric maps are keyed by column field id.
public struct DataFile: Sendable, Equatable {
    /// `content` (134): 0 data, 1 position deletes, 2 equality deletes.
    public var content: Int
    /// `file_path` (100): the file's full location.
    public var filePath: String
    /// `file_format` (101): `PARQUET`, `AVRO` or `ORC`.
    public var fileFormat: String
    /// The partition spec the `partition` tuple follows.
    public var specID: Int
    /// `partition` (102): one value per field of the spec, in its order.
    public var partition: [Literal?]
    /// `record_count` (103).
    public var recordCount: Int64
    /// `file_size_in_bytes` (104).
    public var fileSizeInBytes: Int64
    /// `column_sizes` (108).
    public var columnSizes: [Int: Int64]
    /// `value_counts` (109): values including nulls.
    public var valueCounts: [Int: Int64]
    /// `null_value_counts` (110).
    public var nullValueCounts: [Int: Int64]
    /// `nan_value_counts` (137).
    public var nanValueCounts: [Int: Int64]
    /// `lower_bounds` (125): single-value serialized (Appendix D).
    public var lowerBounds: [Int: [UInt8]]
    /// `upper_bounds` (128).
    public var upperBounds: [Int: [UInt8]]
    /// `split_offsets` (132): row group starts.
    public var splitOffsets: [Int64]?
    /// `sort_order_id` (140).
    public var sortOrderID: Int?

    public init(
        filePath: String, fileFormat: String = "PARQUET", specID: Int = 0, partition: [Literal?] = [],
        recordCount: Int64, fileSizeInBytes: Int64, columnSizes: [Int: Int64] = [:], valueCounts: [Int: Int64] = [:],
        nullValueCounts: [Int: Int64] = [:], nanValueCounts: [Int: Int64] = [:], lowerBounds: [Int: [UInt8]] = [:],
        upperBounds: [Int: [UInt8]] = [:], splitOffsets: [Int64]? = nil, sortOrderID: Int? = nil, content: Int = 0
    ) {
        self.content = content
        self.filePath = filePath
        self.fileFormat = fileFormat
        self.specID = specID
        self.partition = partition
        self.recordCount = recordCount
        self.fileSizeInBytes = fileSizeInBytes
        self.columnSizes = columnSizes
        self.valueCounts = valueCounts
        self.nullValueCounts = nullValueCounts
        self.nanValueCounts = nanValueCounts
        self.lowerBounds = lowerBounds
        self.upperBounds = upperBounds
        self.splitOffsets = splitOffsets
        self.sortOrderID = sortOrderID
    }
}

/// An entry of a manifest: a data file and its status in the snapshot that wrote the manifest
/// (spec: `manifest_entry`, field ids 0-4).
public struct ManifestEntry: Sendable, Equatable {
    public enum Status: Int, Sendable { case existing = 0, added = 1, deleted = 2 }

    public var status: Status
    /// `snapshot_id` (1); nil means inherited from the manifest's snapshot.
    public var snapshotID: Int64?
    /// `sequence_number` (3); nil means inherited from the manifest (only for added entries).
    public var sequenceNumber: Int64?
    /// `file_sequence_number` (4).
    public var fileSequenceNumber: Int64?
    public var dataFile: DataFile

    public init(status: Status, snapshotID: Int64?, sequenceNumber: Int64?, fileSequenceNumber: Int64?, dataFile: DataFile) {
        self.status = status
        self.snapshotID = snapshotID
        self.sequenceNumber = sequenceNumber
        self.fileSequenceNumber = fileSequenceNumber
        self.dataFile = dataFile
    }
}

/// A manifest as the manifest list records it (spec: `manifest_file`, field ids 500-519).
public struct ManifestFile: Sendable, Equatable {
    public var path: String
    public var length: Int64
    public var specID: Int
    /// 0 data, 1 deletes.
    public var content: Int
    public var sequenceNumber: Int64
    public var minSequenceNumber: Int64
    public var addedSnapshotID: Int64
    public var addedFilesCount: Int
    public var existingFilesCount: Int
    public var deletedFilesCount: Int
    public var addedRowsCount: Int64
    public var existingRowsCount: Int64
    public var deletedRowsCount: Int64
    /// `partitions` (507): one summary per partition field.
    public var partitions: [FieldSummary]

    public init(
        path: String, length: Int64, specID: Int, content: Int = 0, sequenceNumber: Int64, minSequenceNumber: Int64,
        addedSnapshotID: Int64, addedFilesCount: Int, existingFilesCount: Int, deletedFilesCount: Int,
        addedRowsCount: Int64, existingRowsCount: Int64, deletedRowsCount: Int64, partitions: [FieldSummary]
    ) {
        self.path = path
        self.length = length
        self.specID = specID
        self.content = content
        self.sequenceNumber = sequenceNumber
        self.minSequenceNumber = minSequenceNumber
        self.addedSnapshotID = addedSnapshotID
        self.addedFilesCount = addedFilesCount
        self.existingFilesCount = existingFilesCount
        self.deletedFilesCount = deletedFilesCount
        self.addedRowsCount = addedRowsCount
        self.existingRowsCount = existingRowsCount
        self.deletedRowsCount = deletedRowsCount
        self.partitions = partitions
    }
}

/// Bounds of one partition field over a manifest's files (spec: `field_summary`, 509-511, 518).
public struct FieldSummary: Sendable, Equatable {
    public var containsNull: Bool
    public var containsNaN: Bool?
    public var lowerBound: [UInt8]?
    public var upperBound: [UInt8]?

    public init(containsNull: Bool, containsNaN: Bool? = nil, lowerBound: [UInt8]? = nil, upperBound: [UInt8]? = nil) {
        self.containsNull = containsNull
        self.containsNaN = containsNaN
        self.lowerBound = lowerBound
        self.upperBound = upperBound
    }
}
