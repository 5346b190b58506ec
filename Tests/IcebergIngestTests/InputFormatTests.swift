import Avro
import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import IcebergIngest

/// The inputs besides JSON, CSV and Parquet that Firehose and its neighbours write: ZIP archives, Avro object
/// container files and plain text lines, written by Python's `zipfile`, fastavro and gzip, read back by PyIceberg
/// value by value.
@Suite(.withinOneHour) struct InputFormatTests {
    /// Writes `<root>/<format>/YYYY/MM/DD/HH/...` for the hour given.
    static let writer = #"""
    import sys, os, io, gzip, zipfile, datetime, decimal, uuid, fastavro
    root, hour = sys.argv[1], int(sys.argv[2])
    def folder(kind):
        d = os.path.join(root, kind, datetime.datetime.fromtimestamp(hour * 3600, datetime.timezone.utc).strftime("%Y/%m/%d/%H"))
        os.makedirs(d, exist_ok=True)
        return d
    lines = lambda ids: "".join('{"id": %d, "name": "n%d"}\n' % (i, i) for i in ids)

    # ZIP: deflated and stored entries, a directory, an entry without a final newline.
    with zipfile.ZipFile(os.path.join(folder("zip"), "a.zip"), "w") as z:
        z.writestr(zipfile.ZipInfo("dir/"), b"")
        z.writestr("part-1.jsonl", lines(range(1, 101)).rstrip("\n"), compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("part-2.jsonl", lines(range(101, 151)), compress_type=zipfile.ZIP_STORED)
        # What macOS's Finder adds: metadata, not data (skipped).
        z.writestr("__MACOSX/._part-1.jsonl", b"\x00\x05\x16\x07 binary resource fork")
    # Written to a stream that cannot seek: sizes in data descriptors after the data, one entry ZIP64.
    class Unseekable(io.RawIOBase):
        def __init__(self, f): self.f = f
        def writable(self): return True
        def write(self, b): return self.f.write(b)
    with open(os.path.join(folder("zip"), "b.zip"), "wb") as f:
        with zipfile.ZipFile(Unseekable(f), "w", compression=zipfile.ZIP_DEFLATED) as z:
            with z.open("part-3.jsonl", "w") as e: e.write(lines(range(151, 1151)).encode())
            with z.open("part-4.jsonl", "w", force_zip64=True) as e: e.write(lines(range(1151, 1201)).encode())
    with zipfile.ZipFile(os.path.join(folder("zip"), "empty.zip"), "w") as z:
        pass
    # CSV entries: each entry has its own header line.
    with zipfile.ZipFile(os.path.join(folder("zipcsv"), "c.zip"), "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.csv", "id,name\n" + "".join("%d,c%d\n" % (i, i) for i in range(1, 11)))
        z.writestr("y.csv", "name,id\n" + "".join("c%d,%d\n" % (i, i) for i in range(11, 21)))

    # Avro with logical types, nested values, a union, an enum, and a field the table lacks.
    schema = fastavro.parse_schema({"type": "record", "name": "Event", "fields": [
        {"name": "id", "type": "long"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "at_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "t", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "price", "type": {"type": "fixed", "name": "P", "size": 8, "logicalType": "decimal", "precision": 12, "scale": 3}},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["click", "view"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "long"}},
        {"name": "user", "type": {"type": "record", "name": "User", "fields": [
            {"name": "name", "type": "string"}, {"name": "age", "type": ["null", "int"]}]}},
        {"name": "note", "type": ["null", "string"]},
        {"name": "small", "type": "long"},
        {"name": "blob", "type": "bytes"},
        {"name": "extra", "type": "string"},
    ]})
    base = datetime.datetime.fromtimestamp(hour * 3600, datetime.timezone.utc)
    records = []
    for i in range(1, 201):
        records.append({
            "id": i, "at": base + datetime.timedelta(microseconds=i * 1000003), "at_ms": base + datetime.timedelta(milliseconds=i * 7),
            "day": datetime.date(2026, 1, 1) + datetime.timedelta(days=i), "t": datetime.time(i % 24, i % 60, i % 60, (i * 1000) % 1000000),
            "amount": decimal.Decimal(i * 101 - 5000).scaleb(-2), "price": decimal.Decimal(-i * 12345).scaleb(-3),
            "uid": str(uuid.UUID(int=i * 7919)), "kind": "click" if i % 2 else "view",
            "tags": ["t%d" % k for k in range(i % 3)], "attrs": {"a": i, "b": -i} if i % 4 else {},
            "user": {"name": "u%d" % i, "age": None if i % 5 == 0 else i}, "note": None if i % 3 == 0 else "note %d" % i,
            "small": 2 ** 40 if i == 77 else i, "blob": bytes([i % 256, 0, 255]), "extra": "x"})
    with open(os.path.join(folder("avro"), "events.avro"), "wb") as f:
        fastavro.writer(f, schema, records, codec="deflate", sync_interval=4000)

    # Text lines, gzip-compressed: CRLF, a blank line, a line that is not UTF-8, a last line without newline.
    with gzip.open(os.path.join(folder("text"), "app.log.gz"), "wb") as f:
        f.write(b"first line\r\n\nsecond\tline \xc3\xa9 with tab\n\xff\xfe not text\n" + b"".join(b"line %d\n" % i for i in range(1000)) + b"last line")
    """#

    static func setUp(_ name: String) async throws -> (dir: URL, input: String, hour: Int32) {
        let dir = try TestEnvironment.temporaryDirectory(name)
        let hour = PrefixLayout.hour(of: Date()) - 3
        let input = dir.appendingPathComponent("in").path
        _ = try await PythonTool.run(Self.writer, arguments: [input, String(hour)])
        return (dir, input, hour)
    }

    /// Rows of `table` as JSON lines sorted by their first column, as PyIceberg reads them.
    static func rows(_ warehouse: String, _ table: String) async throws -> [String] {
        let reader = #"""
            import sys, json, datetime, decimal, uuid
            from pyiceberg.catalog.sql import SqlCatalog
            t = SqlCatalog("default", uri="sqlite:///" + sys.argv[1], warehouse="file://" + sys.argv[2]).load_table(sys.argv[3])
            rows = t.scan().to_arrow().to_pylist()
            first = t.schema().fields[0].name
            def plain(v):
                if isinstance(v, (datetime.datetime, datetime.date, datetime.time)): return v.isoformat()
                if isinstance(v, decimal.Decimal): return str(v)
                if isinstance(v, uuid.UUID): return str(v)
                if isinstance(v, bytes): return str(uuid.UUID(bytes=v)) if len(v) == 16 else v.hex()
                if isinstance(v, list): return [plain(x) for x in v]
                if isinstance(v, dict): return {k: plain(x) for k, x in v.items()}
                return v
            for r in sorted(rows, key=lambda r: r[first]):
                print(json.dumps({k: plain(v) for k, v in r.items()}, sort_keys=True))
            """#
        return try await PythonTool.run(reader, arguments: [warehouse + "/catalog.db", warehouse, table]).split(separator: "\n").map(String.init)
    }

    /// ZIP archives: entries deflated and stored, a directory, sizes in data descriptors (an archive written to
    /// a stream), ZIP64, an empty archive; CSV entries each with their own header. Every row comes back once.
    @Test func zipArchivesAreReadEntryByEntry() async throws {
        let (dir, input, _) = try await Self.setUp("zip-input")
        defer { TestEnvironment.cleanUp(dir) }
        let warehouse = dir.appendingPathComponent("wh").path
        let json = try await ParquetInputTests.ingestor(
            warehouse: warehouse, input: input + "/zip", table: "db.zipped", schema: "id long not null, name string", format: "json"
        ).run()
        #expect(json.rows == 1200 && json.badRecords == 0 && json.objectsIngested == 3, "\(json.jsonLine)")
        #expect(json.lines == 1200, "every entry's lines, one without a last line end")
        await #expect(try Self.rows(warehouse, "db.zipped") == (1...1200).map { #"{"id": \#($0), "name": "n\#($0)"}"# })

        let csv = try await ParquetInputTests.ingestor(
            warehouse: warehouse, input: input + "/zipcsv", table: "db.zippedcsv", schema: "id long not null, name string", format: "csv"
        ).run()
        #expect(csv.rows == 20 && csv.badRecords == 0, "\(csv.jsonLine)")
        #expect(csv.lines == 22, "each entry's header and rows")
        await #expect(try Self.rows(warehouse, "db.zippedcsv") == (1...20).map { #"{"id": \#($0), "name": "c\#($0)"}"# })
    }

    /// A damaged archive stops the run with an error naming the object and the entry; nothing is committed.
    @Test func aDamagedZipNamesTheEntry() async throws {
        let dir = try TestEnvironment.temporaryDirectory("zip-damaged")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 3
        let folder = try PipelineSupport.hourFolder(in: dir, hour: hour)
        _ = try await PythonTool.run(
            #"""
            import sys, zipfile, io
            b = io.BytesIO()
            with zipfile.ZipFile(b, "w", compression=zipfile.ZIP_DEFLATED) as z:
                z.writestr("good.jsonl", "".join('{"id": %d}\n' % i for i in range(100)))
                z.writestr("bad.jsonl", "".join('{"id": %d}\n' % i for i in range(100, 5000)))
            data = bytearray(b.getvalue())
            at = data.find(b"bad.jsonl") + len("bad.jsonl") + 40
            data[at] ^= 0x55
            open(sys.argv[1], "wb").write(data)
            """#, arguments: [folder.appendingPathComponent("d.zip").path])
        let warehouse = dir.appendingPathComponent("wh").path
        let ingestor = try ParquetInputTests.ingestor(
            warehouse: warehouse, input: dir.appendingPathComponent("in").path, table: "db.damaged", schema: "id long not null", format: "json")
        do {
            _ = try await ingestor.run()
            Issue.record("a damaged ZIP entry was accepted")
        } catch let error as IngestError {
            #expect(error.code == .corruptCompressedInput, "\(error)")
            #expect(error.message.contains("d.zip") && error.message.contains("'bad.jsonl'"), "\(error.message)")
        }
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        #expect(try await catalog.loadTable(try TableIdentifier(parsing: "db.damaged")).metadata.currentSnapshot == nil)
    }

    /// Avro container files: logical types to Iceberg types, nested records, arrays, maps, enums, unions; a
    /// value too wide for its column is a bad record naming the record; a field the table lacks is drift.
    @Test func avroRecordsBecomeRows() async throws {
        let (dir, input, hour) = try await Self.setUp("avro-input")
        defer { TestEnvironment.cleanUp(dir) }
        let warehouse = dir.appendingPathComponent("wh").path
        let schema =
            "id long not null, at timestamptz, at_ms timestamptz, day date, t time, amount decimal(10,2), price decimal(12,3), uid uuid, kind string, "
            + "tags list<string>, attrs map<string, long>, user struct<name string, age int>, note string, small int, blob binary"
        let summary = try await ParquetInputTests.ingestor(
            warehouse: warehouse, input: input + "/avro", table: "db.avro", schema: schema, format: "avro", badRecords: .skip
        ).run()
        #expect(summary.rows == 199 && summary.badRecords == 1, "\(summary.jsonLine)")
        #expect(summary.badRecordExamples.first?.contains("record 77") == true, "\(summary.badRecordExamples)")
        #expect(summary.drift.contains { $0.kind == .newField && $0.field == "extra" && $0.count == 200 }, "\(summary.drift)")
        let rows = try await Self.rows(warehouse, "db.avro")
        #expect(rows.count == 199)
        // The same values, computed in Python from what fastavro was given.
        let expected = try await PythonTool.run(
            #"""
            import sys, json, datetime, decimal, uuid
            hour = int(sys.argv[1])
            base = datetime.datetime.fromtimestamp(hour * 3600, datetime.timezone.utc)
            for i in range(1, 201):
                if i == 77: continue
                r = {"id": i, "at": (base + datetime.timedelta(microseconds=i * 1000003)).isoformat(),
                     "at_ms": (base + datetime.timedelta(milliseconds=i * 7)).isoformat(),
                     "day": (datetime.date(2026, 1, 1) + datetime.timedelta(days=i)).isoformat(),
                     "t": datetime.time(i % 24, i % 60, i % 60, (i * 1000) % 1000000).isoformat(),
                     "amount": str(decimal.Decimal(i * 101 - 5000).scaleb(-2)), "price": str(decimal.Decimal(-i * 12345).scaleb(-3)),
                     "uid": str(uuid.UUID(int=i * 7919)), "kind": "click" if i % 2 else "view",
                     "tags": ["t%d" % k for k in range(i % 3)], "attrs": [["a", i], ["b", -i]] if i % 4 else [],
                     "user": {"name": "u%d" % i, "age": None if i % 5 == 0 else i}, "note": None if i % 3 == 0 else "note %d" % i,
                     "small": i, "blob": bytes([i % 256, 0, 255]).hex()}
                print(json.dumps(r, sort_keys=True))
            """#, arguments: [String(hour)]
        ).split(separator: "\n").map(String.init)
        #expect(rows.count == expected.count)
        for (got, want) in zip(rows, expected) where got != want {
            Issue.record("avro row differs:\n got \(got)\nwant \(want)")
            break
        }
    }

    /// Hostile Avro schemas and values: timestamps past year 9999, a decimal scale of a trillion, a union of two
    /// records (whose decoded values cannot say which record they are) give errors or bad records, never a trap.
    @Test func hostileAvroValuesAreRefused() throws {
        let micros = AvroSchema.annotated(.long, properties: ["logicalType": .string("timestamp-micros")])
        #expect(AvroInput.json(.long(Int64.min), micros) == .string("timestamp-micros -9223372036854775808 (out of range)"))
        let millis = AvroSchema.annotated(.long, properties: ["logicalType": .string("timestamp-millis")])
        #expect(AvroInput.json(.long(-9_223_372_036_854_775), millis) == .string("timestamp-millis -9223372036854775 (out of range)"))
        #expect(AvroInput.json(.long(1_764_000_000_000), millis) == .string("2025-11-24T16:00:00+00:00"))
        let decimal = AvroSchema.annotated(.bytes, properties: ["logicalType": .string("decimal"), "precision": .int(10), "scale": .int(1_000_000_000_000)])
        #expect(AvroInput.json(.bytes([1]), decimal) == .string("a decimal of scale 1000000000000 (out of range)"))
        let a = AvroSchema.record(AvroRecord(name: "A", fields: [AvroField(name: "x", type: .long)]))
        let b = AvroSchema.record(AvroRecord(name: "B", fields: [AvroField(name: "y", type: .string)]))
        let top = AvroSchema.record(AvroRecord(name: "T", fields: [AvroField(name: "either", type: .union([.null, a, b]))]))
        var seen = Set<String>()
        #expect(AvroInput.ambiguousUnion(in: top, seen: &seen) == "either: a union of null, record, record")
        seen = []
        #expect(AvroInput.ambiguousUnion(in: .record(AvroRecord(name: "T", fields: [AvroField(name: "o", type: .union([.null, a]))])), seen: &seen) == nil)
    }

    /// Text lines into one string column: CRLF and LF line ends, a blank line skipped, a line that is not
    /// UTF-8 a bad record naming its line, the last line without a newline kept.
    @Test func textLinesBecomeRows() async throws {
        let (dir, input, _) = try await Self.setUp("text-input")
        defer { TestEnvironment.cleanUp(dir) }
        let warehouse = dir.appendingPathComponent("wh").path
        let summary = try await ParquetInputTests.ingestor(
            warehouse: warehouse, input: input + "/text", table: "db.logs", schema: "line string not null", format: "text", badRecords: .skip
        ).run()
        #expect(summary.rows == 1003 && summary.badRecords == 1, "\(summary.jsonLine)")
        #expect(summary.badRecordExamples.first?.contains("line 4, byte 37") == true, "\(summary.badRecordExamples)")
        let rows = try await Self.rows(warehouse, "db.logs").map { row in
            (try JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: String])?["line"] ?? "(not a line: \(row))"
        }
        let lines = ["first line", "second\tline é with tab", "last line"] + (0..<1000).map { "line \($0)" }
        #expect(rows.sorted() == lines.sorted())
    }
}
