/// What a Parquet footer says: the (flat) columns with their field ids and types, and the row groups.
package struct ParquetFileMetadata: Sendable {
    /// A leaf column.
    package struct Column: Sendable {
        package var name: String
        package var fieldID: Int?
        package var type: ParquetValueType
        package var isRequired: Bool
        /// Names from the root's child to the leaf.
        package var path: [String]
        package var maxDefinitionLevel: Int
        package var maxRepetitionLevel: Int
        /// Whether values come with levels (inside a list/map, or below an optional group).
        package var isNested: Bool { maxRepetitionLevel > 0 || maxDefinitionLevel > 1 }
        /// For timestamp and time columns: the unit stored. The reader hands out microseconds; files in
        /// other units cannot be registered in an Iceberg table as they are.
        package var timeUnit: TimeUnit = .micros
        /// The physical type in the file when it is not the type's own: INT96 for timestamps (what Hive, older
        /// Spark and Impala write) and INT32 for TIME(MILLIS). The reader converts; such files are never
        /// registered as they are.
        package var storedAs: PhysicalType?
    }

    /// Parquet's time units (parquet.thrift `TimeUnit`).
    package enum TimeUnit: Sendable, Equatable {
        case millis, micros, nanos
    }

    package struct Statistics: Sendable {
        package var nullCount: Int64?
        /// PLAIN-encoded min and max (from `min_value`/`max_value`, or the deprecated fields for signed types).
        package var min: [UInt8]?
        package var max: [UInt8]?
    }

    package struct Chunk: Sendable {
        package var codec: ParquetCompression
        package var valueCount: Int64
        package var dataPageOffset: Int64
        package var dictionaryPageOffset: Int64?
        package var compressedSize: Int64
        package var statistics: Statistics?
    }

    package struct RowGroup: Sendable {
        package var rowCount: Int64
        package var chunks: [Chunk]
    }

    package var rowCount: Int64
    package var columns: [Column]
    package var rowGroups: [RowGroup]
    package var createdBy: String?
}

extension ParquetFileMetadata {
    /// Parses the footer of `bytes`; `source` names the file in errors.
    init(fileBytes bytes: [UInt8], source: String) throws {
        func corrupt(_ what: String) -> ParquetError { ParquetError(.corruptFile, "\(source): \(what)") }
        guard bytes.count >= 12, bytes.prefix(4).elementsEqual(Array("PAR1".utf8)), bytes.suffix(4).elementsEqual(Array("PAR1".utf8)) else {
            throw corrupt("not a Parquet file (no PAR1 magic at both ends)")
        }
        let n = bytes.count
        let footerLength = Int(UInt32(bytes[n - 8]) | UInt32(bytes[n - 7]) << 8 | UInt32(bytes[n - 6]) << 16 | UInt32(bytes[n - 5]) << 24)
        guard footerLength > 0, footerLength <= n - 12 else { throw corrupt("footer length \(footerLength) does not fit the file") }
        var reader = ThriftCompactReader(bytes, from: n - 8 - footerLength, to: n - 8, source: source)
        let meta = try reader.readStruct()
        let elements = meta.structs(2)
        guard let root = elements.first else { throw corrupt("footer has no schema") }
        // Walk the schema tree depth first, tracking definition and repetition levels.
        var leaves: [Column] = []
        var index = 1
        func walk(children: Int, path: [String], definition: Int, repetition: Int, depth: Int) throws {
            guard depth < 64 else { throw corrupt("schema nested deeper than 64") }
            guard children >= 0, children <= elements.count else { throw corrupt("a group claims \(children) children") }
            for _ in 0..<children {
                guard index < elements.count else { throw corrupt("schema has fewer elements than its groups claim") }
                let e = elements[index]
                index += 1
                guard let name = e.string(4) else { throw corrupt("a schema element has no name") }
                let repetitionType = e.int(3) ?? 0
                let def = definition + (repetitionType == 0 ? 0 : 1)
                let rep = repetition + (repetitionType == 2 ? 1 : 0)
                let childCount = Int(e.int(5) ?? 0)
                if childCount > 0 || e.int(1) == nil {
                    guard childCount >= 0, childCount <= elements.count else { throw corrupt("group '\(name)' claims \(childCount) children") }
                    try walk(children: childCount, path: path + [name], definition: def, repetition: rep, depth: depth + 1)
                } else {
                    guard let physicalRaw = e.int(1), let physical = Int32(exactly: physicalRaw).flatMap(PhysicalType.init(rawValue:)) else {
                        throw corrupt("column '\(name)' has no physical type")
                    }
                    var column = Column(
                        name: name, fieldID: e.int(9).map(Int.init),
                        type: try Self.valueType(physical: physical, element: e, name: name, source: source),
                        isRequired: repetitionType == 0, path: path + [name], maxDefinitionLevel: def, maxRepetitionLevel: rep)
                    column.timeUnit = Self.timeUnit(e)
                    if physical != column.type.physical {
                        // Converted: INT96 timestamps and INT32 times. Anything else (a decimal in another
                        // physical type than Iceberg's) would be misread: refused, naming the column.
                        guard (physical == .int96) || (physical == .int32 && column.type == .time) else {
                            throw ParquetError(
                                .unsupported,
                                "\(source): column '\(name)' holds \(column.type) as \(physical), which is not read (decimals: INT32 up to 9 digits, INT64 up to 18, FIXED_LEN_BYTE_ARRAY beyond; pyarrow writes them so with store_decimal_as_integer=True)")
                        }
                        column.storedAs = physical
                    } else if physical == .fixedLenByteArray, let length = e.int(2), length != column.type.fixedLength.map(Int64.init) {
                        throw ParquetError(.unsupported, "\(source): column '\(name)' holds \(column.type) in \(length)-byte values, which is not read")
                    }
                    leaves.append(column)
                }
            }
        }
        try walk(children: Int(root.int(5) ?? 0), path: [], definition: 0, repetition: 0, depth: 0)
        guard index == elements.count else { throw corrupt("schema has \(elements.count - index) elements outside its groups") }
        columns = leaves
        rowCount = meta.int(3) ?? 0
        guard rowCount >= 0, rowCount <= Int64(Int32.max) else { throw corrupt("row count \(rowCount) is impossible") }
        createdBy = meta.string(6)
        let columnCount = columns.count
        let totalRows = rowCount
        rowGroups = try meta.structs(4).map { group in
            let chunks = try group.structs(1).map { chunk -> Chunk in
                guard let m = chunk.struct(3), let dataOffset = m.int(9), let compressed = m.int(7), let values = m.int(5) else {
                    throw corrupt("a column chunk has no metadata")
                }
                guard let codec = Int32(exactly: m.int(4) ?? 0).flatMap(ParquetCompression.init(rawValue:)) else {
                    throw ParquetError(.unsupported, "\(source): compression codec \(m.int(4) ?? -1) is not supported")
                }
                let start = m.int(11) ?? dataOffset
                let end = Int64(n) - 8 - Int64(footerLength)
                guard start >= 4, start <= end, compressed >= 0, compressed <= end - start, values >= 0, values <= totalRows + (1 << 24) else {
                    throw corrupt("column chunk at \(start) (\(compressed) bytes, \(values) values) does not fit the file")
                }
                var statistics: Statistics?
                if let s = m.struct(12) {
                    statistics = Statistics(nullCount: s.int(3), min: s.binary(6) ?? s.binary(2), max: s.binary(5) ?? s.binary(1))
                }
                return Chunk(codec: codec, valueCount: values, dataPageOffset: dataOffset, dictionaryPageOffset: m.int(11),
                             compressedSize: compressed, statistics: statistics)
            }
            guard chunks.count == columnCount else { throw corrupt("a row group has \(chunks.count) chunks for \(columnCount) columns") }
            let groupRows = group.int(3) ?? 0
            guard groupRows >= 0, groupRows <= totalRows else { throw corrupt("a row group claims \(groupRows) rows of the file's \(totalRows)") }
            return RowGroup(rowCount: groupRows, chunks: chunks)
        }
    }

    private static func valueType(physical: PhysicalType, element e: ThriftStruct, name: String, source: String) throws -> ParquetValueType {
        let logical = e.struct(10)
        let logicalKind = logical?.unionField
        let converted = e.int(6)
        switch physical {
        case .boolean: return .boolean
        case .float: return .float
        case .double: return .double
        // INT96: nanoseconds of the day and a Julian day, an instant by convention (Hive, Spark, Impala).
        case .int96: return .timestamp(adjustedToUTC: true)
        case .int32:
            if logicalKind == 6 || converted == 6 { return .date }
            if logicalKind == 7 || converted == 7 { return .time }  // TIME(MILLIS)
            if logicalKind == 5 || converted == 5 { return decimal(e, logical) }
            return .int
        case .int64:
            if logicalKind == 5 || converted == 5 { return decimal(e, logical) }
            if logicalKind == 8 || converted == 10 || converted == 9 {
                let utc = logical?.struct(8)?.bool(1) ?? true
                return .timestamp(adjustedToUTC: utc)
            }
            if logicalKind == 7 || converted == 8 { return .time }
            return .long
        case .byteArray:
            if logicalKind == 1 || converted == 0 || logicalKind == 12 || logicalKind == 4 { return .string }
            if logicalKind == 5 || converted == 5 { return decimal(e, logical) }
            return .binary
        case .fixedLenByteArray:
            guard let length = e.int(2), length > 0, length <= 1 << 20 else { throw ParquetError(.corruptFile, "\(source): column '\(name)' has no valid type_length") }
            if logicalKind == 14 && length == 16 { return .uuid }
            if logicalKind == 5 || converted == 5 { return decimal(e, logical) }
            return .fixed(Int(length))
        }
    }

    /// The unit of a TIMESTAMP or TIME column (logical type field 2, or the legacy converted type).
    private static func timeUnit(_ e: ThriftStruct) -> TimeUnit {
        let logical = e.struct(10)
        if let unit = (logical?.struct(8) ?? logical?.struct(7))?.struct(2)?.unionField {
            return unit == 1 ? .millis : (unit == 3 ? .nanos : .micros)
        }
        return e.int(6) == 9 ? .millis : .micros
    }

    private static func decimal(_ e: ThriftStruct, _ logical: ThriftStruct?) -> ParquetValueType {
        let d = logical?.struct(5)
        return .decimal(precision: Int(d?.int(2) ?? e.int(8) ?? 38), scale: Int(d?.int(1) ?? e.int(7) ?? 0))
    }
}
