import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import IcebergIngest

/// `iceberg-ingest infer` and ``SchemaInference``: the widening rules, and the proposal on the demo fixture and
/// on CSV, checked by ingesting with the proposed schema and reading the table back with PyIceberg.
@Suite struct SchemaInferenceTests {
    static func inferred(_ lines: [String]) throws -> SchemaInference {
        var inference = SchemaInference()
        for line in lines { inference.add(json: try JSONValue.parse(line)) }
        return inference
    }

    /// The README's example.
    @Test func readmeExample() throws {
        var inference = SchemaInference()
        inference.add(json: try JSONValue.parse(#"{"id": 1, "at": "2026-11-24T10:00:00Z", "tags": ["a"]}"#))
        inference.add(json: try JSONValue.parse(#"{"id": 2.5, "user": {"name": "ann"}}"#))
        let schemaText = inference.schemaText  // "id double, at timestamptz, tags list<string>, user struct<name string>"
        let partition = inference.partition(layout: .firehose)  // "hour(at)"
        #expect(schemaText == "id double, at timestamptz, tags list<string>, user struct<name string>")
        #expect(partition == "hour(at)")
        #expect(inference.records == 2)
    }

    @Test func typesWidenAcrossTheSample() throws {
        let a = try Self.inferred([
            #"{"n": 1, "t": "2026-11-24T10:00:00", "d": "2026-11-24", "b": true, "x": null, "e": []}"#,
            #"{"n": 2, "t": "2026-11-24", "d": "2026-11-25", "b": false, "s": {"k": 1}, "m": 1}"#,
            #"{"t": "2026-11-24 10:00:00.123456", "s": {"k": 2.5, "j": "v"}, "m": "text", "e": [[1, 2]]}"#,
        ])
        #expect(a.schemaText == "n long, t timestamp, d date, b boolean, x string, e list<list<long>>, s struct<k double, j string>, m string")
        #expect(a.partition(layout: .hive) == "hour(t)")
        #expect(a.partition(layout: .daily) == "day(t)")
        #expect(a.notes.isEmpty, "\(a.notes)")
        // Epoch integers beside ISO timestamps make a timestamp column; alone, they stay numbers.
        let epochs = try Self.inferred([#"{"event_time": "2026-11-24T10:00:00Z", "ts": 1764000000}"#, #"{"event_time": 1764000000123, "ts": 5}"#])
        #expect(epochs.schemaText == "event_time timestamptz, ts long")
        #expect(epochs.partition(layout: .firehose) == "hour(event_time)")
        // A few strings in a numeric column leave it numeric, with a note; many make it a string.
        let few = try Self.inferred((1...150).map { #"{"id": \#($0)}"# } + [#"{"id": "n/a"}"#])
        #expect(few.schemaText == "id long")
        #expect(few.notes == ["id: 1 of 151 values are not long (they would be bad records)"])
        let many = try Self.inferred((1...50).map { #"{"id": \#($0)}"# } + [#"{"id": "n/a"}"#])
        #expect(many.schemaText == "id string" && many.notes.isEmpty)
        // A name that is not a plain word: Iceberg schema JSON, which the job file takes too, and parses back.
        let odd = try Self.inferred([#"{"user id": 1, "ok": true}"#])
        let schema = try Schema(json: try JSONValue.parse(odd.schemaText), source: "inferred")
        #expect(schema.fields.map(\.name) == ["user id", "ok"] && schema.fields[0].type == .primitive(.long))
    }

    /// The demo fixture (ISO and epoch-millisecond times, a record with a string id, a malformed line): the
    /// proposal ingests every good record, and PyIceberg reads 900 rows with the types proposed.
    @Test func demoFixtureProposalIngests() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let demo = TestEnvironment.fixtures.appendingPathComponent("demo/events").path
        let inferred = try await TestProcesses.run(executable, arguments: ["infer", "--source", demo, "--json"])
        #expect(inferred.status == 0, "\(inferred.stderr)")
        let proposal = try JSONValue.parse(inferred.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        guard case .string(let schema)? = proposal["schema"], case .string(let partition)? = proposal["partition"] else {
            Issue.record("no schema or partition: \(inferred.stdout)")
            return
        }
        #expect(schema == "id long, event_time timestamptz, user struct<name string, country string>, amount string, tags list<string>, attributes struct<campaign string>, ok boolean")
        #expect(partition == "hour(event_time)")
        #expect(proposal["records"] == .int(901) && proposal["unparseable"] == .int(1))
        let dir = try TestEnvironment.temporaryDirectory("infer-demo")
        defer { TestEnvironment.cleanUp(dir) }
        let warehouse = dir.appendingPathComponent("wh").path
        let run = try await TestProcesses.run(
            executable,
            arguments: [
                "run", "--source", demo, "--table", "db.inferred", "--schema", schema, "--partition", partition, "--catalog", "sqlite:\(warehouse)/catalog.db",
                "--warehouse", warehouse, "--bad-records", "skip", "--start-at", "2026-11-24T00", "--json",
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try JSONValue.parse(run.stdout.split(separator: "\n").last.map(String.init) ?? "")
        #expect(summary["rows"] == .int(900) && summary["badRecords"] == .int(2), "\(run.stdout)")
        let check = try await PythonTool.run(
            #"""
            import sys
            from pyiceberg.catalog.sql import SqlCatalog
            t = SqlCatalog("default", uri="sqlite:///" + sys.argv[1], warehouse="file://" + sys.argv[2]).load_table("db.inferred")
            a = t.scan().to_arrow()
            print(a.num_rows, a.schema.field("event_time").type, a.schema.field("id").type, len(set(a.column("id").to_pylist())))
            """#, arguments: [warehouse + "/catalog.db", warehouse])
        #expect(check.trimmingCharacters(in: .whitespacesAndNewlines) == "900 timestamp[us, tz=UTC] int64 900")
    }

    /// CSV: cells typed from their text, a quoted cell with the delimiter and a line break, an empty cell as
    /// null; ZIP-compressed, one entry per file, each with its header.
    @Test func csvProposal() async throws {
        let dir = try TestEnvironment.temporaryDirectory("infer-csv")
        defer { TestEnvironment.cleanUp(dir) }
        let folder = dir.appendingPathComponent("in/2026/11/24/10")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        _ = try await PythonTool.run(
            #"""
            import sys, zipfile
            rows = "".join('%d,%s,%s,"a, ""quoted""\nnote",%s,%s\n' % (i, "2026-11-24 10:%02d:00" % (i % 60), i * 0.5, "true" if i % 2 else "false", "" if i % 3 else "2026-11-%02d" % (i % 28 + 1)) for i in range(1, 201))
            with zipfile.ZipFile(sys.argv[1], "w", compression=zipfile.ZIP_DEFLATED) as z:
                z.writestr("a.csv", "\ufeffid,at,price,note,ok,day\n" + rows)
                z.writestr("b.csv", "id,at,price,note,ok,day,extra\n1,2026-11-24 11:00:00,3,x,true,,7\n")
            """#, arguments: [folder.appendingPathComponent("part.zip").path])
        let sample = try await SchemaInference.sample(source: LocalFolderSource(root: dir.appendingPathComponent("in").path, layout: .firehose), format: .csv(delimiter: UInt8(ascii: ",")))
        #expect(sample.inference.records == 201 && sample.unparseable == 0)
        #expect(sample.inference.schemaText == "id long, at timestamp, price double, note string, ok boolean, day date, extra long")
        #expect(sample.inference.partition(layout: .firehose) == "hour(at)")
        // Text lines have one shape; Parquet is refused (it carries its schema).
        let text = try await SchemaInference.sample(source: LocalFolderSource(root: dir.appendingPathComponent("in").path, layout: .firehose), format: .text)
        #expect(text.inference.schemaText == "line string")
        await #expect(throws: IngestError.self) {
            _ = try await SchemaInference.sample(source: LocalFolderSource(root: dir.path, layout: .firehose), format: .parquet(register: true))
        }
    }
}
