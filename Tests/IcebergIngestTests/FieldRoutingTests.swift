import Codecs
import Foundation
import IcebergCore
import S3Reader
import Testing
import TestSupport

@testable import IcebergIngest

/// Routing each record by a field of its own: one mixed stream of event types into tables made on first
/// sight, a new type appearing later, records no table may have, and a crash at each step of each table's
/// commit. PyIceberg reads every table back value by value.
@Suite(.serialized, .withinOneHour) struct FieldRoutingTests {
    /// One JSON line of event type `type` with id `id`.
    static func line(_ type: String, _ id: Int, hour: Int32) -> String {
        #"{"id": \#(id), "event_type": "\#(type)", "event_time": \#((Int64(hour) * 3600 + Int64(id % 3600)) * 1000), "page": "/\#(type)/\#(id)", "meta": {"app": "web"}}"#
    }

    /// The records of `types` interleaved (each type's ids in its range), as JSON lines.
    static func mixed(_ types: [(String, ClosedRange<Int>)], hour: Int32) -> [String] {
        var lines: [String] = []
        var position = types.map(\.1.lowerBound)
        while true {
            var any = false
            for (k, (type, range)) in types.enumerated() where position[k] <= range.upperBound {
                lines.append(line(type, position[k], hour: hour))
                position[k] += 1
                any = true
            }
            if !any { return lines }
        }
    }

    /// `table count distinct min max ok`: `ok` when every row's page and event type are the ones its id was written with.
    static func read(_ tables: [String], catalog: String, warehouse: String, s3: S3TestEndpoint?) async throws -> [String] {
        let output = try await PythonTool.run(
            #"""
            import sys, os
            from pyiceberg.catalog.sql import SqlCatalog
            props = {}
            if sys.argv[3]:
                props = {"s3.endpoint": sys.argv[3], "s3.region": os.environ.get("AWS_REGION", "us-east-1"),
                         "s3.access-key-id": os.environ.get("AWS_ACCESS_KEY_ID", "testing"), "s3.secret-access-key": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing")}
            c = SqlCatalog("default", uri="sqlite:///" + sys.argv[1], warehouse=sys.argv[2], **props)
            for name in sys.argv[4:]:
                t = c.load_table(name)
                rows = t.scan().to_arrow().to_pylist()
                ids = [r["id"] for r in rows]
                types = set(r["event_type"] for r in rows)
                ok = len(types) == 1 and all(r["page"] == "/%s/%d" % (r["event_type"], r["id"]) for r in rows)
                print(name, len(ids), len(set(ids)), min(ids), max(ids), "ok" if ok else "WRONG %s" % sorted(types))
            """#, arguments: [catalog, warehouse, s3?.endpoint ?? ""] + tables)
        return output.split(separator: "\n").map(String.init)
    }

    @Test func routeValuesAreFoundInEachRecord() throws {
        func value(_ json: String, _ path: [String]) throws -> String? {
            let bytes = Array(json.utf8)
            return try bytes.withUnsafeBufferPointer { b in
                do throws(JSONRecordParser.Stop) {
                    let (value, end) = try JSONRecordParser.routeValue(b, from: 0, path: path)
                    #expect(end == bytes.count)
                    return value
                } catch {
                    throw TestEnvironmentError("\(error)")
                }
            }
        }
        #expect(try value(#"{"a": 1, "event_type": "click"}"#, ["event_type"]) == "click")
        #expect(try value(#"{"meta": {"x": [1, {"type": "no"}], "type": "Order-EU"}, "type": "top"}"#, ["meta", "type"]) == "Order-EU")
        #expect(try value(#"{"t": "caf\u00e9\n"}"#, ["t"]) == "café\n")
        #expect(try value(#"{"t": 42, "u": true}"#, ["t"]) == "42")
        #expect(try value(#"{"t": null}"#, ["t"]) == nil)
        #expect(try value(#"{"t": {"x": 1}}"#, ["t"]) == nil)
        #expect(try value(#"{"u": 1}"#, ["t"]) == nil)
        #expect(try value(#"{}"#, ["t"]) == nil)
        #expect(throws: (any Error).self) { try value(#"{"t": oops}"#, ["t"]) }
        #expect(throws: (any Error).self) { try value(#"["t"]"#, ["t"]) }
        // Brackets that do not match, a missing colon or comma in the record's own object: not JSON, whatever
        // the field says. (Inside another field's value only the brackets are followed, as the parser skips a
        // field the schema lacks: the pass that keeps the record finds the rest.)
        for broken in [#"{"t": "a", "x": [1}]"#, #"{"t": "a", "x" 1}"#, #"{"t": "a" "x": 1}"#, #"{"t": "a", 1: 2}"#] {
            #expect(throws: (any Error).self, "\(broken)") { try value(broken, ["t"]) }
        }
        #expect(try value(#"{"t": "a", "x": {1: 2}}"#, ["t"]) == "a")
    }

    /// Where each route value goes: its table, another (known or new) one, or none, with the reason.
    @Test func theRouteBookDecidesEachValue() throws {
        var routing = try TableRouting(nameTemplate: "analytics.{event_type}", field: "event_type", layout: .firehose)
        routing.allow = ["click", "view", "order_eu", "signup"]
        routing.maxTables = 3
        let book = RouteBook(routing: routing, known: ["analytics.click"], policy: .skip)
        func decide(_ value: String, _ pass: String = "analytics.click") -> RouteFilter.Decision {
            Array(#"{"x": 1}"#.utf8).withUnsafeBufferPointer { book.decide(value, record: $0, pass: pass).0 }
        }
        #expect(decide("click") == .keep && decide("CLICK") == .keep)
        #expect(decide("click", "analytics.view") == .elsewhere)
        #expect(decide("view") == .elsewhere && decide("view") == .elsewhere)
        #expect(decide("Order-EU") == .elsewhere)
        #expect(book.newTables.map(\.table) == ["analytics.order_eu", "analytics.view"])
        #expect(book.newTables.map(\.new.samples.count) == [1, 2])
        #expect(decide("signup") == .unroutable("table.max_tables (3) reached: table analytics.signup is not created"))
        #expect(decide("refund") == .unroutable("route value 'refund' is not in table.allow"))
        guard case .unroutable(let why) = decide("---") else { Issue.record("'---' routed"); return }
        #expect(why.contains("cannot become a table name"))
        book.made("analytics.view")
        #expect(book.known == ["analytics.click", "analytics.view"] && book.newTables.map(\.table) == ["analytics.order_eu"])
        #expect(try TableRouting(nameTemplate: "analytics.{meta.type}", field: "meta.type", layout: .firehose).field == ["meta", "type"])
        for (template, field) in [("analytics.events", "event_type"), ("{event_type}.events", "event_type"), ("a.{t}", "t..u"), ("t_{t}", "t")] {
            #expect(throws: IngestError.self, "\(template) \(field)") { try TableRouting(nameTemplate: template, field: field, layout: .firehose) }
        }
    }

    /// A pass keeps its table's records, skips the others unparsed, and reports an unroutable record once
    /// however many passes read it; under the policy `fail` the first one stops the pass, naming its line.
    @Test func aPassKeepsItsRecordsAndReportsUnroutableOnce() throws {
        let routing = try TableRouting(nameTemplate: "analytics.{event_type}", field: "event_type", layout: .firehose)
        let layout = try ColumnLayout(schema: try SchemaText.schema("id long not null, event_type string, tags list<long>"))
        let input = Array(
            """
            {"id": 1, "event_type": "click"}
            {"id": 2, "event_type": "view", "unknown": {"deep": [1, 2]}}
            {"id": 3}
            {"id": "not a long", "event_type": "click"}{"id": 5, "event_type": "click"}
            {"id": oops, "event_type": "click"}
            {"id": 7, "event_type": "click", "tags": [1 2]}{"id": 8, "event_type": "view"}

            """.utf8)
        func pass(_ table: String, _ book: RouteBook, drift: DriftPolicy = .fail) throws -> (rows: Int, bad: Int) {
            var options = ConversionOptions()
            options.route = book.filter(for: table)
            var parser = JSONRecordParser(layout: layout, options: options, source: "s3://raw/e/part-1.json", drift: drift)
            var batch = RecordBatch(layout: layout)
            var bad = 0
            _ = try input.withUnsafeBufferPointer { try parser.parse($0, isFinal: true, into: &batch, onBadRecord: { _ in bad += 1 }) }
            #expect(parser.counts.rows == batch.rowCount)
            return (batch.rowCount, bad)
        }
        let book = RouteBook(routing: routing, known: ["analytics.click", "analytics.view"], policy: .skip)
        // The unknown field of the view record is not drift for clicks (drift 'fail' would stop the pass).
        // Record 7 is not JSON inside its list (the route scan follows only its brackets): the click pass finds
        // it bad; both passes go on at record 8, on the same line.
        #expect(try pass("analytics.click", book) == (2, 2))
        #expect(try pass("analytics.view", book, drift: .ignore) == (2, 0))
        #expect(book.unroutableCount == 2)
        #expect(book.unroutableExamples.map(\.line) == [3, 5] && book.unroutableExamples.allSatisfy { $0.reason.hasPrefix("unroutable: ") })
        let failing = RouteBook(routing: routing, known: ["analytics.click"], policy: .fail)
        let error = try #require(throws: IngestError.self) { try pass("analytics.click", failing) }
        #expect(error.message.contains("s3://raw/e/part-1.json line 3") && error.message.contains("route field 'event_type'"), "\(error.message)")
    }

    /// The route from the environment: a key pattern as text, a field as a route object.
    @Test func theRouteComesFromTheEnvironmentToo() throws {
        let dir = try TestEnvironment.temporaryDirectory("route-env")
        defer { TestEnvironment.cleanUp(dir) }
        let path = dir.appendingPathComponent("job.json").path
        try #"{"source": {"uri": "/tmp/in"}, "catalog": {"uri": "sqlite:/tmp/wh/catalog.db", "warehouse": "/tmp/wh"}, "table": {"name": "analytics.{event_type}", "schema": "infer"}}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let byField = try IngestJob(file: path, environment: ["ICEBERG_INGEST_TABLE_ROUTE": #"{"field": "event_type"}"#])
        #expect(try byField.routing()?.field == ["event_type"])
        let byKey = try IngestJob(file: path, environment: ["ICEBERG_INGEST_TABLE_ROUTE": "raw/{event_type}/{yyyy}/{MM}/{dd}/{HH}/"])
        #expect(try byKey.routing()?.placeholder == "event_type" && byKey.routing()?.field == nil)
        #expect(throws: IngestError.self) { try IngestJob(file: path, environment: ["ICEBERG_INGEST_TABLE_ROUTE": #"{"feild": "event_type"}"#]) }
    }

    /// The job files of the README's routing section are valid routed jobs (by key pattern, then by field).
    @Test func theReadmeRoutingJobsAreValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "## Many tables from one job"))
        let text = readme[section.upperBound...].components(separatedBy: "\n## ").first ?? ""
        let blocks = text.components(separatedBy: "```json\n").dropFirst().map { $0.components(separatedBy: "```").first ?? "" }
        #expect(blocks.count == 2)
        let dir = try TestEnvironment.temporaryDirectory("readme-routing")
        defer { TestEnvironment.cleanUp(dir) }
        var fields: [[String]?] = []
        for (n, block) in blocks.enumerated() {
            let path = dir.appendingPathComponent("job-\(n).json").path
            try block.write(toFile: path, atomically: true, encoding: .utf8)
            let routing = try #require(try IngestJob(file: path, environment: [:]).routing())
            fields.append(routing.field)
        }
        #expect(fields == [nil, ["event_type"]])
    }

    /// Three event types in one stream make three tables; a fourth type appears in a later object; records
    /// without a usable route value are left out and counted once.
    @Test func recordsRouteByFieldToTablesMadeOnFirstSight() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let s3 = try TestEnvironment.s3()
        let client = s3.client()
        let bucket = TestEnvironment.uniqueBucketName("fieldroute")
        try await client.createBucket(bucket)
        let dir = try TestEnvironment.temporaryDirectory("fieldroute")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 2
        func put(_ lines: [String], hour: Int32, part: Int) async throws {
            let body = try Deflate.compress(Array((lines.joined(separator: "\n") + "\n").utf8), framing: .gzip)
            _ = try await client.putObject(bucket: bucket, key: "events/\(PrefixLayout.firehose.prefix(forHour: hour))part-\(part).json.gz", body: body)
        }
        try await put(Self.mixed([("click", 1...200), ("view", 1...100), ("Order-EU", 1...30)], hour: hour), hour: hour, part: 1)
        var second = Self.mixed([("click", 201...300), ("view", 101...150)], hour: hour + 1)
        second.insert(#"{"id": 9001, "page": "/none"}"#, at: 10)  // no event_type
        second.insert(#"{"id": 9002, "event_type": "---"}"#, at: 20)  // cannot be a table's name
        second.insert(#"{"id": oops}"#, at: 30)  // not JSON
        try await put(second, hour: hour + 1, part: 2)
        let registry = dir.appendingPathComponent("schemas")
        try FileManager.default.createDirectory(at: registry, withIntermediateDirectories: true)
        try "id long not null, event_type string, event_time timestamptz, page string".write(
            to: registry.appendingPathComponent("analytics.click.schema"), atomically: true, encoding: .utf8)
        let local = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        let job = dir.appendingPathComponent("job.json")
        try #"""
            {"source": {"uri": "s3://\#(bucket)/events/", "format": "json"},
             "catalog": {"uri": "sqlite:\#(local)/catalog.db", "warehouse": "s3://\#(bucket)/lake"},
             "table": {"name": "analytics.{event_type}", "route": {"field": "event_type"},
                       "schemas": "\#(registry.path)", "schema": "infer", "partition": ""},
             "ingest": {"bad_records": "dead-letter", "dead_letter": "s3://\#(bucket)/dead"},
             "s3": {"endpoint": "\#(s3.endpoint)"}}
            """#.write(to: job, atomically: true, encoding: .utf8)

        let first = try await TestProcesses.run(executable, arguments: ["run", "--config", job.path, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let summary = try JSONValue.parse(first.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(summary["created"] == .array(["analytics.click", "analytics.order_eu", "analytics.view"].map { .string($0) }), "\(first.stdout)")
        #expect(summary["unroutable"] == .int(3), "\(first.stdout)")
        if case .array(let tables)? = summary["tables"] {
            #expect(tables.compactMap { $0["table"] } == ["analytics.click", "analytics.order_eu", "analytics.view"].map { .string($0) }, "\(first.stdout)")
            #expect(tables.compactMap { $0["rows"] } == [.int(300), .int(30), .int(150)], "\(first.stdout)")
            #expect(tables.compactMap { $0["badRecords"] } == [.int(0), .int(0), .int(0)], "\(first.stdout)")
        } else {
            Issue.record("no tables in \(first.stdout)")
        }

        // The unroutable records are dead letters, once, in the file of their object.
        var letters: [String] = []
        for try await page in client.listAllPages(bucket: bucket, prefix: "dead/_unroutable/") { letters += page.objects.map(\.key) }
        #expect(letters.count == 1 && letters.first?.hasSuffix("part-2.json.gz.bad.jsonl") == true, "\(letters)")
        if let key = letters.first {
            let text = String(decoding: try await client.getObject(bucket: bucket, key: key), as: UTF8.self)
            let reasons = try text.split(separator: "\n").map { try JSONValue.parse(String($0))["reason"] }
            #expect(reasons.count == 3, "\(text)")
            #expect(reasons.allSatisfy { if case .string(let r)? = $0 { r.hasPrefix("unroutable: ") } else { false } }, "\(text)")
        }

        // A fourth type appears among new clicks: its table is made (and read in the same run, in name order),
        // the others read only the new object.
        try await put(Self.mixed([("click", 301...350), ("signup", 1...20)], hour: hour + 1), hour: hour + 1, part: 3)
        let plan = try await TestProcesses.run(executable, arguments: ["plan", "--config", job.path])
        #expect(plan.status == 0 && plan.stdout.contains("table analytics.view: 1 objects to read"), "\(plan.stdout)\(plan.stderr)")
        let again = try await TestProcesses.run(executable, arguments: ["run", "--config", job.path, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let next = try JSONValue.parse(again.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(next["created"] == .array([.string("analytics.signup")]), "\(again.stdout)")
        if case .array(let tables)? = next["tables"] {
            #expect(tables.compactMap { $0["rows"] } == [.int(50), .int(0), .int(20), .int(0)], "\(again.stdout)")
            #expect(tables.compactMap { $0["objectsIngested"] } == [.int(1), .int(1), .int(3), .int(1)], "\(again.stdout)")
        }
        let status = try await TestProcesses.run(executable, arguments: ["status", "--config", job.path, "--json"])
        #expect(status.status == 0 && status.stdout.split(separator: "\n").count == 4, "\(status.stdout)\(status.stderr)")

        let read = try await Self.read(
            ["analytics.click", "analytics.view", "analytics.order_eu", "analytics.signup"], catalog: local + "/catalog.db", warehouse: "s3://\(bucket)/lake", s3: s3)
        #expect(read == [
            "analytics.click 350 350 1 350 ok", "analytics.view 150 150 1 150 ok", "analytics.order_eu 30 30 1 30 ok", "analytics.signup 20 20 1 20 ok",
        ], "\(read)")
    }

    /// Two workers route the same new records at once: each table is made once (the catalog's atomic create),
    /// and each record is in its table once (each table's lease lets one worker read it at a time).
    @Test func twoWorkersRaceToMakeTheSameTables() async throws {
        let dir = try TestEnvironment.temporaryDirectory("fieldroute-race")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 2
        let folder = try PipelineSupport.hourFolder(in: dir, hour: hour)
        for part in 0..<3 {
            let lines = Self.mixed([("alpha", (part * 100 + 1)...(part * 100 + 100)), ("beta", (part * 200 + 1)...(part * 200 + 200)), ("gamma", (part * 300 + 1)...(part * 300 + 300))], hour: hour)
            try lines.joined(separator: "\n").write(to: folder.appendingPathComponent("part-\(part).json"), atomically: true, encoding: .utf8)
        }
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        var routing = try TableRouting(nameTemplate: "race.{event_type}", field: "event_type", layout: .firehose)
        routing.defaultSchema = "id long not null, event_type string, page string"
        var template = try PipelineSupport.configuration(table: "race.template", partition: "")
        template.leaseWaitSeconds = 30
        let source = LocalFolderSource(root: dir.appendingPathComponent("in").path, layout: .firehose)
        let shared = routing, base = template
        let summaries = try await withThrowingTaskGroup(of: RoutedIngestor.Summary.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
                    return try await RoutedIngestor(template: base, routing: shared, catalog: catalog, source: source).run()
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let rows = summaries.flatMap(\.tables).reduce(into: [String: Int]()) { $0[$1.table, default: 0] += $1.rows }
        #expect(rows == ["race.alpha": 300, "race.beta": 600, "race.gamma": 900], "\(summaries.map(\.jsonLine))")
        #expect(Set(summaries.flatMap(\.created)) == ["race.alpha", "race.beta", "race.gamma"], "\(summaries.map(\.jsonLine))")
        let read = try await Self.read(["race.alpha", "race.beta", "race.gamma"], catalog: warehouse + "/catalog.db", warehouse: "file://" + warehouse, s3: nil)
        #expect(read == ["race.alpha 300 300 1 300 ok", "race.beta 600 600 1 600 ok", "race.gamma 900 900 1 900 ok"], "\(read)")
    }

    /// A source none of whose records names a table makes none: the run says so, and under the policy `fail`
    /// stops naming the first such record.
    @Test func aSourceNamingNoTableMakesNone() async throws {
        let dir = try TestEnvironment.temporaryDirectory("fieldroute-none")
        defer { TestEnvironment.cleanUp(dir) }
        let folder = dir.appendingPathComponent("in/2026/11/24/10")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try #"{"id": 1, "kind": "x"}\#n{"id": 2, "event_type": "---"}\#n"#.write(to: folder.appendingPathComponent("a.json"), atomically: true, encoding: .utf8)
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        var routing = try TableRouting(nameTemplate: "none.{event_type}", field: "event_type", layout: .firehose)
        routing.defaultSchema = "id long"
        var template = try PipelineSupport.configuration(table: "none.template", partition: "")
        template.badRecordPolicy = .skip
        let source = LocalFolderSource(root: dir.appendingPathComponent("in").path, layout: .firehose)
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        let summary = try await RoutedIngestor(template: template, routing: routing, catalog: catalog, source: source).run()
        #expect(summary.tables.isEmpty && summary.created.isEmpty)
        template.badRecordPolicy = .fail
        let error = try await #require(throws: IngestError.self) {
            try await RoutedIngestor(template: template, routing: routing, catalog: catalog, source: source).run()
        }
        #expect(error.code == .badRecord && error.message.contains("a.json") && error.message.contains("route field 'event_type'"), "\(error.message)")
        #expect(try await catalog.listNamespaces().isEmpty)
    }

    /// A crash at each step of a table's commit, in the first table of a run (`point`) and in the second
    /// (`point@2`), then a run without it: every table holds each of its records once. An object feeds both
    /// tables; each table's checkpoint says which objects it has, so the table the crash cut reads them again
    /// and the other does not.
    @Test func crashAtEachCommitStepOfAFieldRoutedRun() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let hour = PrefixLayout.hour(of: Date()) - 2
        for point in FailPoint.names {
            let dir = try TestEnvironment.temporaryDirectory("fieldroute-crash")
            defer { TestEnvironment.cleanUp(dir) }
            func write(part: Int, _ types: [(String, ClosedRange<Int>)]) throws {
                let folder = try PipelineSupport.hourFolder(in: dir, hour: hour)
                try Self.mixed(types, hour: hour).joined(separator: "\n").write(to: folder.appendingPathComponent("part-\(part).json"), atomically: true, encoding: .utf8)
            }
            let warehouse = dir.appendingPathComponent("wh").path
            try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
            let job = dir.appendingPathComponent("job.json")
            try #"""
                {"source": {"uri": "\#(dir.appendingPathComponent("in").path)", "format": "json"},
                 "catalog": {"uri": "sqlite:\#(warehouse)/catalog.db", "warehouse": "\#(warehouse)"},
                 "table": {"name": "crash.{event_type}", "route": {"field": "event_type"},
                           "schema": "id long not null, event_type string, page string"}}
                """#.write(to: job, atomically: true, encoding: .utf8)
            let arguments = ["run", "--config", job.path, "--json"]
            try write(part: 1, [("a", 1...100), ("b", 1...50)])
            // The first run makes both tables; the crash cuts a's commit (b is not reached).
            let crashed = try await TestProcesses.run(executable, arguments: arguments, environment: [FailPoint.environmentVariable: point])
            #expect(crashed.status == FailPoint.exitCode, "\(point): \(crashed.stderr)")
            let recovered = try await TestProcesses.run(executable, arguments: arguments)
            #expect(recovered.status == 0, "\(point): \(recovered.stderr)")
            // A new object feeds both: the crash cuts b's commit, after a committed it.
            try write(part: 2, [("a", 101...130), ("b", 51...80)])
            let second = try await TestProcesses.run(executable, arguments: arguments, environment: [FailPoint.environmentVariable: point + "@2"])
            #expect(second.status == FailPoint.exitCode, "\(point)@2: \(second.stderr)")
            let last = try await TestProcesses.run(executable, arguments: arguments)
            #expect(last.status == 0, "\(point)@2: \(last.stderr)")
            let read = try await Self.read(["crash.a", "crash.b"], catalog: warehouse + "/catalog.db", warehouse: "file://" + warehouse, s3: nil)
            #expect(read == ["crash.a 130 130 1 130 ok", "crash.b 80 80 1 80 ok"], "\(point): \(read)")
        }
    }
}
