import Foundation

@testable import Parquet

/// A table with every flat Iceberg type, nulls in the optional columns, and the values pyarrow should read.
enum ParquetSamples {
    static let schema = ParquetSchema(columns: [
        ParquetColumn(name: "b", fieldID: 1, type: .boolean),
        ParquetColumn(name: "i", fieldID: 2, type: .int, isRequired: true),
        ParquetColumn(name: "l", fieldID: 3, type: .long),
        ParquetColumn(name: "f", fieldID: 4, type: .float),
        ParquetColumn(name: "d", fieldID: 5, type: .double),
        ParquetColumn(name: "dec9", fieldID: 6, type: .decimal(precision: 9, scale: 2)),
        ParquetColumn(name: "dec18", fieldID: 7, type: .decimal(precision: 18, scale: 3)),
        ParquetColumn(name: "dec38", fieldID: 8, type: .decimal(precision: 38, scale: 4)),
        ParquetColumn(name: "date", fieldID: 9, type: .date),
        ParquetColumn(name: "time", fieldID: 10, type: .time),
        ParquetColumn(name: "ts", fieldID: 11, type: .timestamp(adjustedToUTC: false)),
        ParquetColumn(name: "tstz", fieldID: 12, type: .timestamp(adjustedToUTC: true)),
        ParquetColumn(name: "s", fieldID: 13, type: .string),
        ParquetColumn(name: "u", fieldID: 14, type: .uuid),
        ParquetColumn(name: "fx", fieldID: 15, type: .fixed(3)),
        ParquetColumn(name: "bin", fieldID: 16, type: .binary),
    ])

    /// Whether row `r` of optional column `c` is null.
    static func isNull(_ r: Int, _ c: Int) -> Bool { schema.columns[c].isRequired ? false : (r * 7 + c) % 5 == 0 }

    static func columns(rows: Int) -> [ColumnData] { columns(range: 0..<rows) }

    /// The columns for rows `range` (so a table can be written in several batches).
    static func columns(range: Range<Int>) -> [ColumnData] {
        var result: [ColumnData] = []
        for (c, column) in schema.columns.enumerated() {
            let valid = range.map { !isNull($0, c) }
            let present = range.filter { !isNull($0, c) }
            let validity = valid.allSatisfy { $0 } ? nil : valid
            func bytes(_ make: (Int) -> [UInt8]) -> ColumnData.Values {
                var data: [UInt8] = [], offsets: [Int32] = [0]
                for r in present { data += make(r); offsets.append(Int32(data.count)) }
                return .bytes(bytes: data, offsets: offsets)
            }
            let values: ColumnData.Values
            switch column.name {
            case "b": values = .boolean(present.map { $0 % 3 == 0 })
            case "i": values = .int32(present.map { Int32($0 % 100) - 50 })
            case "l": values = .int64(present.map { Int64($0) * 1_000_003 - 77 })
            case "f": values = .float(present.map { $0 == 3 ? .nan : Float($0) / 8 })
            case "d": values = .double(present.map { $0 == 4 ? .nan : Double($0 % 17) * -1.25 })
            case "dec9": values = .int32(present.map { Int32($0 % 1000) * 7 - 999 })
            case "dec18": values = .int64(present.map { Int64($0) * 123_456_789 - 5 })
            case "dec38": values = bytes { r in decimal16(Int64(r) * 1_000_000_007 - 12_345) }
            case "date": values = .int32(present.map { 20_000 + Int32($0 % 400) })
            case "time": values = .int64(present.map { Int64($0 % 86_400) * 1_000_000 })
            case "ts", "tstz": values = .int64(present.map { 1_764_000_000_000_000 + Int64($0) * 1_000_001 })
            case "s": values = bytes { r in Array("value-\(r % 37)-\(r % 3 == 0 ? "ü✓" : "x")".utf8) }
            case "u": values = bytes { r in (0..<16).map { UInt8(truncatingIfNeeded: r &* 31 &+ $0) } }
            case "fx": values = bytes { r in [UInt8(r % 256), 0xab, 0xcd] }
            default: values = bytes { r in (0..<(r % 6)).map { UInt8($0 * 40) } }
            }
            result.append(ColumnData(values: values, validity: validity))
        }
        return result
    }

    static func decimal16(_ v: Int64) -> [UInt8] {
        let wide = Int128(v)
        return withUnsafeBytes(of: wide.bigEndian) { Array($0) }
    }

    /// Python that rebuilds the same values (as pyarrow returns them) for comparison.
    static let pythonExpected = #"""
    import datetime, decimal, math, uuid
    def is_null(r, c, required):
        return False if required else (r * 7 + c) % 5 == 0
    def expected(name, r):
        if name == "b": return r % 3 == 0
        if name == "i": return r % 100 - 50
        if name == "l": return r * 1000003 - 77
        if name == "f": return float("nan") if r == 3 else r / 8
        if name == "d": return float("nan") if r == 4 else (r % 17) * -1.25
        if name == "dec9": return decimal.Decimal((r % 1000) * 7 - 999).scaleb(-2)
        if name == "dec18": return decimal.Decimal(r * 123456789 - 5).scaleb(-3)
        if name == "dec38": return decimal.Decimal(r * 1000000007 - 12345).scaleb(-4)
        if name == "date": return datetime.date(1970, 1, 1) + datetime.timedelta(days=20000 + r % 400)
        if name == "time": return (datetime.datetime(2000, 1, 1) + datetime.timedelta(seconds=r % 86400)).time()
        if name in ("ts", "tstz"):
            base = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=1764000000000000 + r * 1000001)
            return base.replace(tzinfo=datetime.timezone.utc) if name == "tstz" else base
        if name == "s": return "value-%d-%s" % (r % 37, "ü✓" if r % 3 == 0 else "x")
        if name == "u": return bytes([(r * 31 + j) % 256 for j in range(16)])
        if name == "fx": return bytes([r % 256, 0xab, 0xcd])
        return bytes([j * 40 for j in range(r % 6)])
    def same(a, b):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b): return True
        if isinstance(a, uuid.UUID): a = a.bytes
        return a == b
    """#
}
