import Foundation
import Synchronization
import IcebergCore
import S3Reader
import Testing
import TestSupport

@testable import IcebergIngest

/// Schema drift: detected and reported, and each policy (fail, ignore, rescue, add-columns) applied.
@Suite(.withinOneHour) struct SchemaDriftTests {
    static let schema = "id long not null, event_time timestamptz, n int, price decimal(6,2), user struct<name string>"

    /// Two files in one hour: the second has a new top-level field, a new nested field, an int past 2^31
    /// and a price with more digits.
    static func input(in dir: URL) throws -> (String, Int32) {
        let hour = PrefixLayout.hour(of: Date()) - 2
        let folder = try PipelineSupport.hourFolder(in: dir, hour: hour)
        let t = Int64(hour) * 3600
        try """
            {"id": 1, "event_time": \(t), "n": 5, "price": "1.50", "user": {"name": "ann"}}
            {"id": 2, "event_time": \(t + 1), "n": 6, "price": "2.25", "user": {"name": "bob"}}

            """.write(to: folder.appendingPathComponent("a.json"), atomically: true, encoding: .utf8)
        try """
            {"id": 3, "event_time": \(t + 2), "user": {"name": "cy", "email": "cy@x"}, "n": 3000000000, "price": "3.00", "browser": "firefox"}
            {"id": 4, "event_time": \(t + 3), "n": 7, "price": "12345.67", "browser": "curl", "tags": ["a"], "user": {"name": "di"}}

            """.write(to: folder.appendingPathComponent("b.json"), atomically: true, encoding: .utf8)
        return (dir.appendingPathComponent("in").path, hour)
    }

    static func setUp(_ label: String, policy: DriftPolicy) throws -> (URL, SQLiteCatalog, Ingestor) {
        let dir = try TestEnvironment.temporaryDirectory(label)
        let (input, _) = try Self.input(in: dir)
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.drift"), schema: try SchemaText.schema(Self.schema))
        configuration.driftPolicy = policy
        configuration.badRecordPolicy = .skip
        return (dir, catalog, Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: input, layout: .firehose)))
    }

    static let reader = #"""
    import sys, json
    from pyiceberg.catalog.sql import SqlCatalog
    c = SqlCatalog("default", uri="sqlite:///" + sys.argv[1] + "/catalog.db", warehouse="file://" + sys.argv[1])
    t = c.load_table("db.drift")
    rows = sorted(t.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
    for r in rows:
        r.pop("event_time", None)
        if r.get("price") is not None: r["price"] = str(r["price"])
    print(json.dumps({"schema": [[f.field_id, f.name, str(f.field_type)] for f in t.schema().fields], "rows": rows, "schemas": len(t.metadata.schemas)}))
    """#

    @Test func ignoreReportsEveryKindWithLocations() async throws {
        let (dir, _, ingestor) = try Self.setUp("drift-ignore", policy: .ignore)
        defer { TestEnvironment.cleanUp(dir) }
        let summary = try await ingestor.run()
        #expect(summary.rows == 2 && summary.badRecords == 2)  // the int and the price do not fit
        let byField = Dictionary(uniqueKeysWithValues: summary.drift.map { ("\($0.kind.rawValue):\($0.field)", $0) })
        #expect(byField["new-field:browser"]?.count == 2)
        #expect(byField["new-field:browser"]?.examples.first?.hasSuffix("b.json line 1") == true)
        #expect(byField["new-field:user.email"]?.count == 1)
        #expect(byField["new-field:tags"]?.count == 1)
        #expect(byField["type-mismatch:n"]?.detail == "3000000000 is out of range for int")
        #expect(byField["type-mismatch:price"]?.count == 1)
    }

    @Test func failStopsAtTheFirstNewField() async throws {
        let (dir, catalog, ingestor) = try Self.setUp("drift-fail", policy: .fail)
        defer { TestEnvironment.cleanUp(dir) }
        do {
            _ = try await ingestor.run()
            Issue.record("drift under 'fail' must stop the run")
        } catch let error as IngestError {
            #expect(error.code == .schemaDrift)
            #expect(error.message.contains("b.json line 1") && error.message.contains("field 'user.email'"), "\(error.message)")
        }
        #expect(try await catalog.loadTable(ingestor.configuration.table).metadata.currentSnapshot == nil)
    }

    @Test func rescueKeepsWhatTheSchemaCannotHold() async throws {
        let (dir, _, ingestor) = try Self.setUp("drift-rescue", policy: .rescue)
        defer { TestEnvironment.cleanUp(dir) }
        let summary = try await ingestor.run()
        #expect(summary.rows == 4 && summary.badRecords == 0)
        #expect(summary.schemaChanges.first?.hasPrefix("added _rescued_data") == true)
        let output = try await PythonTool.run(Self.reader, arguments: [dir.appendingPathComponent("wh").path])
        let json = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
        guard case .array(let rows)? = json["rows"] else { Issue.record("no rows: \(output)"); return }
        #expect(rows[0]["_rescued_data"] == .null)
        // A nested field the struct lacks: the column keeps what it holds, the whole value is rescued.
        #expect(rows[2]["_rescued_data"] == .string(#"{"user":{"name": "cy", "email": "cy@x"},"n":3000000000,"browser":"firefox"}"#))
        #expect(rows[2]["user"]?["name"] == .string("cy"))
        #expect(rows[2]["n"] == .null && rows[3]["price"] == .null)
        #expect(rows[3]["_rescued_data"] == .string(#"{"price":"12345.67","browser":"curl","tags":["a"]}"#))
    }

    @Test func addColumnsEvolvesTheTableInTheSameCommit() async throws {
        let (dir, catalog, ingestor) = try Self.setUp("drift-add", policy: .addColumns)
        defer { TestEnvironment.cleanUp(dir) }
        let summary = try await ingestor.run()
        #expect(summary.rows == 4 && summary.badRecords == 0)
        #expect(summary.snapshotIDs.count == 1)
        #expect(Set(summary.schemaChanges.map { String($0.prefix(while: { $0 != ":" })) }).isSuperset(of: ["added browser", "added tags", "added user.email"]))
        let table = try await catalog.loadTable(ingestor.configuration.table)
        // One commit: the table was created with schema 0, and the append carries schema 1.
        #expect(table.metadata.currentSnapshot?.schemaID == table.metadata.currentSchemaID)
        #expect(table.metadata.currentSchemaID == 1 && table.metadata.snapshots.count == 1, "schemas \(table.metadata.schemas.map(\.fields.count)), \(summary.schemaChanges)")
        let output = try await PythonTool.run(Self.reader, arguments: [dir.appendingPathComponent("wh").path])
        let json = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
        guard case .array(let fields)? = json["schema"], case .array(let rows)? = json["rows"] else { Issue.record("unexpected: \(output)"); return }
        let names = fields.compactMap { field -> String? in
            if case .array(let parts) = field, case .string(let name) = parts[1], case .string(let type) = parts[2] { return "\(name) \(type)" }
            return nil
        }
        #expect(names.contains("n long") && names.contains("price decimal(7, 2)") && names.contains("browser string"))
        #expect(names.contains("tags list<string>"))
        #expect(rows[0]["browser"] == .null && rows[2]["browser"] == .string("firefox"))
        #expect(rows[2]["n"] == .int(3_000_000_000) && rows[3]["price"] == .string("12345.67"))
        #expect(rows[2]["user"]?["email"] == .string("cy@x"))
        #expect(rows[3]["tags"] == .array([.string("a")]))
    }

    /// Another tool renames a column between two runs; the next new field still lands, old data keeps
    /// its values under the new name, and readers see both.
    @Test func renameByAnotherToolBetweenRuns() async throws {
        let (dir, catalog, ingestor) = try Self.setUp("drift-rename", policy: .addColumns)
        defer { TestEnvironment.cleanUp(dir) }
        _ = try await ingestor.run()
        let warehouse = dir.appendingPathComponent("wh").path
        _ = try await PythonTool.run(#"""
        import sys
        from pyiceberg.catalog.sql import SqlCatalog
        c = SqlCatalog("default", uri="sqlite:///" + sys.argv[1] + "/catalog.db", warehouse="file://" + sys.argv[1])
        t = c.load_table("db.drift")
        with t.update_schema() as u:
            u.rename_column("browser", "user_agent")
        """#, arguments: [warehouse])
        let hour = PrefixLayout.hour(of: Date()) - 1
        let folder = try PipelineSupport.hourFolder(in: dir, hour: hour)
        try "{\"id\": 5, \"event_time\": \(Int64(hour) * 3600), \"user_agent\": \"wget\", \"country\": \"DE\"}\n"
            .write(to: folder.appendingPathComponent("c.json"), atomically: true, encoding: .utf8)
        let second = try await ingestor.run()
        #expect(second.rows == 1 && second.schemaChanges == ["added country: string"])
        let table = try await catalog.loadTable(ingestor.configuration.table)
        #expect(table.metadata.currentSchema.field(named: "user_agent") != nil)
        let output = try await PythonTool.run(Self.reader, arguments: [warehouse])
        let json = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
        guard case .array(let rows)? = json["rows"] else { Issue.record("unexpected: \(output)"); return }
        #expect(rows.count == 5)
        #expect(rows[2]["user_agent"] == .string("firefox") && rows[4]["user_agent"] == .string("wget"))
        #expect(rows[4]["country"] == .string("DE") && rows[0]["country"] == .null)
    }
}

/// A catalog that lets another writer change the schema just before the first data commit lands.
func interferingCatalog(inner: SQLiteCatalog) -> ForwardingCatalog {
    let interfered = Mutex(false)
    return ForwardingCatalog(inner: inner) { identifier, _, updates in
        guard updates.contains(where: { if case .addSnapshot = $0 { return true } else { return false } }),
            interfered.withLock({ done in defer { done = true }; return !done })
        else { return }
        var other = SchemaUpdate(try await inner.loadTable(identifier).metadata)
        try other.addColumn("added_by_other_tool", .primitive(.string))
        _ = try await other.commit(try await inner.loadTable(identifier), catalog: inner)
    }
}

extension SchemaDriftTests {
    /// Another writer changes the schema while add-columns commits its evolution with the data: the commit
    /// fails cleanly (the evolution rests on the old schema), nothing is half-applied, and the next run lands
    /// everything on the new schema, keeping the other tool's column.
    @Test func conflictingConcurrentSchemaChange() async throws {
        let (dir, catalog, plain) = try Self.setUp("drift-conflict", policy: .addColumns)
        defer { TestEnvironment.cleanUp(dir) }
        var configuration = plain.configuration
        configuration.tableProperties = ["commit.retry.num-retries": "1", "commit.retry.min-wait-ms": "10"]
        let interfering = Ingestor(configuration: configuration, catalog: interferingCatalog(inner: catalog), source: plain.source)
        do {
            _ = try await interfering.run()
            Issue.record("the evolution must not commit over another writer's schema")
        } catch let error as IcebergError {
            #expect(error.code == .commitConflict)
        }
        let between = try await catalog.loadTable(configuration.table)
        #expect(between.metadata.currentSnapshot == nil)
        #expect(between.metadata.currentSchema.field(named: "added_by_other_tool") != nil)
        #expect(between.metadata.currentSchema.field(named: "browser") == nil)

        let summary = try await Ingestor(configuration: configuration, catalog: catalog, source: plain.source).run()
        #expect(summary.rows == 4 && summary.orphanFilesDeleted > 0)
        let table = try await catalog.loadTable(configuration.table)
        #expect(table.metadata.currentSchema.field(named: "added_by_other_tool") != nil)
        #expect(table.metadata.currentSchema.field(named: "browser") != nil)
        #expect(table.metadata.currentSnapshot?.summary["total-records"] == "4")
    }
}

extension SchemaDriftTests {
    /// CSV input under each policy: a column the table lacks (`browser`) and an int column with a value past
    /// 2^31. Rows are read back by PyIceberg.
    @Test(arguments: [DriftPolicy.fail, .ignore, .rescue, .addColumns])
    func csvInputUnderEachPolicy(_ policy: DriftPolicy) async throws {
        let dir = try TestEnvironment.temporaryDirectory("drift-csv-\(policy.rawValue)")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 2
        let folder = try PipelineSupport.hourFolder(in: dir, hour: hour)
        let t = Int64(hour) * 3600
        try "id,event_time,n,browser\n1,\(t),5,firefox\n2,\(t + 1),3000000000,\"curl, 8\"\n3,\(t + 2),7,\n"
            .write(to: folder.appendingPathComponent("a.csv"), atomically: true, encoding: .utf8)
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.drift"), schema: try SchemaText.schema("id long not null, event_time timestamptz, n int"))
        configuration.format = .csv(delimiter: UInt8(ascii: ","))
        configuration.driftPolicy = policy
        configuration.badRecordPolicy = .skip
        let ingestor = Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: dir.appendingPathComponent("in").path, layout: .firehose))
        if policy == .fail {
            do {
                _ = try await ingestor.run()
                Issue.record("a new CSV column under 'fail' must stop the run")
            } catch let error as IngestError {
                #expect(error.code == .schemaDrift)
                #expect(error.message.contains("a.csv line 1: column 'browser'"), "\(error.message)")
            }
            return
        }
        let summary = try await ingestor.run()
        if policy == .addColumns {
            // The batch is parsed again under the evolved schema: the change, not the drift, is reported.
            #expect(summary.schemaChanges.contains("added browser: string") && summary.schemaChanges.contains { $0.hasPrefix("widened n") }, "\(summary.schemaChanges)")
        } else {
            let browser = summary.drift.first { $0.kind == .newField && $0.field == "browser" }
            #expect(browser?.count == 2 && browser?.examples.first?.hasSuffix("a.csv line 1") == true, "\(summary.drift)")
        }
        let output = try await PythonTool.run(Self.reader, arguments: [warehouse])
        let json = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
        guard case .array(let rows)? = json["rows"], case .array(let fields)? = json["schema"] else { Issue.record("unexpected: \(output)"); return }
        let names = fields.compactMap { field -> String? in
            if case .array(let parts) = field, case .string(let name) = parts[1], case .string(let type) = parts[2] { return "\(name) \(type)" }
            return nil
        }
        switch policy {
        case .ignore:
            #expect(summary.rows == 2 && summary.badRecords == 1)
            #expect(rows.map { $0["id"] } == [.int(1), .int(3)] && rows[0]["browser"] == nil)
        case .rescue:
            #expect(summary.rows == 3 && summary.badRecords == 0)
            #expect(rows[0]["_rescued_data"] == .string(#"{"browser":"firefox"}"#))
            #expect(rows[1]["_rescued_data"] == .string(#"{"n":"3000000000","browser":"curl, 8"}"#) && rows[1]["n"] == .null)
            #expect(rows[2]["_rescued_data"] == .null)
        case .addColumns:
            #expect(summary.rows == 3 && summary.badRecords == 0 && summary.snapshotIDs.count == 1)
            #expect(names.contains("n long") && names.contains("browser string"), "\(names)")
            #expect(rows[1]["n"] == .int(3_000_000_000) && rows[1]["browser"] == .string("curl, 8"))
            #expect(rows[2]["browser"] == .null)
        case .fail:
            break
        }
    }
}

extension SchemaDriftTests {
    /// A value past float's range widens a float column to double under add-columns (it would otherwise
    /// become infinity); under ignore it is a type mismatch.
    @Test func floatWidensToDouble() async throws {
        let dir = try TestEnvironment.temporaryDirectory("drift-float")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 2
        let folder = try PipelineSupport.hourFolder(in: dir, hour: hour)
        try "{\"id\": 1, \"r\": 0.5}\n{\"id\": 2, \"r\": 1e39}\n".write(to: folder.appendingPathComponent("a.json"), atomically: true, encoding: .utf8)
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.drift"), schema: try SchemaText.schema("id long not null, r float"))
        configuration.driftPolicy = .addColumns
        let summary = try await Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: dir.appendingPathComponent("in").path, layout: .firehose)).run()
        #expect(summary.rows == 2 && summary.schemaChanges == ["widened r: float to double"], "\(summary.schemaChanges)")
        let output = try await PythonTool.run(Self.reader, arguments: [warehouse])
        let json = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
        guard case .array(let rows)? = json["rows"] else { Issue.record("unexpected: \(output)"); return }
        #expect(rows[1]["r"] == .double(1e39) && rows[0]["r"] == .double(0.5))
    }
}
