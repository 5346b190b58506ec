import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import Avro

/// Container files checked against fastavro both ways, for every type and every codec.
@Suite struct AvroInteropTests {
    /// A record with every Avro type, Iceberg-style field ids and logical types.
    static let schema = AvroSchema.record(AvroRecord(name: "everything", namespace: "test", fields: [
        AvroField(name: "n", type: .null),
        AvroField(name: "b", type: .boolean, properties: ["field-id": .int(1)]),
        AvroField(name: "i", type: .int, properties: ["field-id": .int(2)]),
        AvroField(name: "l", type: .long, properties: ["field-id": .int(3)]),
        AvroField(name: "f", type: .float),
        AvroField(name: "d", type: .double),
        AvroField(name: "by", type: .bytes),
        AvroField(name: "s", type: .string),
        AvroField(name: "e", type: .enumeration(name: "color", symbols: ["RED", "GREEN"])),
        AvroField(name: "fx", type: .fixed(name: "f4", size: 4, properties: [:])),
        AvroField(name: "arr", type: .array(items: .long, properties: ["element-id": .int(9)])),
        AvroField(name: "m", type: .map(values: .optional(.string), properties: [:])),
        AvroField(name: "opt", type: .optional(.long), defaultJSON: "null", properties: ["field-id": .int(4)]),
        AvroField(name: "date", type: .annotated(.int, properties: ["logicalType": .string("date")])),
        AvroField(name: "ts", type: .annotated(.long, properties: ["logicalType": .string("timestamp-micros"), "adjust-to-utc": .bool(true)])),
        AvroField(name: "nested", type: .optional(.record(AvroRecord(name: "inner", namespace: "test", fields: [
            AvroField(name: "x", type: .string, properties: ["field-id": .int(7)]),
        ])))),
    ]))

    static func row(_ i: Int) -> AvroValue {
        .record([
            .null, .boolean(i % 2 == 0), .int(Int32(i) - 50), .long(Int64(i) * 1_000_000_007 - (1 << 40)), .float(Float(i) / 4),
            .double(Double(i) * -0.125), .bytes((0..<(i % 5)).map { UInt8($0 * 50) }), .string("héllo-\(i)-✓"), .enumSymbol(i % 2),
            .fixed([UInt8(i % 256), 1, 2, 3]), .array((0..<(i % 4)).map { .long(Int64($0 - 1)) }),
            .map(i % 3 == 0 ? [] : [("k\(i)", .string("v")), ("z", .null)]), i % 2 == 0 ? .null : .long(Int64(i)),
            .int(Int32(19_000 + i)), .long(1_764_000_000_000_000 + Int64(i)),
            i % 3 == 0 ? .null : .record([.string("inner-\(i)")]),
        ])
    }

    /// What fastavro should read back, as JSON-friendly Python values.
    static let pythonExpected = #"""
    def expected(i):
        return {"n": None, "b": i % 2 == 0, "i": i - 50, "l": i * 1000000007 - (1 << 40), "f": i / 4, "d": i * -0.125,
                "by": bytes([j * 50 for j in range(i % 5)]), "s": "héllo-%d-✓" % i, "e": ["RED", "GREEN"][i % 2],
                "fx": bytes([i % 256, 1, 2, 3]), "arr": [j - 1 for j in range(i % 4)],
                "m": {} if i % 3 == 0 else {"k%d" % i: "v", "z": None}, "opt": None if i % 2 == 0 else i,
                "date": 19000 + i, "ts": 1764000000000000 + i, "nested": None if i % 3 == 0 else {"x": "inner-%d" % i}}
    def normalise(r):
        import datetime
        r = dict(r)
        if isinstance(r["date"], datetime.date): r["date"] = (r["date"] - datetime.date(1970, 1, 1)).days
        if isinstance(r["ts"], datetime.datetime):
            d = r["ts"] - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
            r["ts"] = (d.days * 86400 + d.seconds) * 1000000 + d.microseconds
        return r
    """#

    static let count = 300

    @Test(arguments: AvroCodec.allCases) func ourFilesReadByFastavro(_ codec: AvroCodec) async throws {
        var writer = try AvroContainerWriter(schema: Self.schema, codec: codec, metadata: ["iceberg.schema": Array("{}".utf8)], blockSize: 2_000)
        for i in 0..<Self.count { try writer.append(Self.row(i)) }
        let bytes = try writer.finish()
        let dir = try TestEnvironment.temporaryDirectory("avro")
        defer { TestEnvironment.cleanUp(dir) }
        let path = dir.appendingPathComponent("ours.avro")
        try Data(bytes).write(to: path)
        let output = try await PythonTool.run(Self.pythonExpected + "\n" + #"""
        import sys, fastavro, json
        with open(sys.argv[1], "rb") as f:
            reader = fastavro.reader(f)
            assert reader.codec == sys.argv[2], reader.codec
            assert reader.metadata["iceberg.schema"] == "{}"
            fields = {f["name"]: f for f in reader.writer_schema["fields"]}
            assert fields["i"]["field-id"] == 2 and fields["opt"]["field-id"] == 4, fields["i"]
            assert reader.writer_schema["fields"][13]["type"]["logicalType"] == "date"
            rows = [normalise(r) for r in reader]
        assert len(rows) == int(sys.argv[3]), len(rows)
        for i, r in enumerate(rows):
            assert r == expected(i), (i, r, expected(i))
        print("ok", len(rows))
        """#, arguments: [path.path, codec.rawValue, String(Self.count)])
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "ok \(Self.count)")
    }

    @Test(arguments: AvroCodec.allCases) func fastavroFilesReadByUs(_ codec: AvroCodec) async throws {
        let dir = try TestEnvironment.temporaryDirectory("avro")
        defer { TestEnvironment.cleanUp(dir) }
        let path = dir.appendingPathComponent("theirs.avro")
        try await PythonTool.run(Self.pythonExpected + "\n" + #"""
        import sys, fastavro, json
        schema = fastavro.parse_schema(json.loads(sys.argv[3]))
        rows = [expected(i) for i in range(int(sys.argv[4]))]
        with open(sys.argv[1], "wb") as f:
            fastavro.writer(f, schema, rows, codec=sys.argv[2], sync_interval=1500, metadata={"k": "v"})
        """#, arguments: [path.path, codec.rawValue, Self.schema.jsonText, String(Self.count)])
        let reader = try AvroContainerReader([UInt8](Data(contentsOf: path)), source: path.lastPathComponent)
        #expect(reader.codec == codec)
        #expect(reader.metadataString("k") == "v")
        let records = try reader.records()
        #expect(records.count == Self.count)
        for (i, record) in records.enumerated() where record != Self.row(i) {
            Issue.record("row \(i) differs: \(record) vs \(Self.row(i))")
            break
        }
        // The writer schema kept Iceberg's properties.
        guard case .record(let record) = reader.schema else { Issue.record("not a record"); return }
        #expect(record.fields[2].fieldID == 2)
        #expect(record.fields[12].fieldID == 4)
    }

    @Test func schemaJSONRoundTrip() throws {
        let parsed = try AvroSchema(parsing: Self.schema.jsonText)
        #expect(parsed == Self.schema)
        #expect(throws: AvroError.self) { try AvroSchema(parsing: "{\"type\": \"record\"}") }
        #expect(throws: AvroError.self) { try AvroSchema(parsing: "\"nope\"") }
        #expect(throws: AvroError.self) { try AvroSchema(parsing: "{not json") }
    }

    @Test func zigzagVarints() throws {
        for value: Int64 in [0, -1, 1, -64, 64, Int64(Int32.max), Int64.min, Int64.max] {
            var encoder = AvroEncoder()
            encoder.writeLong(value)
            var decoder = AvroDecoder(encoder.bytes)
            #expect(try decoder.readLong() == value)
            #expect(decoder.isAtEnd)
        }
        var encoder = AvroEncoder()
        encoder.writeLong(-2)
        #expect(encoder.bytes == [3])
        encoder = AvroEncoder()
        encoder.writeLong(64)
        #expect(encoder.bytes == [0x80, 0x01])
    }

    @Test func valueThatDoesNotFitNamesTheField() throws {
        var encoder = AvroEncoder()
        let error = #expect(throws: AvroError.self) {
            try encoder.write(.record([.string("x")]), as: .record(AvroRecord(name: "r", fields: [AvroField(name: "count", type: .long)])))
        }
        #expect(error?.message.contains("count") == true)
    }

    /// Thousands of mutated files (a fixed seed: the same ones on every machine; `scripts/fuzz.sh avro` explores
    /// further): each one reads or throws AvroError; none traps or hangs.
    @Test(arguments: AvroCodec.allCases) func fuzzedFilesNeverCrash(_ codec: AvroCodec) throws {
        var writer = try AvroContainerWriter(schema: Self.schema, codec: codec, blockSize: 1_000)
        for i in 0..<40 { try writer.append(Self.row(i)) }
        let original = try writer.finish()
        var random = SplitMix64(seed: 20_261_129)
        var failures = 0
        let mutations = 1_500
        for _ in 0..<mutations {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                case 1: bytes.removeLast(Int.random(in: 1...min(40, bytes.count - 1), using: &random))
                case 2: bytes.insert(contentsOf: [0xff, 0xff, 0xff, 0xff, 0x0f], at: Int.random(in: 0..<bytes.count, using: &random))
                default: bytes[Int.random(in: 0..<bytes.count, using: &random)] = 0x80
                }
            }
            do {
                _ = try AvroContainerReader(bytes, source: "fuzz.avro").records()
            } catch is AvroError {
                failures += 1
            }
        }
        #expect(failures > mutations / 4, "only \(failures) of \(mutations) mutations were detected")
    }
}

extension AvroCodec: CustomTestStringConvertible {
    public var testDescription: String { rawValue }
}
