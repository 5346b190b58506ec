import Foundation
import Testing
import TestSupport

@testable import Parquet

/// Nested columns (struct, 3-level list, map, list of structs) with definition and repetition levels.
@Suite struct ParquetNestedTests {
    static func column(_ name: String, _ id: Int, _ type: ParquetValueType, required: Bool = false) -> ParquetNode {
        .primitive(ParquetColumn(name: name, fieldID: id, type: type, isRequired: required))
    }

    static let schema = ParquetSchema(nodes: [
        column("id", 1, .long, required: true),
        .group(name: "device", fieldID: 2, isRequired: false, children: [column("os", 3, .string), column("version", 4, .int, required: true)]),
        .list(name: "tags", fieldID: 5, isRequired: false, element: column("element", 6, .string)),
        .map(name: "attrs", fieldID: 7, isRequired: false, key: column("key", 8, .string, required: true), value: column("value", 9, .double)),
        .list(name: "points", fieldID: 10, isRequired: true, element: .group(name: "element", fieldID: 11, isRequired: true, children: [
            column("x", 12, .long, required: true), column("y", 13, .long),
        ])),
    ])

    static func strings(_ values: [String]) -> ColumnData.Values {
        var bytes: [UInt8] = [], offsets: [Int32] = [0]
        for v in values { bytes += Array(v.utf8); offsets.append(Int32(bytes.count)) }
        return .bytes(bytes: bytes, offsets: offsets)
    }

    /// Four rows, levels worked out by hand (see the Python side for the same rows as values).
    static let columns: [ColumnData] = [
        ColumnData(values: .int64([1, 2, 3, 4])),
        ColumnData(values: Self.strings(["linux", "mac"]), levels: .init(definition: [2, 0, 1, 2])),
        ColumnData(values: .int32([3, 4, 1]), validity: [true, false, true, true]),
        ColumnData(values: Self.strings(["a", "b", "c", "d"]), levels: .init(definition: [3, 2, 0, 1, 3, 3, 3], repetition: [0, 1, 0, 0, 0, 1, 1])),
        ColumnData(values: Self.strings(["k", "a", "b"]), levels: .init(definition: [2, 1, 0, 2, 2], repetition: [0, 0, 0, 0, 1])),
        ColumnData(values: .double([1.5, 2.0]), levels: .init(definition: [3, 1, 0, 2, 3], repetition: [0, 0, 0, 0, 1])),
        ColumnData(values: .int64([1, 5, 6, 9]), levels: .init(definition: [1, 0, 1, 1, 1], repetition: [0, 0, 0, 1, 0])),
        ColumnData(values: .int64([2, 7, 9]), levels: .init(definition: [2, 0, 1, 2, 2], repetition: [0, 0, 0, 1, 0])),
    ]

    static let pythonRows = #"""
    expected = [
        {"id": 1, "device": {"os": "linux", "version": 3}, "tags": ["a", None], "attrs": [("k", 1.5)], "points": [{"x": 1, "y": 2}]},
        {"id": 2, "device": None, "tags": None, "attrs": [], "points": []},
        {"id": 3, "device": {"os": None, "version": 4}, "tags": [], "attrs": None, "points": [{"x": 5, "y": None}, {"x": 6, "y": 7}]},
        {"id": 4, "device": {"os": "mac", "version": 1}, "tags": ["b", "c", "d"], "attrs": [("a", None), ("b", 2.0)], "points": [{"x": 9, "y": 9}]},
    ]
    """#

    @Test(arguments: ParquetCompression.allCases) func pyarrowReadsNestedColumns(_ codec: ParquetCompression) async throws {
        var options = ParquetWriterOptions()
        options.compression = codec
        let writer = ParquetFileWriter(schema: Self.schema, options: options, output: MemoryParquetOutput())
        try writer.write(Self.columns)
        let metrics = try writer.close()
        #expect(metrics.recordCount == 4)
        #expect(metrics.valueCounts[6] == 7)  // tags.element slots
        #expect(metrics.nullValueCounts[6] == 3)
        #expect(metrics.lowerBounds[6] == nil)  // no bounds inside lists, as Java Iceberg
        #expect(metrics.lowerBounds[3] == Array("linux".utf8))
        let dir = try TestEnvironment.temporaryDirectory("nested")
        defer { TestEnvironment.cleanUp(dir) }
        let path = dir.appendingPathComponent("nested.parquet")
        try Data(writer.output.bytes).write(to: path)
        let output = try await PythonTool.run(Self.pythonRows + "\n" + #"""
        import sys, json, pyarrow.parquet as pq
        t = pq.read_table(sys.argv[1])
        rows = t.to_pylist()
        for i, (got, want) in enumerate(zip(rows, expected)):
            assert got == want, (i, got, want)
        def ids(field, out):
            out[field.name] = int(field.metadata[b"PARQUET:field_id"]) if field.metadata else None
            t = field.type
            if hasattr(t, "value_field"): ids(t.value_field, out)  # list
            if hasattr(t, "key_field"): ids(t.key_field, out); ids(t.item_field, out)
            if hasattr(t, "num_fields") and not hasattr(t, "value_field") and not hasattr(t, "key_field"):
                for k in range(t.num_fields): ids(t.field(k), out)
        found = {}
        for f in t.schema: ids(f, found)
        print(len(rows), json.dumps(found, sort_keys=True))
        """#, arguments: [path.path])
        #expect(output.hasPrefix("4 "), "\(output)")
        #expect(output.contains("\"device\": 2") && output.contains("\"os\": 3") && output.contains("\"tags\": 5"), "\(output)")
        #expect(output.contains("\"attrs\": 7") && output.contains("\"key\": 8") && output.contains("\"value\": 9"), "\(output)")
        #expect(output.contains("\"points\": 10") && output.contains("\"x\": 12") && output.contains("\"y\": 13"), "\(output)")
    }

    /// Our reader gives back the levels and values we wrote, and the same for pyarrow's file of the same rows.
    @Test func nestedFilesReadBackToTheSameLevels() async throws {
        let writer = ParquetFileWriter(schema: Self.schema, output: MemoryParquetOutput())
        try writer.write(Self.columns)
        let written = try writer.close()
        let dir = try TestEnvironment.temporaryDirectory("nested-read")
        defer { TestEnvironment.cleanUp(dir) }
        let theirs = dir.appendingPathComponent("pyarrow.parquet")
        try await PythonTool.run(Self.pythonRows + "\n" + #"""
        import sys, pyarrow as pa, pyarrow.parquet as pq
        def f(name, typ, fid, nullable=True):
            return pa.field(name, typ, nullable=nullable, metadata={"PARQUET:field_id": str(fid)})
        schema = pa.schema([
            f("id", pa.int64(), 1, False),
            f("device", pa.struct([f("os", pa.string(), 3), f("version", pa.int32(), 4, False)]), 2),
            f("tags", pa.list_(f("element", pa.string(), 6)), 5),
            f("attrs", pa.map_(f("key", pa.string(), 8, False), f("value", pa.float64(), 9)), 7),
            f("points", pa.list_(f("element", pa.struct([f("x", pa.int64(), 12, False), f("y", pa.int64(), 13)]), 11, False)), 10, False),
        ])
        pq.write_table(pa.Table.from_pylist(expected, schema=schema), sys.argv[1], data_page_version=sys.argv[2])
        """#, arguments: [theirs.path, "1.0"])
        let files: [(String, [UInt8])] = [("ours", writer.output.bytes), ("pyarrow", try [UInt8](Data(contentsOf: theirs)))]
        for (name, bytes) in files {
            let file = try ParquetFileReader(bytes: bytes, source: name)
            #expect(file.metadata.columns.map(\.fieldID) == [1, 3, 4, 6, 8, 9, 12, 13], "\(name)")
            #expect(file.metadata.columns.map { $0.path.joined(separator: ".") } == [
                "id", "device.os", "device.version", "tags.list.element", "attrs.key_value.key", "attrs.key_value.value",
                "points.list.element.x", "points.list.element.y",
            ], "\(name)")
            #expect(file.metadata.columns.map(\.maxDefinitionLevel) == [0, 2, 1, 3, 2, 3, 1, 2], "\(name)")
            #expect(file.metadata.columns.map(\.maxRepetitionLevel) == [0, 0, 0, 1, 1, 1, 1, 1], "\(name)")
            for (c, expected) in Self.columns.enumerated() {
                let read = try file.readColumn(c, rowGroup: 0)
                #expect(sameValues(read.values, expected.values), "\(name) column \(c)")
                #expect(read.levels == expected.levels, "\(name) column \(c) levels")
                #expect(read.validity == expected.validity, "\(name) column \(c) nulls")
            }
        }
        let ours = try ParquetFileReader(bytes: writer.output.bytes, source: "ours")
        #expect(try ours.metrics() == written)
    }

    @Test func levelsThatDoNotFitTheNestingAreRefused() throws {
        let writer = ParquetFileWriter(schema: Self.schema, output: MemoryParquetOutput())
        var bad = Self.columns
        bad[3] = ColumnData(values: Self.strings(["a"]), levels: .init(definition: [3, 4], repetition: [0, 1]))
        let error = #expect(throws: ParquetError.self) { try writer.write(bad) }
        #expect(error?.message.contains("tags.list.element") == true, "\(error?.message ?? "")")
        var missing = Self.columns
        missing[1] = ColumnData(values: Self.strings(["linux", "mac"]), validity: [true, false, false, true])
        #expect(throws: ParquetError.self) { try writer.write(missing) }
    }
}
