/// Reads a Parquet file held in memory: its footer, and each column chunk back to values (levels
/// applied). Reads what ``ParquetFileWriter`` writes and what pyarrow writes for flat schemas: PLAIN,
/// PLAIN_DICTIONARY and RLE_DICTIONARY values, RLE levels, data pages v1 and v2, every codec we write.
///
/// ```swift
/// let file = try ParquetFileReader(bytes: bytes, source: "s3://b/data/a.parquet")
/// file.metadata.columns.map(\.fieldID)
/// let ids = try file.readColumn(0, rowGroup: 0)   // ColumnData
/// ```
package struct ParquetFileReader: Sendable {
    package let metadata: ParquetFileMetadata
    private let bytes: [UInt8]
    let source: String
    /// The most values a page may claim (guards allocations on corrupt input).
    static let maxValuesPerPage = 1 << 24

    package init(bytes: [UInt8], source: String) throws {
        self.bytes = bytes
        self.source = source
        metadata = try ParquetFileMetadata(fileBytes: bytes, source: source)
    }

    private func corrupt(_ what: String, column: String) -> ParquetError {
        ParquetError(.corruptFile, "\(source): column '\(column)': \(what)")
    }

    /// The values of column `index` in row group `rowGroup`.
    package func readColumn(_ index: Int, rowGroup: Int) throws -> ColumnData {
        let column = metadata.columns[index]
        let chunk = metadata.rowGroups[rowGroup].chunks[index]
        let start = Int(chunk.dictionaryPageOffset ?? chunk.dataPageOffset)
        let end = start + Int(chunk.compressedSize)
        var offset = start
        var dictionary: (values: ColumnData.Values, count: Int)?
        var builder = ValueBuilder(type: column.type, storedAs: column.storedAs)
        var validity: [Bool] = []
        var sawNull = false
        var definitionLevels: [UInt16] = [], repetitionLevels: [UInt16] = []
        let maxDef = column.maxDefinitionLevel, maxRep = column.maxRepetitionLevel
        var valuesRead: Int64 = 0
        while valuesRead < chunk.valueCount {
            guard offset < end else { throw corrupt("chunk ends after \(valuesRead) of \(chunk.valueCount) values", column: column.name) }
            var headerReader = ThriftCompactReader(bytes, from: offset, to: end, source: source)
            let header = try headerReader.readStruct()
            offset = headerReader.offset
            guard let type = header.int(1), let uncompressed = header.int(2), let compressed = header.int(3),
                compressed >= 0, uncompressed >= 0, compressed <= Int64(end - offset), uncompressed <= 1 << 30
            else { throw corrupt("page header at \(offset) is invalid", column: column.name) }
            let body = bytes[offset..<offset + Int(compressed)]
            offset += Int(compressed)
            switch type {
            case 2:  // dictionary page
                guard let d = header.struct(7), let count = d.int(1), count >= 0, count <= Self.maxValuesPerPage else {
                    throw corrupt("dictionary page header is invalid", column: column.name)
                }
                let page = try PageCompressor.decompress(body, chunk.codec, size: Int(uncompressed), source: source)
                var plain = ValueBuilder(type: column.type, storedAs: column.storedAs)
                var cursor = page[...]
                try plain.appendPlain(&cursor, count: Int(count), column: column.name, source: source)
                dictionary = (plain.values, Int(count))
            case 0, 3:  // data page v1, v2
                let isV2 = type == 3
                guard let d = header.struct(isV2 ? 8 : 5), let count = d.int(1), count >= 0, count <= Self.maxValuesPerPage,
                    let encoding = d.int(isV2 ? 4 : 2)
                else { throw corrupt("data page header is invalid", column: column.name) }
                let n = Int(count)
                var page = try dataPage(body, header: d, isV2: isV2, uncompressed: Int(uncompressed), count: n, column: column, codec: chunk.codec)
                let present = maxDef == 0 ? n : page.definitions.reduce(0) { $0 + (Int($1) == maxDef ? 1 : 0) }
                if column.isNested {
                    definitionLevels += page.definitions.map { UInt16(truncatingIfNeeded: $0) }
                    if maxRep > 0 { repetitionLevels += page.repetitions.map { UInt16(truncatingIfNeeded: $0) } }
                } else if maxDef > 0 {
                    validity.reserveCapacity(validity.count + n)
                    for level in page.definitions {
                        validity.append(level == 1)
                        if level == 0 { sawNull = true }
                    }
                }
                try appendValues(&page.values, encoding: encoding, present: present, dictionary: dictionary, column: column, into: &builder)
                valuesRead += Int64(n)
            default:
                break  // index pages and unknown pages are skipped
            }
        }
        var values = builder.values
        if case .int32(let millis) = values, column.type == .time {
            // TIME(MILLIS) as INT32: milliseconds of a day, in microseconds.
            values = .int64(millis.map { Int64($0) * 1000 })
        } else if column.timeUnit != .micros, case .int64(let raw) = values {
            if column.timeUnit == .millis {
                var micros: [Int64] = []
                micros.reserveCapacity(raw.count)
                for v in raw {
                    let (m, overflow) = v.multipliedReportingOverflow(by: 1000)
                    guard !overflow else { throw corrupt("\(v) ms is out of range for a timestamp", column: column.name) }
                    micros.append(m)
                }
                values = .int64(micros)
            } else {
                values = .int64(raw.map { $0 >= 0 ? $0 / 1000 : ($0 + 1) / 1000 - 1 })  // floor, without negating Int64.min
            }
        }
        if column.isNested {
            return ColumnData(values: values, levels: ColumnData.Levels(definition: definitionLevels, repetition: repetitionLevels))
        }
        return ColumnData(values: values, validity: sawNull ? validity : nil)
    }

    /// A data page's levels (empty when the column has none of that kind) and its encoded values.
    private struct DataPage {
        var definitions: [UInt32]
        var repetitions: [UInt32]
        var values: ArraySlice<UInt8>
    }

    /// Decompresses a data page (v1: levels and values compressed together; v2: levels stored plain before
    /// the values) and decodes its levels.
    private func dataPage(
        _ body: ArraySlice<UInt8>, header d: ThriftStruct, isV2: Bool, uncompressed: Int, count n: Int, column: ParquetFileMetadata.Column,
        codec: ParquetCompression
    ) throws -> DataPage {
        let maxDef = column.maxDefinitionLevel, maxRep = column.maxRepetitionLevel
        let defWidth = RLEHybridEncoder.bitWidth(for: maxDef), repWidth = RLEHybridEncoder.bitWidth(for: maxRep)
        var page = DataPage(definitions: [], repetitions: [], values: [])
        if isV2 {
            // DataPageHeaderV2: 5 definition_levels_byte_length, 6 repetition_levels_byte_length.
            let defLength = Int(d.int(5) ?? 0), repLength = Int(d.int(6) ?? 0)
            guard defLength >= 0, repLength >= 0, defLength + repLength <= body.count else {
                throw corrupt("v2 page level lengths exceed the page", column: column.name)
            }
            if maxRep > 0 { page.repetitions = try RLEHybridDecoder.decode(body.prefix(repLength), bitWidth: repWidth, count: n, source: source) }
            if maxDef > 0 {
                page.definitions = try RLEHybridDecoder.decode(body.dropFirst(repLength).prefix(defLength), bitWidth: defWidth, count: n, source: source)
            }
            let compressedValues = body.dropFirst(repLength + defLength)
            let isCompressed = d.bool(7) ?? true
            let size = uncompressed - repLength - defLength
            page.values = isCompressed ? try PageCompressor.decompress(compressedValues, codec, size: size, source: source)[...] : compressedValues
        } else {
            var cursor = try PageCompressor.decompress(body, codec, size: uncompressed, source: source)[...]
            func levels(width: Int) throws -> [UInt32] {
                guard cursor.count >= 4 else { throw corrupt("page too short for its levels", column: column.name) }
                let length = Self.littleEndian32(cursor)
                cursor = cursor.dropFirst(4)
                guard length <= cursor.count else { throw corrupt("levels run past the page", column: column.name) }
                defer { cursor = cursor.dropFirst(length) }
                return try RLEHybridDecoder.decode(cursor.prefix(length), bitWidth: width, count: n, source: source)
            }
            if maxRep > 0 { page.repetitions = try levels(width: repWidth) }
            if maxDef > 0 { page.definitions = try levels(width: defWidth) }
            page.values = cursor
        }
        guard maxDef == 0 || page.definitions.count == n, maxRep == 0 || page.repetitions.count == n else {
            throw corrupt("page has fewer levels than values", column: column.name)
        }
        return page
    }

    /// Decodes a page's `present` values in `encoding` (plain, RLE booleans, or dictionary indices).
    private func appendValues(
        _ values: inout ArraySlice<UInt8>, encoding: Int64, present: Int, dictionary: (values: ColumnData.Values, count: Int)?,
        column: ParquetFileMetadata.Column, into builder: inout ValueBuilder
    ) throws {
        switch encoding {
        case 0:
            try builder.appendPlain(&values, count: present, column: column.name, source: source)
        case 3 where column.type == .boolean:
            // RLE booleans (Arrow writes them in v2 pages): a 4-byte length, then the hybrid at width 1.
            guard values.count >= 4 else { throw corrupt("RLE boolean page too short", column: column.name) }
            let length = Self.littleEndian32(values)
            guard length <= values.count - 4 else { throw corrupt("RLE booleans run past the page", column: column.name) }
            let bits = try RLEHybridDecoder.decode(values.dropFirst(4).prefix(length), bitWidth: 1, count: present, source: source)
            builder.appendBooleans(bits.map { $0 == 1 })
        case 2, 8:
            guard let dictionary else { throw corrupt("dictionary-encoded page without a dictionary", column: column.name) }
            guard present == 0 || !values.isEmpty else { throw corrupt("dictionary page data missing", column: column.name) }
            let bitWidth = present == 0 ? 0 : Int(values[values.startIndex])
            let indices = present == 0 ? [] : try RLEHybridDecoder.decode(values.dropFirst(), bitWidth: bitWidth, count: present, source: source)
            guard indices.count == present else { throw corrupt("too few dictionary indices", column: column.name) }
            try builder.appendFromDictionary(dictionary.values, count: dictionary.count, indices: indices, column: column.name, source: source)
        default:
            throw ParquetError(.unsupported, "\(source): column '\(column.name)': encoding \(encoding) is not supported")
        }
    }

    private static func littleEndian32(_ bytes: ArraySlice<UInt8>) -> Int {
        let s = bytes.startIndex
        return Int(bytes[s]) | Int(bytes[s + 1]) << 8 | Int(bytes[s + 2]) << 16 | Int(bytes[s + 3]) << 24
    }

    package func metrics(fileSize: Int64? = nil, truncate: Int = 16) throws -> ParquetFileMetrics {
        var m = ParquetFileMetrics()
        m.recordCount = metadata.rowCount
        m.fileSize = fileSize ?? Int64(bytes.count)
        for (i, column) in metadata.columns.enumerated() {
            guard let id = column.fieldID else { continue }
            var lo: [UInt8]?, hi: [UInt8]?, complete = true
            for (g, group) in metadata.rowGroups.enumerated() {
                let chunk = group.chunks[i]
                m.columnSizes[id, default: 0] += chunk.compressedSize
                m.valueCounts[id, default: 0] += chunk.valueCount
                if let nulls = chunk.statistics?.nullCount { m.nullValueCounts[id, default: 0] += nulls } else { complete = false }
                if let min = chunk.statistics?.min, lo.map({ IcebergBounds.compare(min, $0, type: column.type) < 0 }) ?? true { lo = min }
                if let max = chunk.statistics?.max, hi.map({ IcebergBounds.compare(max, $0, type: column.type) > 0 }) ?? true { hi = max }
                if column.type == .float || column.type == .double {
                    let data = try readColumn(i, rowGroup: g)
                    var nans = 0
                    if case .double(let a) = data.values { nans = a.reduce(0) { $0 + ($1.isNaN ? 1 : 0) } }
                    if case .float(let a) = data.values { nans = a.reduce(0) { $0 + ($1.isNaN ? 1 : 0) } }
                    m.nanValueCounts[id, default: 0] += Int64(nans)
                }
            }
            if !complete { m.nullValueCounts[id] = nil }
            guard column.maxRepetitionLevel == 0 else { continue }  // no bounds inside lists and maps
            if let lo { m.lowerBounds[id] = IcebergBounds.iceberg(lo, type: column.type, isUpper: false, truncate: truncate) }
            if let hi { m.upperBounds[id] = IcebergBounds.iceberg(hi, type: column.type, isUpper: true, truncate: truncate) }
        }
        var offsets: [Int64] = []
        for group in metadata.rowGroups {
            if let first = group.chunks.first { offsets.append(first.dictionaryPageOffset ?? first.dataPageOffset) }
        }
        m.splitOffsets = offsets
        return m
    }
}

/// Accumulates decoded values of one column in its ColumnData form.
struct ValueBuilder {
    let type: ParquetValueType
    private(set) var values: ColumnData.Values

    /// `storedAs`: the physical type in the file, when not the type's own (INT96 timestamps are decoded to
    /// microseconds here; INT32 times are kept as stored and widened once the column is read).
    let storedAs: PhysicalType?

    init(type: ParquetValueType, storedAs: PhysicalType? = nil) {
        self.type = type
        self.storedAs = storedAs
        switch storedAs == .int32 ? .int32 : type.physical {
        case .boolean: values = .boolean([])
        case .int32: values = .int32([])
        case .int64, .int96: values = .int64([])
        case .float: values = .float([])
        case .double: values = .double([])
        case .byteArray, .fixedLenByteArray: values = .bytes(bytes: [], offsets: [0])
        }
    }

    mutating func appendPlain(_ cursor: inout ArraySlice<UInt8>, count: Int, column: String, source: String) throws {
        func corrupt(_ what: String) -> ParquetError { ParquetError(.corruptFile, "\(source): column '\(column)': \(what)") }
        func fixedWidth<T>(_ existing: [T], _: T.Type) throws -> [T] {
            let width = MemoryLayout<T>.size
            guard count <= cursor.count / max(width, 1) else { throw corrupt("\(count) values need \(count * width) bytes, page has \(cursor.count)") }
            var result = existing
            result.reserveCapacity(existing.count + count)
            let chunk = cursor.prefix(count * width)
            chunk.withUnsafeBytes { raw in
                for i in 0..<count { result.append(raw.loadUnaligned(fromByteOffset: i * width, as: T.self)) }
            }
            cursor = cursor.dropFirst(count * width)
            return result
        }
        if storedAs == .int96, case .int64(var micros) = values {
            // 12 bytes a value: nanoseconds of the day (8, little-endian), then the Julian day (4).
            guard count <= cursor.count / 12 else { throw corrupt("\(count) INT96 values need \(count * 12) bytes, page has \(cursor.count)") }
            values = .int64([])  // the array is appended to in place, not copied
            micros.reserveCapacity(micros.count + count)
            try cursor.prefix(count * 12).withUnsafeBytes { raw in
                for i in 0..<count {
                    let nanos = raw.loadUnaligned(fromByteOffset: i * 12, as: Int64.self)
                    let julianDay = Int64(raw.loadUnaligned(fromByteOffset: i * 12 + 8, as: Int32.self))
                    let (dayMicros, overflow) = (julianDay - 2_440_588).multipliedReportingOverflow(by: 86_400_000_000)
                    guard !overflow, (0..<86_400_000_000_000).contains(nanos) else {
                        throw corrupt("INT96 value \(i) (day \(julianDay), \(nanos) ns) is not a timestamp")
                    }
                    let (value, late) = dayMicros.addingReportingOverflow(nanos / 1000)
                    guard !late else { throw corrupt("INT96 value \(i) is out of range") }
                    micros.append(value)
                }
            }
            cursor = cursor.dropFirst(count * 12)
            values = .int64(micros)
            return
        }
        switch values {
        case .boolean(var a):
            guard count <= cursor.count * 8 else { throw corrupt("too few bytes for \(count) booleans") }
            values = .int32([])
            for i in 0..<count { a.append(cursor[cursor.startIndex + i / 8] >> (i % 8) & 1 == 1) }
            cursor = cursor.dropFirst((count + 7) / 8)
            values = .boolean(a)
        case .int32(let a): values = .int32(try fixedWidth(a, Int32.self))
        case .int64(let a): values = .int64(try fixedWidth(a, Int64.self))
        case .float(let a): values = .float(try fixedWidth(a, Float.self))
        case .double(let a): values = .double(try fixedWidth(a, Double.self))
        case .bytes(var data, var offsets):
            values = .int32([])
            if let length = type.fixedLength {
                guard count <= cursor.count / length else { throw corrupt("too few bytes for \(count) fixed values") }
                for _ in 0..<count {
                    data.append(contentsOf: cursor.prefix(length))
                    cursor = cursor.dropFirst(length)
                    offsets.append(Int32(data.count))
                }
            } else {
                for _ in 0..<count {
                    guard cursor.count >= 4 else { throw corrupt("byte array length runs past the page") }
                    let s = cursor.startIndex
                    let length = Int(cursor[s]) | Int(cursor[s + 1]) << 8 | Int(cursor[s + 2]) << 16 | Int(cursor[s + 3]) << 24
                    cursor = cursor.dropFirst(4)
                    guard length <= cursor.count else { throw corrupt("byte array of \(length) bytes runs past the page") }
                    data.append(contentsOf: cursor.prefix(length))
                    cursor = cursor.dropFirst(length)
                    guard data.count < Int(Int32.max) else { throw corrupt("more than 2 GiB of byte arrays") }
                    offsets.append(Int32(data.count))
                }
            }
            values = .bytes(bytes: data, offsets: offsets)
        }
    }

    mutating func appendBooleans(_ bits: [Bool]) {
        if case .boolean(var a) = values {
            values = .int32([])
            a += bits
            values = .boolean(a)
        }
    }

    mutating func appendFromDictionary(_ dictionary: ColumnData.Values, count: Int, indices: [UInt32], column: String, source: String) throws {
        guard indices.allSatisfy({ Int($0) < count }) else {
            throw ParquetError(.corruptFile, "\(source): column '\(column)': dictionary index out of range")
        }
        switch (values, dictionary) {
        case (.int32(var a), .int32(let d)): values = .boolean([]); a += indices.map { d[Int($0)] }; values = .int32(a)
        case (.int64(var a), .int64(let d)): values = .boolean([]); a += indices.map { d[Int($0)] }; values = .int64(a)
        case (.float(var a), .float(let d)): values = .boolean([]); a += indices.map { d[Int($0)] }; values = .float(a)
        case (.double(var a), .double(let d)): values = .boolean([]); a += indices.map { d[Int($0)] }; values = .double(a)
        case (.bytes(var data, var offsets), .bytes(let dData, let dOffsets)):
            values = .boolean([])
            for index in indices {
                let i = Int(index)
                data.append(contentsOf: dData[Int(dOffsets[i])..<Int(dOffsets[i + 1])])
                offsets.append(Int32(data.count))
            }
            values = .bytes(bytes: data, offsets: offsets)
        default:
            throw ParquetError(.corruptFile, "\(source): column '\(column)': dictionary of another type")
        }
    }
}
