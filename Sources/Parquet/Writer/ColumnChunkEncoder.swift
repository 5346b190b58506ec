import Codecs
import Foundation

/// The encoded chunk of one column in one row group, and what its metadata and Iceberg metrics need.
package struct EncodedChunk: Sendable {
    var bytes: [UInt8] = []
    /// The chunk's size once written (its bytes are dropped after they go to the file).
    var compressedSize = 0
    var dictionaryPageOffset: Int?  // relative to the chunk start
    var dataPageOffset = 0  // relative to the chunk start
    var uncompressedSize = 0
    var encodings: Set<Encoding> = []
    var valueCount = 0  // rows, nulls included
    var nullCount = 0
    var nanCount = 0
    /// Min and max in Parquet's PLAIN form (stats), nil when every value is null or NaN.
    var minPlain: [UInt8]?
    var maxPlain: [UInt8]?
}

/// Encodes a column's values for one row group: a dictionary page when the dictionary stays small,
/// data pages (v1) of definition levels and values, compressed.
struct ColumnChunkEncoder {
    let leaf: ParquetLeaf
    let options: ParquetWriterOptions
    var column: ParquetColumn { leaf.column }

    func encode(_ data: ColumnData) throws -> EncodedChunk {
        var chunk = EncodedChunk()
        chunk.valueCount = data.slotCount
        chunk.nullCount = data.nullCount
        // Dictionary: indices for every non-null value, or nil to write PLAIN.
        var dictionary: DictionaryEncoding?
        if options.useDictionary, column.type != .boolean {
            dictionary = buildDictionary(data.values)
        }
        // Byte strings' bounds need only each distinct value once.
        computeStatistics(data, candidates: dictionary?.firsts, into: &chunk)
        if let dictionary {
            chunk.dictionaryPageOffset = 0
            try appendPage(type: 2, body: dictionary.page, to: &chunk) { header in
                header.structField(7) { d in
                    d.i32(1, Int32(dictionary.count))
                    d.i32(2, Encoding.plain.rawValue)
                }
            }
            chunk.encodings.insert(.plain)
        }
        chunk.dataPageOffset = chunk.bytes.count
        if let levels = data.levels {
            try encodeNestedPages(data, levels: levels, dictionary: dictionary, into: &chunk)
            return chunk
        }
        // Pages: rows [start, end) with their values [valueStart, valueEnd).
        let rows = data.rowCount
        let bytesPerValue = dictionary != nil ? 2 : max(1, estimatedWidth(data.values))
        let rowsPerPage = max(1, min(options.pageRowLimit, options.pageSizeBytes / bytesPerValue))
        var row = 0, valueIndex = 0
        let validity = data.validity
        while row < rows {
            let end = min(rows, row + rowsPerPage)
            var page: [UInt8] = []
            var valuesInPage = end - row
            if leaf.maxDefinitionLevel > 0 {
                let encoded: [UInt8]
                if validity == nil, end - row >= 8 {
                    // Every row defined: one run of level 1, as the encoder writes it, without a level per row.
                    encoded = RLEHybridEncoder.run(of: 1, count: end - row, bitWidth: 1)
                } else {
                    var levels = [UInt32](repeating: 1, count: end - row)
                    if let validity {
                        valuesInPage = 0
                        validity.withUnsafeBufferPointer { v in
                            for r in row..<end where !v[r] { levels[r - row] = 0 }
                            for r in row..<end where v[r] { valuesInPage += 1 }
                        }
                    }
                    var encoder = RLEHybridEncoder(bitWidth: 1, capacity: (end - row) / 8 + 8)
                    encoder.encode(levels)
                    encoded = encoder.finish()
                }
                page.reserveCapacity(encoded.count + 4 + valuesInPage * 2)
                withUnsafeBytes(of: UInt32(encoded.count).littleEndian) { page.append(contentsOf: $0) }
                page += encoded
            }
            appendValues(data.values, dictionary: dictionary, range: valueIndex..<valueIndex + valuesInPage, to: &page, chunk: &chunk)
            if leaf.maxDefinitionLevel > 0 { chunk.encodings.insert(.rle) }
            try appendDataPage(page, values: end - row, dictionary: dictionary != nil, to: &chunk)
            valueIndex += valuesInPage
            row = end
        }
        if rows == 0 {
            try appendDataPage([], values: 0, dictionary: false, to: &chunk)
        }
        return chunk
    }

    /// Pages of a nested column: cut at row starts (repetition level 0), each holding repetition levels,
    /// definition levels, then the values of the slots defined to the leaf.
    private func encodeNestedPages(
        _ data: ColumnData, levels: ColumnData.Levels, dictionary: DictionaryEncoding?,
        into chunk: inout EncodedChunk
    ) throws {
        let slots = levels.definition.count
        let maxDef = UInt16(leaf.maxDefinitionLevel)
        let defWidth = RLEHybridEncoder.bitWidth(for: leaf.maxDefinitionLevel)
        let repWidth = RLEHybridEncoder.bitWidth(for: leaf.maxRepetitionLevel)
        let slotsPerPage = max(1, min(options.pageRowLimit, options.pageSizeBytes / max(1, estimatedWidth(data.values))))
        var slot = 0, valueIndex = 0
        repeat {
            var end = min(slots, slot + slotsPerPage)
            if leaf.maxRepetitionLevel > 0 {
                while end < slots && levels.repetition[end] != 0 { end += 1 }  // never split a row
            }
            var page: [UInt8] = []
            func appendLevels(_ values: ArraySlice<UInt16>, width: Int) {
                var encoder = RLEHybridEncoder(bitWidth: width, capacity: values.count / 4 + 8)
                encoder.encode(values.map { UInt32($0) })
                let encoded = encoder.finish()
                withUnsafeBytes(of: UInt32(encoded.count).littleEndian) { page.append(contentsOf: $0) }
                page += encoded
            }
            if leaf.maxRepetitionLevel > 0 { appendLevels(levels.repetition[slot..<end], width: repWidth) }
            if leaf.maxDefinitionLevel > 0 { appendLevels(levels.definition[slot..<end], width: defWidth) }
            let valuesInPage = levels.definition[slot..<end].reduce(0) { $0 + ($1 == maxDef ? 1 : 0) }
            appendValues(data.values, dictionary: dictionary, range: valueIndex..<valueIndex + valuesInPage, to: &page, chunk: &chunk)
            chunk.encodings.insert(.rle)
            try appendDataPage(page, values: end - slot, dictionary: dictionary != nil, to: &chunk)
            valueIndex += valuesInPage
            slot = end
        } while slot < slots
    }

    /// A page's values: dictionary indices (bit width, then the RLE/bit-packed hybrid) or PLAIN values.
    private func appendValues(
        _ values: ColumnData.Values, dictionary: DictionaryEncoding?, range: Range<Int>,
        to page: inout [UInt8], chunk: inout EncodedChunk
    ) {
        guard let dictionary else {
            appendPlain(values, range: range, to: &page)
            chunk.encodings.insert(.plain)
            return
        }
        let bitWidth = RLEHybridEncoder.bitWidth(for: max(dictionary.count - 1, 0))
        page.append(UInt8(bitWidth))
        var encoder = RLEHybridEncoder(bitWidth: bitWidth, capacity: range.count * bitWidth / 8 + 16)
        dictionary.indices.withUnsafeBufferPointer { all in encoder.encode(UnsafeBufferPointer(rebasing: all[range])) }
        page += encoder.finish()
        chunk.encodings.insert(.rleDictionary)
    }

    /// A data page (v1) of `values` level entries, levels RLE-encoded.
    private func appendDataPage(_ body: [UInt8], values: Int, dictionary: Bool, to chunk: inout EncodedChunk) throws {
        try appendPage(type: 0, body: body, to: &chunk) { header in
            header.structField(5) { d in
                d.i32(1, Int32(values))
                d.i32(2, (dictionary ? Encoding.rleDictionary : Encoding.plain).rawValue)
                d.i32(3, Encoding.rle.rawValue)
                d.i32(4, Encoding.rle.rawValue)
            }
        }
    }

    /// Compresses `body` and appends its page header and the compressed bytes.
    private func appendPage(type: Int32, body: [UInt8], to chunk: inout EncodedChunk, _ details: (inout ThriftCompactWriter) -> Void) throws {
        let compressed = try PageCompressor.compress(body, options.compression, zstdLevel: options.zstdLevel)
        var header = ThriftCompactWriter()
        header.writeStruct { h in
            h.i32(1, type)
            h.i32(2, Int32(body.count))
            h.i32(3, Int32(compressed.count))
            details(&h)
        }
        chunk.uncompressedSize += header.bytes.count + body.count
        chunk.bytes += header.bytes
        chunk.bytes += compressed
    }

    private func estimatedWidth(_ values: ColumnData.Values) -> Int {
        switch values {
        case .boolean: 1
        case .int32, .float: 4
        case .int64, .double: 8
        case .bytes(let bytes, let offsets): offsets.count > 1 ? bytes.count / (offsets.count - 1) + (column.type.fixedLength == nil ? 4 : 0) : 4
        }
    }

    // MARK: PLAIN

    private func appendPlain(_ values: ColumnData.Values, range: Range<Int>, to page: inout [UInt8]) {
        func raw<T>(_ array: [T]) {
            array.withUnsafeBytes { bytes in
                let size = MemoryLayout<T>.stride
                page.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[range.lowerBound * size..<range.upperBound * size]))
            }
        }
        switch values {
        case .boolean(let bools):
            var byte: UInt8 = 0, bit = 0
            for i in range {
                if bools[i] { byte |= 1 << bit }
                bit += 1
                if bit == 8 { page.append(byte); byte = 0; bit = 0 }
            }
            if bit > 0 { page.append(byte) }
        case .int32(let a): raw(a)
        case .int64(let a): raw(a)
        case .float(let a): raw(a)
        case .double(let a): raw(a)
        case .bytes(let bytes, let offsets):
            let fixed = column.type.fixedLength != nil
            bytes.withUnsafeBufferPointer { data in
                offsets.withUnsafeBufferPointer { o in
                    let start = Int(o[range.lowerBound]), end = Int(o[range.upperBound])
                    page.reserveCapacity(page.count + (end - start) + (fixed ? 0 : 4 * range.count))
                    if fixed {
                        page.append(contentsOf: UnsafeBufferPointer(rebasing: data[start..<end]))
                    } else {
                        for i in range {
                            let s = Int(o[i]), e = Int(o[i + 1])
                            let length = UInt32(e - s)
                            page.append(UInt8(truncatingIfNeeded: length))
                            page.append(UInt8(truncatingIfNeeded: length >> 8))
                            page.append(UInt8(truncatingIfNeeded: length >> 16))
                            page.append(UInt8(truncatingIfNeeded: length >> 24))
                            page.append(contentsOf: UnsafeBufferPointer(rebasing: data[s..<e]))
                        }
                    }
                }
            }
        }
    }

    // MARK: Dictionary

    /// The dictionary page body (PLAIN values), its size, and each value's index; nil when the dictionary
    /// would pass the size limit (the chunk is then written PLAIN).
    private func buildDictionary(_ values: ColumnData.Values) -> DictionaryEncoding? {
        let limit = options.dictionaryPageSizeLimit
        func numeric<T>(_ array: [T], key: (T) -> UInt64) -> DictionaryEncoding? {
            // Open addressing over the values' bit patterns (no per-value hashing through `Hasher`).
            let width = MemoryLayout<T>.stride
            // Room for the sample's values (at most half full); after it, for as many as it says the column holds.
            var capacity = DictionarySample.capacity(for: min(array.count, DictionarySample.size), loadNumerator: 1, loadDenominator: 2)
            var keys = [UInt64](repeating: 0, count: capacity)
            var slots = [UInt32](repeating: .max, count: capacity)  // index into `unique`, or .max when empty
            var unique: [T] = []
            var indices = [UInt32](repeating: 0, count: array.count)
            let ok: Bool = array.withUnsafeBufferPointer { a in
                indices.withUnsafeMutableBufferPointer { out in
                    for i in 0..<a.count {
                        if i == DictionarySample.size {
                            if DictionarySample.givesUp(distinct: unique.count, bytes: unique.count * width, of: a.count, limit: limit) { return false }
                            let expected = DictionarySample.expectedDistinct(unique.count, inFirst: DictionarySample.size, of: a.count)
                            let wanted = DictionarySample.capacity(for: min(expected, limit / width + 1), loadNumerator: 1, loadDenominator: 2)
                            if wanted > capacity { (keys, slots, capacity) = Self.numericTables(unique, key: key, capacity: wanted) }
                        }
                        let k = key(a[i])
                        var slot = Self.numericHome(k, capacity: capacity)
                        while slots[slot] != .max, keys[slot] != k { slot = (slot + 1) & (capacity - 1) }
                        if slots[slot] != .max {
                            out[i] = slots[slot]
                            continue
                        }
                        let index = UInt32(unique.count)
                        keys[slot] = k
                        slots[slot] = index
                        unique.append(a[i])
                        out[i] = index
                        if unique.count * width > limit { return false }
                        if unique.count * 2 > capacity { (keys, slots, capacity) = Self.numericTables(unique, key: key, capacity: capacity * 2) }
                    }
                    return true
                }
            }
            guard ok else { return nil }
            return DictionaryEncoding(page: unique.withUnsafeBytes { Array($0) }, count: unique.count, indices: indices, firsts: nil)
        }
        switch values {
        case .boolean: return nil
        case .int32(let a): return numeric(a) { UInt64(UInt32(bitPattern: $0)) }
        case .int64(let a): return numeric(a) { UInt64(bitPattern: $0) }
        case .float(let a): return numeric(a) { UInt64($0.bitPattern) }
        case .double(let a): return numeric(a) { $0.bitPattern }
        case .bytes(let bytes, let offsets):
            return ByteArrayDictionary.build(bytes: bytes, offsets: offsets, fixed: column.type.fixedLength != nil, limit: limit)
        }
    }

    /// A zero bound written -0.0 as a minimum and +0.0 as a maximum (parquet-format's rule), so that it holds
    /// whichever zeros the column has: -0.0 == +0.0 in the comparisons that found the bounds, but Iceberg
    /// orders -0.0 first, and a reader that prunes by that order must not skip a file whose bounds name the
    /// other zero.
    @inline(__always)
    private static func signZeroBounds<F: BinaryFloatingPoint>(_ lo: inout F, _ hi: inout F) {
        if lo == 0 { lo = -0.0 }
        if hi == 0 { hi = 0.0 }
    }

    /// The slot a numeric dictionary key's probe starts at, in tables of `capacity` (a power of two) slots.
    @inline(__always)
    private static func numericHome(_ key: UInt64, capacity: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & (capacity - 1)
    }

    /// The tables of ``buildDictionary(_:)``'s numeric case with `capacity` slots, holding the entries
    /// `unique` (a function of its own rather than one nested in the loop: a nested one captures the tables,
    /// and every access to them in the loop would be checked for exclusivity at run time).
    private static func numericTables<T>(_ unique: [T], key: (T) -> UInt64, capacity: Int) -> (keys: [UInt64], slots: [UInt32], capacity: Int) {
        var keys = [UInt64](repeating: 0, count: capacity)
        var slots = [UInt32](repeating: .max, count: capacity)
        for (u, value) in unique.enumerated() {
            let uk = key(value)
            var t = numericHome(uk, capacity: capacity)
            while slots[t] != .max { t = (t + 1) & (capacity - 1) }
            keys[t] = uk
            slots[t] = UInt32(u)
        }
        return (keys, slots, capacity)
    }

    // MARK: Statistics

    /// Min, max and NaN count of the values; for byte strings only the values at `candidates` (each distinct
    /// value's first occurrence, from the dictionary) are compared, when given.
    private func computeStatistics(_ data: ColumnData, candidates: [Int32]?, into chunk: inout EncodedChunk) {
        func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        switch data.values {
        case .boolean(let a):
            guard !a.isEmpty else { return }
            chunk.minPlain = [a.contains(false) ? 0 : 1]
            chunk.maxPlain = [a.contains(true) ? 1 : 0]
        case .int32(let a):
            guard let lo = a.min(), let hi = a.max() else { return }
            chunk.minPlain = le(lo)
            chunk.maxPlain = le(hi)
        case .int64(let a):
            var lo = Int64.max, hi = Int64.min
            a.withUnsafeBufferPointer { p in
                for v in p {
                    lo = min(lo, v)
                    hi = max(hi, v)
                }
            }
            guard !a.isEmpty else { return }
            chunk.minPlain = le(lo)
            chunk.maxPlain = le(hi)
        case .float(let a):
            var lo = Float.infinity, hi = -Float.infinity, nans = 0
            for v in a { if v.isNaN { nans += 1 } else { lo = min(lo, v); hi = max(hi, v) } }
            chunk.nanCount = nans
            guard nans < a.count else { return }
            Self.signZeroBounds(&lo, &hi)
            chunk.minPlain = le(lo.bitPattern)
            chunk.maxPlain = le(hi.bitPattern)
        case .double(let a):
            var lo = Double.infinity, hi = -Double.infinity, nans = 0
            a.withUnsafeBufferPointer { p in
                // Without branches; a NaN compares false, so it is never a bound.
                for v in p {
                    nans &+= v.isNaN ? 1 : 0
                    lo = v < lo ? v : lo
                    hi = v > hi ? v : hi
                }
            }
            chunk.nanCount = nans
            guard nans < a.count else { return }
            Self.signZeroBounds(&lo, &hi)
            chunk.minPlain = le(lo.bitPattern)
            chunk.maxPlain = le(hi.bitPattern)
        case .bytes(let bytes, let offsets):
            guard offsets.count > 1 else { return }
            let signed: Bool
            if case .decimal = column.type { signed = true } else { signed = false }
            var lo = 0, hi = 0
            bytes.withUnsafeBufferPointer { data in
                offsets.withUnsafeBufferPointer { o in
                    func slice(_ i: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: data[Int(o[i])..<Int(o[i + 1])]) }
                    func consider(_ i: Int) {
                        let v = slice(i)
                        if ByteOrder.compare(v, slice(lo), signed: signed) < 0 { lo = i }
                        if ByteOrder.compare(v, slice(hi), signed: signed) > 0 { hi = i }
                    }
                    if let candidates {
                        for i in candidates { consider(Int(i)) }
                    } else {
                        for i in 1..<(o.count - 1) { consider(i) }
                    }
                }
            }
            chunk.minPlain = Array(bytes[Int(offsets[lo])..<Int(offsets[lo + 1])])
            chunk.maxPlain = Array(bytes[Int(offsets[hi])..<Int(offsets[hi + 1])])
        }
    }
}

/// Orders of byte strings: unsigned lexicographic (strings, binary, uuid) or as big-endian two's
/// complement numbers of equal length (fixed decimals).
enum ByteOrder {
    static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, signed: Bool) -> Int {
        if signed, let fa = a.first, let fb = b.first {
            let na = fa & 0x80 != 0, nb = fb & 0x80 != 0
            if na != nb { return na ? -1 : 1 }
        }
        let n = min(a.count, b.count)
        if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
            let c = memcmp(pa, pb, n)
            if c != 0 { return c < 0 ? -1 : 1 }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}
