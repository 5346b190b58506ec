import Codecs
import Foundation
import IcebergCore
import IcebergS3
import S3Reader
import Testing
import TestSupport

@testable import IcebergIngest

/// One job, many tables, on the local S3 server: streams under `raw/{stream}/` routed by key pattern to tables
/// created on first sight (schema from the registry, or inferred), a fourth stream appearing between runs,
/// a stream whose name cannot be a table, two workers racing to create the same new table. PyIceberg reads
/// every table back value by value.
@Suite(.serialized, .withinOneHour) struct RoutingTests {
    /// Writes `count` JSON lines of `stream` (ids from `first`) gzipped at `raw/<stream>/<hour>/part-<n>.json.gz`.
    static func put(_ client: S3Client, bucket: String, stream: String, hour: Int32, part: Int, first: Int, count: Int) async throws {
        let base = Int64(hour) * 3600
        let lines = (first..<(first + count)).map { id in
            switch stream {
            case "views": #"{"id": \#(id), "ts": "\#(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(base + Int64(id % 3600)))))", "seconds": \#(Double(id) / 4)}"#
            default: #"{"id": \#(id), "event_time": \#((base + Int64(id % 3600)) * 1000), "page": "/p/\#(id)", "user": {"name": "u\#(id % 7)"}}"#
            }
        }.joined(separator: "\n") + "\n"
        let body = try Deflate.compress(Array(lines.utf8), framing: .gzip)
        _ = try await client.putObject(bucket: bucket, key: "raw/\(stream)/\(PrefixLayout.firehose.prefix(forHour: hour))part-\(part).json.gz", body: body)
    }

    /// `(table, count, min id, max id, distinct ids)` of each table, as PyIceberg reads them.
    static func read(_ tables: [String], catalog database: String, warehouse: String, s3: S3TestEndpoint) async throws -> [String] {
        let output = try await PythonTool.run(
            #"""
            import sys, os
            from pyiceberg.catalog.sql import SqlCatalog
            props = {"s3.endpoint": sys.argv[3], "s3.region": os.environ.get("AWS_REGION", "us-east-1"),
                     "s3.access-key-id": os.environ.get("AWS_ACCESS_KEY_ID", "testing"), "s3.secret-access-key": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing")}
            c = SqlCatalog("default", uri="sqlite:///" + sys.argv[1], warehouse=sys.argv[2], **props)
            for name in sys.argv[4:]:
                t = c.load_table(name)
                rows = t.scan().to_arrow().to_pylist()
                ids = [r["id"] for r in rows]
                kinds = ",".join("%s:%s" % (f.name, f.field_type) for f in t.schema().fields)
                spec = ",".join(str(f.transform) + "(" + t.schema().find_field(f.source_id).name + ")" for f in t.spec().fields)
                print(name, len(ids), min(ids), max(ids), len(set(ids)), kinds, spec or "unpartitioned")
            """#, arguments: [database, warehouse, s3.endpoint] + tables)
        return output.split(separator: "\n").map(String.init)
    }

    @Test func streamsRouteToTablesCreatedOnFirstSight() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let s3 = try TestEnvironment.s3()
        let client = s3.client()
        let bucket = TestEnvironment.uniqueBucketName("routing")
        try await client.createBucket(bucket)
        let dir = try TestEnvironment.temporaryDirectory("routing")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 2
        try await Self.put(client, bucket: bucket, stream: "clicks", hour: hour, part: 1, first: 1, count: 300)
        try await Self.put(client, bucket: bucket, stream: "clicks", hour: hour + 1, part: 2, first: 301, count: 200)
        try await Self.put(client, bucket: bucket, stream: "views", hour: hour, part: 1, first: 1, count: 250)
        try await Self.put(client, bucket: bucket, stream: "Orders-EU", hour: hour + 1, part: 1, first: 1, count: 40)
        try await Self.put(client, bucket: bucket, stream: "---", hour: hour, part: 1, first: 1, count: 5)
        // The registry names the clicks schema; the others are inferred from their own objects.
        let registry = dir.appendingPathComponent("schemas")
        try FileManager.default.createDirectory(at: registry, withIntermediateDirectories: true)
        try "id long not null, event_time timestamptz, page string".write(to: registry.appendingPathComponent("analytics.clicks.schema"), atomically: true, encoding: .utf8)
        // The catalog database is local, the warehouse on S3 (what PyIceberg reads from).
        let local = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        let job = dir.appendingPathComponent("job.json")
        try #"""
            {"source": {"uri": "s3://\#(bucket)/", "format": "json"},
             "catalog": {"uri": "sqlite:\#(local)/catalog.db", "warehouse": "s3://\#(bucket)/lake"},
             "table": {"name": "analytics.{stream}", "route": {"key_pattern": "raw/{stream}/{yyyy}/{MM}/{dd}/{HH}/"},
                       "schemas": "\#(registry.path)", "schema": "infer", "partition": ""},
             "s3": {"endpoint": "\#(s3.endpoint)"}}
            """#.write(to: job, atomically: true, encoding: .utf8)
        let plan = try await TestProcesses.run(executable, arguments: ["plan", "--config", job.path])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("stream 'clicks' -> analytics.clicks: new table") && plan.stdout.contains("stream '---': not ingested"), "\(plan.stdout)")

        let first = try await TestProcesses.run(executable, arguments: ["run", "--config", job.path, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let summary = try JSONValue.parse(first.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(summary["created"] == .array(["analytics.orders_eu", "analytics.clicks", "analytics.views"].map { .string($0) }), "\(first.stdout)")
        guard case .array(let tables)? = summary["tables"], case .array(let skipped)? = summary["routes"] else {
            Issue.record("no tables in \(first.stdout)")
            return
        }
        #expect(tables.compactMap { $0["rows"] } == [.int(40), .int(500), .int(250)], "\(first.stdout)")
        #expect(skipped.count == 1 && skipped.first?["value"] == .string("---"), "\(skipped)")

        // A fourth stream appears; the others get more objects. Each table reads only what is new.
        try await Self.put(client, bucket: bucket, stream: "signups", hour: hour + 1, part: 1, first: 1, count: 60)
        try await Self.put(client, bucket: bucket, stream: "views", hour: hour + 1, part: 2, first: 251, count: 50)
        let second = try await TestProcesses.run(executable, arguments: ["run", "--config", job.path, "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        let again = try JSONValue.parse(second.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(again["created"] == .array([.string("analytics.signups")]), "\(second.stdout)")
        if case .array(let tables)? = again["tables"] {
            #expect(tables.compactMap { $0["rows"] } == [.int(0), .int(0), .int(60), .int(50)], "\(second.stdout)")
        }
        let status = try await TestProcesses.run(executable, arguments: ["status", "--config", job.path, "--json"])
        #expect(status.status == 0 && status.stdout.split(separator: "\n").count == 4, "\(status.stdout)\(status.stderr)")

        let read = try await Self.read(
            ["analytics.clicks", "analytics.views", "analytics.orders_eu", "analytics.signups"], catalog: local + "/catalog.db", warehouse: "s3://\(bucket)/lake", s3: s3)
        #expect(read == [
            "analytics.clicks 500 1 500 500 id:long,event_time:timestamptz,page:string unpartitioned",
            "analytics.views 300 1 300 300 id:long,ts:timestamptz,seconds:double hour(ts)",
            "analytics.orders_eu 40 1 40 40 id:long,event_time:long,page:string,user:struct<5: name: optional string> unpartitioned",
            "analytics.signups 60 1 60 60 id:long,event_time:long,page:string,user:struct<5: name: optional string> unpartitioned",
        ], "\(read)")
    }

    /// Two workers see the same new streams at once: each table is created once, and every row is in it
    /// once (the stream's lease lets one worker ingest it; the other skips it, or finds nothing new).
    @Test func twoWorkersRaceToCreateTheSameTables() async throws {
        let s3 = try TestEnvironment.s3()
        let client = s3.client()
        let bucket = TestEnvironment.uniqueBucketName("routing-race")
        try await client.createBucket(bucket)
        let dir = try TestEnvironment.temporaryDirectory("routing-race")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 2
        for (n, stream) in ["alpha", "beta", "gamma"].enumerated() {
            try await Self.put(client, bucket: bucket, stream: stream, hour: hour, part: 1, first: 1, count: 100 * (n + 1))
        }
        let local = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        var routing = try TableRouting(nameTemplate: "race.{stream}", keyPattern: "raw/{stream}/{yyyy}/{MM}/{dd}/{HH}/")
        routing.defaultSchema = "id long not null, event_time timestamptz, page string"
        routing.partition = "hour(event_time)"
        let template = try PipelineSupport.configuration(table: "race.template")
        let source = S3Source(client: client, bucket: bucket, root: "", layout: .firehose)
        let shared = routing
        let summaries = try await withThrowingTaskGroup(of: RoutedIngestor.Summary.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    let catalog = try SQLiteCatalog(path: local + "/catalog.db", warehouse: "s3://\(bucket)/lake", io: S3FileIO(client: client))
                    return try await RoutedIngestor(template: template, routing: shared, catalog: catalog, source: source).run()
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let rows = summaries.flatMap(\.tables).reduce(into: [String: Int]()) { $0[$1.table, default: 0] += $1.rows }
        #expect(rows == ["race.alpha": 100, "race.beta": 200, "race.gamma": 300], "\(summaries.map(\.jsonLine))")
        let read = try await Self.read(["race.alpha", "race.beta", "race.gamma"], catalog: local + "/catalog.db", warehouse: "s3://\(bucket)/lake", s3: s3)
        #expect(read.map { $0.split(separator: " ").prefix(5).joined(separator: " ") } == ["race.alpha 100 1 100 100", "race.beta 200 1 200 200", "race.gamma 300 1 300 300"])
        let catalog = try SQLiteCatalog(path: local + "/catalog.db", warehouse: "s3://\(bucket)/lake", io: S3FileIO(client: client))
        #expect(try await catalog.listTables(["race"]).count == 3)
    }

    /// Names made valid by the documented rules; values that cannot be names; the allow-list and the cap.
    @Test func namesAllowListAndCap() async throws {
        #expect(TableRouting.sanitize("Click-Events") == "click_events")
        #expect(TableRouting.sanitize("  orders.EU / 2 ") == "orders_eu_2")
        #expect(TableRouting.sanitize("2026_sales") == "t_2026_sales")
        #expect(TableRouting.sanitize("événements") == "v_nements")
        #expect(TableRouting.sanitize("---") == nil && TableRouting.sanitize("") == nil)
        #expect(TableRouting.sanitize(String(repeating: "a", count: 129)) == nil)
        var routing = try TableRouting(nameTemplate: "analytics.{stream}", keyPattern: "raw/{stream}/{yyyy}/{MM}/{dd}/{HH}/")
        #expect(try routing.table(for: "Click-Events").description == "analytics.click_events")
        #expect(throws: IngestError.self) { try routing.table(for: "!!!") }
        #expect(throws: IngestError.self) { try TableRouting(nameTemplate: "analytics.events", keyPattern: "raw/{stream}/{yyyy}/{MM}/{dd}/{HH}/") }
        #expect(throws: IngestError.self) { try TableRouting(nameTemplate: "a.{stream}", keyPattern: "raw/x{stream}/{yyyy}/") }

        let dir = try TestEnvironment.temporaryDirectory("routing-cap")
        defer { TestEnvironment.cleanUp(dir) }
        for stream in ["a", "b", "c", "d"] {
            try FileManager.default.createDirectory(atPath: dir.path + "/in/raw/\(stream)/2026/11/24/10", withIntermediateDirectories: true)
        }
        routing.allow = ["a", "b", "c"]
        routing.maxTables = 2
        let catalog = try SQLiteCatalog(path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        let routed = RoutedIngestor(
            template: try PipelineSupport.configuration(), routing: routing, catalog: catalog,
            source: LocalFolderSource(root: dir.path + "/in", layout: .firehose))
        let routes = try await routed.routes()
        #expect(routes.map(\.value) == ["a", "b", "c", "d"])
        #expect(routes.map(\.skipped) == [nil, nil, "table.max_tables (2) reached: the table is not created", "not in table.allow"])

        // Runs: a has a schema file, b none (and no default): b fails and is reported, a still runs; c is past
        // the cap, d not allowed, and neither is created.
        let registry = dir.appendingPathComponent("schemas")
        try FileManager.default.createDirectory(at: registry, withIntermediateDirectories: true)
        try "id long not null, event_time timestamptz".write(to: registry.appendingPathComponent("a.schema"), atomically: true, encoding: .utf8)
        for stream in ["a", "b", "c", "d"] {
            try #"{"id": 1, "event_time": "2026-11-24T10:00:00Z"}"#.write(
                toFile: dir.path + "/in/raw/\(stream)/2026/11/24/10/x.json", atomically: true, encoding: .utf8)
        }
        var strict = routing
        strict.schemaRegistry = registry.path
        let summary = try await RoutedIngestor(
            template: try PipelineSupport.configuration(), routing: strict, catalog: catalog,
            source: LocalFolderSource(root: dir.path + "/in", layout: .firehose)
        ).run()
        #expect(summary.tables.map(\.table) == ["analytics.a"] && summary.rows == 1)
        #expect(summary.created == ["analytics.a"] && summary.failed)
        #expect(summary.routes.map(\.value) == ["b", "c", "d"] && summary.routes.map(\.failed) == [true, false, false], "\(summary.routes)")
        #expect(summary.routes.first?.skipped?.contains("no schema for the new table analytics.b") == true, "\(summary.routes)")
        #expect(try await catalog.listTables(["analytics"]) == [try TableIdentifier(parsing: "analytics.a")])
    }

    /// A crash at each step of a table's commit, in the first table of a run and in a later one, then a run
    /// without it: every table holds every row once (the crash only ever cuts one table's commit, which its
    /// own checkpoint recovers; tables committed before it in the run stay committed).
    @Test func crashAtEachCommitStepOfARoutedRun() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let hour = PrefixLayout.hour(of: Date()) - 2
        for point in ["after-checkpoint", "before-upload", "after-upload", "after-manifest", "after-swap"] {
            let dir = try TestEnvironment.temporaryDirectory("routing-crash")
            defer { TestEnvironment.cleanUp(dir) }
            func write(_ stream: String, part: Int, ids: ClosedRange<Int>) throws {
                let folder = dir.appendingPathComponent("in/raw/\(stream)/" + PrefixLayout.firehose.prefix(forHour: hour))
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let lines = ids.map { #"{"id": \#($0), "event_time": "2026-11-24T10:00:00Z"}"# }.joined(separator: "\n")
                try lines.write(to: folder.appendingPathComponent("part-\(part).json"), atomically: true, encoding: .utf8)
            }
            try write("a", part: 1, ids: 1...100)
            try write("b", part: 1, ids: 1...50)
            let warehouse = dir.appendingPathComponent("wh").path
            let arguments = [
                "run", "--source", dir.appendingPathComponent("in").path, "--table", "crash.{stream}", "--catalog", "sqlite:\(warehouse)/catalog.db",
                "--warehouse", warehouse, "--schema", "id long not null, event_time timestamptz", "--json",
            ]
            let environment = ["ICEBERG_INGEST_TABLE_ROUTE": "raw/{stream}/{yyyy}/{MM}/{dd}/{HH}/"]
            // The crash cuts table a's commit; b is not reached.
            let crashed = try await TestProcesses.run(executable, arguments: arguments, environment: environment.merging([FailPoint.environmentVariable: point]) { $1 })
            #expect(crashed.status == FailPoint.exitCode, "\(point): \(crashed.stderr)")
            let recovered = try await TestProcesses.run(executable, arguments: arguments, environment: environment)
            #expect(recovered.status == 0, "\(point): \(recovered.stderr)")
            // New objects for b only: the crash cuts b's commit, a (committed) has nothing new.
            try write("b", part: 2, ids: 51...80)
            let second = try await TestProcesses.run(executable, arguments: arguments, environment: environment.merging([FailPoint.environmentVariable: point]) { $1 })
            #expect(second.status == FailPoint.exitCode, "\(point): \(second.stderr)")
            let last = try await TestProcesses.run(executable, arguments: arguments, environment: environment)
            #expect(last.status == 0, "\(point): \(last.stderr)")
            let counts = try await PythonTool.run(
                #"""
                import sys
                from pyiceberg.catalog.sql import SqlCatalog
                c = SqlCatalog("default", uri="sqlite:///" + sys.argv[1], warehouse="file://" + sys.argv[2])
                for name in ("crash.a", "crash.b"):
                    ids = c.load_table(name).scan().to_arrow().column("id").to_pylist()
                    print(name, len(ids), len(set(ids)), min(ids), max(ids))
                """#, arguments: [warehouse + "/catalog.db", warehouse])
            #expect(counts.split(separator: "\n") == ["crash.a 100 100 1 100", "crash.b 80 80 1 80"], "\(point): \(counts)")
        }
    }

    /// The README's routing example, on a local folder: two streams, inferred schemas, hour partitions.
    @Test func readmeRoutingExample() async throws {
        let dir = try TestEnvironment.temporaryDirectory("routing-readme")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 1
        for stream in ["clicks", "views"] {
            let folder = dir.appendingPathComponent("landing/raw/\(stream)/" + PrefixLayout.firehose.prefix(forHour: hour))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try #"{"id": 1, "event_time": "2026-11-24T10:00:00Z"}"#.write(to: folder.appendingPathComponent("a.json"), atomically: true, encoding: .utf8)
        }
        let landing = dir.appendingPathComponent("landing").path
        let catalog = try SQLiteCatalog(path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        let configuration = try PipelineSupport.configuration()

        var routing = try TableRouting(nameTemplate: "analytics.{stream}", keyPattern: "raw/{stream}/{yyyy}/{MM}/{dd}/{HH}/")
        routing.defaultSchema = "infer"
        routing.partition = "hour(event_time)"
        let routed = RoutedIngestor(template: configuration, routing: routing, catalog: catalog, source: LocalFolderSource(root: landing, layout: .firehose))
        let summary = try await routed.run()
        for table in summary.tables { print(table.table, table.rows) }

        #expect(summary.tables.map(\.table) == ["analytics.clicks", "analytics.views"] && summary.rows == 2)
        let clicks = try await catalog.loadTable(try TableIdentifier(parsing: "analytics.clicks"))
        #expect(clicks.metadata.defaultSpec.fields.map(\.name) == ["event_time_hour"])
    }
}
