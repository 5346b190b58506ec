/// What Iceberg's `data_file` needs about a written Parquet file, keyed by field id; bounds are in
/// Iceberg's single-value binary form (Iceberg spec Appendix D), strings and binary truncated.
package struct ParquetFileMetrics: Sendable, Equatable {
    package var recordCount: Int64 = 0
    package var fileSize: Int64 = 0
    package var columnSizes: [Int: Int64] = [:]
    package var valueCounts: [Int: Int64] = [:]
    package var nullValueCounts: [Int: Int64] = [:]
    package var nanValueCounts: [Int: Int64] = [:]
    package var lowerBounds: [Int: [UInt8]] = [:]
    package var upperBounds: [Int: [UInt8]] = [:]
    /// Start offsets of the row groups.
    package var splitOffsets: [Int64] = []
}

/// Turns Parquet statistics (PLAIN form) into Iceberg bounds.
enum IcebergBounds {
    /// Orders two PLAIN-encoded statistics values of `type`.
    static func compare(_ a: [UInt8], _ b: [UInt8], type: ParquetValueType) -> Int {
        func le<T: FixedWidthInteger>(_ bytes: [UInt8], _: T.Type) -> T {
            var v: T = 0
            for (i, byte) in bytes.prefix(MemoryLayout<T>.size).enumerated() { v |= T(truncatingIfNeeded: byte) << (8 * i) }
            return v
        }
        func order<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x == y ? 0 : 1) }
        switch type.physical {
        case .boolean: return order(a.first ?? 0, b.first ?? 0)
        case .int32: return order(le(a, Int32.self), le(b, Int32.self))
        case .int64: return order(le(a, Int64.self), le(b, Int64.self))
        case .float: return order(Float(bitPattern: le(a, UInt32.self)), Float(bitPattern: le(b, UInt32.self)))
        case .double: return order(Double(bitPattern: le(a, UInt64.self)), Double(bitPattern: le(b, UInt64.self)))
        default:
            let signed: Bool
            if case .decimal = type { signed = true } else { signed = false }
            return a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in ByteOrder.compare(pa, pb, signed: signed) } }
        }
    }

    /// The Iceberg lower (or upper) bound for a PLAIN statistics value; nil when no upper bound exists
    /// after truncation.
    static func iceberg(_ plain: [UInt8], type: ParquetValueType, isUpper: Bool, truncate: Int) -> [UInt8]? {
        switch type {
        case .decimal:
            // Unscaled value as minimal big-endian two's complement.
            var bigEndian: [UInt8]
            switch type.physical {
            case .int32, .int64: bigEndian = plain.reversed()
            default: bigEndian = plain
            }
            while bigEndian.count > 1,
                (bigEndian[0] == 0 && bigEndian[1] & 0x80 == 0) || (bigEndian[0] == 0xff && bigEndian[1] & 0x80 != 0)
            {
                bigEndian.removeFirst()
            }
            return bigEndian
        case .string:
            let text = String(decoding: plain, as: UTF8.self)
            let scalars = Array(text.unicodeScalars)
            guard scalars.count > truncate else { return plain }
            var prefix = Array(scalars.prefix(truncate))
            if !isUpper { return Array(String(String.UnicodeScalarView(prefix)).utf8) }
            // Increment the last code point that can be incremented; drop the ones after it.
            while let last = prefix.popLast() {
                var next = last.value + 1
                if next == 0xD800 { next = 0xE000 }
                if let scalar = Unicode.Scalar(next) {
                    prefix.append(scalar)
                    return Array(String(String.UnicodeScalarView(prefix)).utf8)
                }
            }
            return nil
        case .binary:
            guard plain.count > truncate else { return plain }
            var prefix = Array(plain.prefix(truncate))
            if !isUpper { return prefix }
            while let last = prefix.popLast() {
                if last < 0xff {
                    prefix.append(last + 1)
                    return prefix
                }
            }
            return nil
        default:
            return plain
        }
    }
}
