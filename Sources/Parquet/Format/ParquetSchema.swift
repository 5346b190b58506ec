/// The columns of a Parquet file, described with what Iceberg needs: each column's field id and its
/// Iceberg type (the Parquet module does not depend on IcebergCore, so the type is mirrored here).
///
/// ```swift
/// let schema = ParquetSchema(columns: [
///     ParquetColumn(name: "id", fieldID: 1, type: .long, isRequired: true),
///     ParquetColumn(name: "event_time", fieldID: 2, type: .timestamp(adjustedToUTC: true)),
///     ParquetColumn(name: "name", fieldID: 3, type: .string),
/// ])
/// ```
package struct ParquetSchema: Sendable, Equatable {
    /// The top-level fields (flat columns or nested trees).
    package var nodes: [ParquetNode]
    /// The leaf columns, in order: one column chunk each.
    package let leaves: [ParquetLeaf]

    package init(nodes: [ParquetNode]) {
        self.nodes = nodes
        leaves = nodes.flatMap { $0.leaves() }
    }

    /// A flat schema of primitive columns.
    package init(columns: [ParquetColumn]) { self.init(nodes: columns.map { .primitive($0) }) }

    /// The leaf columns (for a flat schema, the columns as given).
    package var columns: [ParquetColumn] { leaves.map(\.column) }
}

/// One (flat) column.
package struct ParquetColumn: Sendable, Equatable {
    package var name: String
    /// The Iceberg field id, written as the SchemaElement's `field_id`.
    package var fieldID: Int
    package var type: ParquetValueType
    package var isRequired: Bool

    package init(name: String, fieldID: Int, type: ParquetValueType, isRequired: Bool = false) {
        self.name = name
        self.fieldID = fieldID
        self.type = type
        self.isRequired = isRequired
    }
}

/// The Iceberg primitive types, as Parquet stores them (Iceberg spec, Appendix A, "Parquet").
package enum ParquetValueType: Sendable, Equatable {
    case boolean, int, long, float, double
    case decimal(precision: Int, scale: Int)
    case date
    /// Microseconds since midnight (INT64, TIME(MICROS)).
    case time
    /// Microseconds since the epoch (INT64, TIMESTAMP(MICROS)), UTC-adjusted for timestamptz.
    case timestamp(adjustedToUTC: Bool)
    case string, uuid
    case fixed(Int)
    case binary

    /// Parquet's physical type.
    var physical: PhysicalType {
        switch self {
        case .boolean: .boolean
        case .int, .date: .int32
        case .long, .time, .timestamp: .int64
        case .float: .float
        case .double: .double
        case .decimal(let p, _): p <= 9 ? .int32 : (p <= 18 ? .int64 : .fixedLenByteArray)
        case .string, .binary: .byteArray
        case .uuid, .fixed: .fixedLenByteArray
        }
    }

    /// FIXED_LEN_BYTE_ARRAY's length.
    var fixedLength: Int? {
        switch self {
        case .uuid: 16
        case .fixed(let l): l
        case .decimal(let p, _) where p > 18: Self.decimalBytes(precision: p)
        default: nil
        }
    }

    /// The fewest bytes that hold any unscaled decimal of `precision` digits (FIXED_LEN_BYTE_ARRAY decimals,
    /// and Iceberg's Avro fixed decimals, use this size).
    package static func decimalBytes(precision: Int) -> Int {
        var bytes = 1
        var limit = 1.0
        for _ in 0..<precision { limit *= 10 }
        while limit > pow2(8 * bytes - 1) { bytes += 1 }
        return bytes
    }

    private static func pow2(_ n: Int) -> Double {
        var v = 1.0
        for _ in 0..<n { v *= 2 }
        return v
    }
}

/// Parquet's physical types (parquet.thrift `Type`).
package enum PhysicalType: Int32, Sendable {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7
}

/// Page compression (parquet.thrift `CompressionCodec`).
package enum ParquetCompression: Int32, Sendable, CaseIterable {
    case uncompressed = 0, snappy = 1, gzip = 2, zstd = 6

    package var name: String {
        switch self {
        case .uncompressed: "none"
        case .snappy: "snappy"
        case .gzip: "gzip"
        case .zstd: "zstd"
        }
    }
}

/// Value encodings (parquet.thrift `Encoding`).
enum Encoding: Int32 {
    case plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, rleDictionary = 8
}
