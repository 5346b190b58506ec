import Foundation
import Testing
import TestSupport

@testable import Parquet

extension ParquetCompression: CustomTestStringConvertible {
    public var testDescription: String { name }
}

@Suite struct ParquetInteropTests {
    static let rows = 5_000

    static func write(codec: ParquetCompression, rows: Int, options: (inout ParquetWriterOptions) -> Void = { _ in }) throws -> ([UInt8], ParquetFileMetrics) {
        var settings = ParquetWriterOptions()
        settings.compression = codec
        options(&settings)
        let writer = ParquetFileWriter(schema: ParquetSamples.schema, options: settings, output: MemoryParquetOutput())
        // Batches of 1,000 rows, so buffering and row group rolling are exercised.
        for start in stride(from: 0, to: rows, by: 1_000) {
            try writer.write(ParquetSamples.columns(range: start..<min(rows, start + 1_000)))
        }
        let metrics = try writer.close()
        return (writer.output.bytes, metrics)
    }

    /// pyarrow reads every value and the field ids of files we write, for every codec.
    @Test(arguments: ParquetCompression.allCases) func pyarrowReadsOurFiles(_ codec: ParquetCompression) async throws {
        let (bytes, metrics) = try Self.write(codec: codec, rows: Self.rows) { $0.pageRowLimit = 1_500; $0.rowGroupSizeBytes = 200_000 }
        #expect(metrics.recordCount == Int64(Self.rows))
        #expect(metrics.fileSize == Int64(bytes.count))
        #expect(metrics.splitOffsets.count > 1, "several row groups expected")
        let dir = try TestEnvironment.temporaryDirectory("parquet")
        defer { TestEnvironment.cleanUp(dir) }
        let path = dir.appendingPathComponent("ours.parquet")
        try Data(bytes).write(to: path)
        let output = try await PythonTool.run(ParquetSamples.pythonExpected + "\n" + #"""
        import sys, json, pyarrow.parquet as pq
        f = pq.ParquetFile(sys.argv[1])
        table = f.read()
        rows = table.num_rows
        ids = {field.name: int(field.metadata[b"PARQUET:field_id"]) for field in table.schema}
        required = {field.name: not field.nullable for field in table.schema}
        bad = []
        for c, name in enumerate(table.column_names):
            values = table.column(name).to_pylist()
            for r in range(rows):
                want = None if is_null(r, c, required[name]) else expected(name, r)
                if not (want is None and values[r] is None) and not same(values[r], want):
                    bad.append((name, r, repr(values[r]), repr(want)))
                    break
        md = f.metadata
        stats = md.row_group(0).column(1).statistics
        print(json.dumps({"rows": rows, "ids": ids, "bad": bad[:5], "types": [str(t) for t in table.schema.types],
                          "row_groups": md.num_row_groups, "codec": md.row_group(0).column(0).compression,
                          "i_min": stats.min, "i_max": stats.max, "i_nulls": stats.null_count}))
        """#, arguments: [path.path])
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(result["rows"] as? Int == Self.rows)
        #expect((result["bad"] as? [Any])?.isEmpty == true, "\(output)")
        let ids = result["ids"] as? [String: Int] ?? [:]
        for column in ParquetSamples.schema.columns {
            #expect(ids[column.name] == column.fieldID, "field id of \(column.name)")
        }
        let types = result["types"] as? [String] ?? []
        #expect(Array(types.prefix(13)) == [
            "bool", "int32", "int64", "float", "double", "decimal128(9, 2)", "decimal128(18, 3)", "decimal128(38, 4)",
            "date32[day]", "time64[us]", "timestamp[us]", "timestamp[us, tz=UTC]", "string",
        ], "\(types)")
        #expect(result["codec"] as? String == ["UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD"][ParquetCompression.allCases.firstIndex(of: codec)!])
        #expect(result["i_min"] as? Int == -50)
        #expect(result["i_max"] as? Int == 49)
        #expect(result["i_nulls"] as? Int == 0)
    }

    /// The metrics Iceberg needs, checked against the data.
    @Test func icebergMetrics() throws {
        let (_, m) = try Self.write(codec: .zstd, rows: 1_000)
        let rows = 1_000
        for (c, column) in ParquetSamples.schema.columns.enumerated() {
            let nulls = (0..<rows).filter { ParquetSamples.isNull($0, c) }.count
            #expect(m.valueCounts[column.fieldID] == Int64(rows), "\(column.name)")
            #expect(m.nullValueCounts[column.fieldID] == Int64(nulls), "\(column.name)")
            #expect((m.columnSizes[column.fieldID] ?? 0) > 0)
        }
        // NaN counted, not used as a bound.
        #expect(m.nanValueCounts[4] == 1)
        #expect(m.nanValueCounts[5] == (ParquetSamples.isNull(4, 4) ? 0 : 1))
        #expect(m.nanValueCounts[3] == nil)
        func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        #expect(m.lowerBounds[2] == le(Int32(-50)))
        #expect(m.upperBounds[2] == le(Int32(49)))
        #expect(m.lowerBounds[5] == le((-20.0).bitPattern))
        // Decimal bounds are minimal big-endian unscaled values (-992 is 0xfc20: row 0, -999, is null).
        let decimals = (0..<rows).filter { !ParquetSamples.isNull($0, 5) }.map { Int32($0 % 1000) * 7 - 999 }
        #expect(decimals.min() == -992)
        #expect(m.lowerBounds[6] == [0xfc, 0x20])
        #expect(decimals.max() == 5_994)
        #expect(m.upperBounds[6] == [0x17, 0x6a])
        // Strings compare by UTF-8 bytes, so "x" sorts before "ü"; all are under 16 characters: exact bounds.
        #expect(m.lowerBounds[13] == Array("value-0-x".utf8))
        #expect(m.upperBounds[13] == Array("value-9-ü✓".utf8))
    }

    @Test func longStringBoundsAreTruncatedLikeJavaIceberg() throws {
        let schema = ParquetSchema(columns: [ParquetColumn(name: "s", fieldID: 1, type: .string)])
        let writer = ParquetFileWriter(schema: schema, output: MemoryParquetOutput())
        var column = ColumnData.byteArrays()
        column.append(string: "aaaaaaaaaaaaaaaaaaaa-long")  // 25 characters
        column.append(string: "zzzzzzzzzzzzzzzzzzzz-long")
        try writer.write([column])
        let m = try writer.close()
        #expect(m.lowerBounds[1] == Array("aaaaaaaaaaaaaaaa".utf8))
        #expect(m.upperBounds[1] == Array("zzzzzzzzzzzzzzz{".utf8))  // last character incremented
    }
}
