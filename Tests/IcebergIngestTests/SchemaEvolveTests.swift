import Checkpoint
import Foundation
import IcebergCore
import S3Reader
import Testing
import TestSupport

@testable import IcebergIngest

/// `evolve`: the schema change that recorded drift calls for, applied in one overwrite commit with the
/// reprocessing of the objects that carried the dropped or rescued fields. Read back by PyIceberg and DuckDB.
@Suite(.withinOneHour) struct SchemaEvolveTests {
    static let schema = "id long not null, event_time timestamptz, n int, user struct<name string>"

    /// Hour H-3: `a.json` (clean) and `b.json` (a new field, a new nested field, an int past 2^31); hour
    /// H-2: `c.json` (clean). Committing every two objects puts a and b in one commit, sharing a data file.
    static func setUp(_ label: String, policy: DriftPolicy) throws -> (dir: URL, catalog: SQLiteCatalog, ingestor: Ingestor) {
        let dir = try TestEnvironment.temporaryDirectory(label)
        let hour = PrefixLayout.hour(of: Date()) - 3
        func write(_ name: String, hour: Int32, _ text: String) throws {
            let folder = try PipelineSupport.hourFolder(in: dir, hour: hour)
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let t = Int64(hour) * 3600
        try write("a.json", hour: hour, """
            {"id": 1, "event_time": \(t), "n": 1, "user": {"name": "ann"}}
            {"id": 2, "event_time": \(t + 1), "n": 2, "user": {"name": "bob"}}

            """)
        try write("b.json", hour: hour, """
            {"id": 3, "event_time": \(t + 2), "n": 3000000000, "user": {"name": "cy", "email": "cy@x"}, "browser": "firefox"}
            {"id": 4, "event_time": \(t + 3), "n": 4, "user": {"name": "di"}, "browser": "curl"}

            """)
        try write("c.json", hour: hour + 1, """
            {"id": 5, "event_time": \(t + 3600), "n": 5, "user": {"name": "ed"}}
            {"id": 6, "event_time": \(t + 3601), "n": 6, "user": {"name": "flo"}}

            """)
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.evolve"), schema: try SchemaText.schema(Self.schema))
        configuration.partitionSpec = try SchemaText.partitionSpec("hour(event_time)", schema: configuration.schema)
        configuration.driftPolicy = policy
        configuration.badRecordPolicy = .skip
        configuration.commitEveryObjects = 2
        let source = LocalFolderSource(root: dir.appendingPathComponent("in").path, layout: .firehose)
        return (dir, catalog, Ingestor(configuration: configuration, catalog: catalog, source: source))
    }

    /// Rows (sorted by id, without event_time), the schema, the number of schemas, the current snapshot's
    /// operation and summary, and DuckDB's count and sum of ids.
    static let reader = #"""
    import sys, json
    import duckdb
    from duckdb_extensions import import_extension
    from pyiceberg.catalog.sql import SqlCatalog
    c = SqlCatalog("default", uri="sqlite:///" + sys.argv[1] + "/catalog.db", warehouse="file://" + sys.argv[1])
    t = c.load_table("db.evolve")
    rows = sorted(t.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
    for r in rows:
        r.pop("event_time", None)
    snap = t.current_snapshot()
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions=false")
    for ext in ("avro", "iceberg"):
        import_extension(ext, con=con)
        con.execute(f"LOAD {ext}")
    count, ids = con.execute(f"SELECT count(*), sum(id) FROM iceberg_scan('{t.metadata_location}')").fetchone()
    print(json.dumps({
        "rows": rows, "schema": [f"{f.name} {f.field_type}" for f in t.schema().fields], "schemas": len(t.metadata.schemas),
        "schema_id": t.metadata.current_schema_id, "snapshot_schema_id": snap.schema_id,
        "operation": snap.summary.operation.value, "summary": {k: v for k, v in snap.summary.additional_properties.items() if not k.startswith("iceberg-ingest")},
        "duckdb": [count, int(ids)]}))
    """#

    static func read(_ dir: URL) async throws -> JSONValue {
        let output = try await PythonTool.run(reader, arguments: [dir.appendingPathComponent("wh").path])
        return try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func rows(_ json: JSONValue) -> [JSONValue] {
        if case .array(let rows)? = json["rows"] { return rows }
        return []
    }

    @Test func ignoredFieldsAreBackfilledInOneOverwriteCommit() async throws {
        let (dir, catalog, ingestor) = try Self.setUp("evolve-ignore", policy: .ignore)
        defer { TestEnvironment.cleanUp(dir) }
        let first = try await ingestor.run()
        #expect(first.rows == 5 && first.badRecords == 1 && first.snapshotIDs.count == 2)
        let before = try await catalog.loadTable(ingestor.configuration.table)

        // The plan: what changes, what is read again, what is replaced; nothing is committed.
        let preview = try await ingestor.evolve(apply: false)
        #expect(!preview.applied)
        #expect(preview.plan.changes == ["added browser: string", "added user.email: string", "widened n: int to long"], "\(preview.plan.changes)")
        #expect(preview.plan.driftedObjects.map { ($0 as NSString).lastPathComponent } == ["b.json"])
        #expect(preview.plan.objectsToReprocess.map { ($0 as NSString).lastPathComponent } == ["a.json", "b.json"])
        #expect(preview.plan.dataFilesToReplace.count == 1 && preview.plan.rowsToReplace == 3)
        let unchanged = try await catalog.loadTable(ingestor.configuration.table)
        #expect(unchanged.metadataLocation == before.metadataLocation)

        // --- README example (keep in step with README.md; ReadmeSnippetTests checks) ---
        let plan = try await ingestor.evolutionPlan()      // reads lineage and manifests, no input data
        print(plan.changes)                                // ["added browser: string", "widened n: int to long"]
        let done = try await ingestor.evolve(apply: true)  // the schema change and the reprocessing, atomically
        // --- end of the README example ---
        #expect(plan == preview.plan)
        #expect(done.applied && done.schemaID == 1)
        #expect(done.run?.objectsIngested == 2 && done.run?.rows == 4 && done.run?.dataFilesReplaced == 1 && done.run?.snapshotIDs.count == 1)

        let json = try await Self.read(dir)
        let rows = Self.rows(json)
        #expect(rows.map { $0["id"] } == (1...6).map { .int(Int64($0)) }, "every row once, the skipped one recovered: \(rows)")
        #expect(rows[2]["n"] == .int(3_000_000_000) && rows[2]["browser"] == .string("firefox"))
        #expect(rows[2]["user"]?["email"] == .string("cy@x") && rows[3]["browser"] == .string("curl"))
        // Rows of objects without the field read null in the new columns.
        #expect(rows[0]["browser"] == .null && rows[4]["browser"] == .null && rows[5]["user"]?["email"] == .null)
        #expect(json["schemas"] == .int(2) && json["schema_id"] == .int(1) && json["snapshot_schema_id"] == .int(1))
        #expect(json["operation"] == .string("overwrite"))
        #expect(json["summary"]?["deleted-data-files"] == .string("1") && json["summary"]?["total-records"] == .string("6"), "\(json["summary"] ?? .null)")
        #expect(json["duckdb"] == .array([.int(6), .int(21)]))

        // Nothing is left to evolve, and the next run reads nothing again.
        let again = try await ingestor.evolve(apply: true)
        #expect(again.plan.isEmpty && !again.applied)
        let next = try await ingestor.run()
        #expect(next.objectsIngested == 0 && next.objectsAlreadyIngested == 3)
    }

    @Test func rescuedValuesMoveIntoTheirNewColumns() async throws {
        let (dir, _, ingestor) = try Self.setUp("evolve-rescue", policy: .rescue)
        defer { TestEnvironment.cleanUp(dir) }
        let first = try await ingestor.run()
        #expect(first.rows == 6 && first.badRecords == 0)
        let done = try await ingestor.evolve(apply: true)
        #expect(done.applied && done.plan.objectsToReprocess.count == 2)
        let rows = await Self.rows(try Self.read(dir))
        #expect(rows.count == 6)
        #expect(rows[2]["n"] == .int(3_000_000_000) && rows[2]["browser"] == .string("firefox") && rows[2]["_rescued_data"] == .null, "\(rows[2])")
        #expect(rows[3]["browser"] == .string("curl") && rows[3]["_rescued_data"] == .null)
    }

    /// A compaction between the ingestion and the evolution (upkeep turned on) rewrote the file of the
    /// drifted object together with a clean object's file: the evolution follows the rows through the
    /// compaction's `replace` snapshot, reads both objects again and replaces the compacted file, exactly once;
    /// an object ingested after the compaction into the same partition is left alone. A second compaction and
    /// evolution after more drift follow two rewrites.
    @Test func evolutionFollowsRowsThroughCompactions() async throws {
        let (dir, catalog, plain) = try Self.setUp("evolve-compacted", policy: .ignore)
        defer { TestEnvironment.cleanUp(dir) }
        var configuration = plain.configuration
        configuration.commitEveryObjects = 1  // a and b in files of their own, in one partition
        let ingestor = Ingestor(configuration: configuration, catalog: catalog, source: plain.source)
        _ = try await ingestor.run()
        func compact() async throws -> Compaction.Result {
            var compaction = Compaction(table: try await catalog.loadTable(configuration.table), catalog: catalog)
            compaction.targetFileSizeBytes = 64 << 20
            return try await compaction.run()
        }
        let first = try await compact()
        #expect(first.inputFiles.count == 2 && first.outputFiles.count == 1, "a's and b's files become one")
        let hour = PrefixLayout.hour(of: Date()) - 3
        let folder = dir.appendingPathComponent("in/" + PrefixLayout.firehose.prefix(forHour: hour))
        try "{\"id\": 7, \"event_time\": \(Int64(hour) * 3600 + 9), \"n\": 7}\n".write(to: folder.appendingPathComponent("d.json"), atomically: true, encoding: .utf8)
        _ = try await ingestor.run()
        // Our expiry removes the compaction's snapshot from the history, having saved what it rewrote.
        var expire = ExpireSnapshots(table: try await catalog.loadTable(configuration.table), catalog: catalog)
        expire.keepingRewriteHistory()
        expire.olderThanMillis = WallClock.nowMillis() + 1000
        expire.retainLast = 1
        let expired = try await expire.run()
        #expect(expired.expiredSnapshotIDs.contains(try #require(first.snapshotID)))

        let plan = try await ingestor.evolutionPlan()
        #expect(plan.objectsToReprocess.map { ($0 as NSString).lastPathComponent } == ["a.json", "b.json"], "\(plan.objectsToReprocess)")
        #expect(plan.dataFilesToReplace == first.outputFiles && plan.rowsToReplace == 3, "\(plan)")
        let done = try await ingestor.evolve(apply: true)
        #expect(done.applied && done.run?.dataFilesReplaced == 1)
        var rows = await Self.rows(try Self.read(dir))
        #expect(rows.map { $0["id"] } == [1, 2, 3, 4, 5, 6, 7].map { .int(Int64($0)) }, "every row once: \(rows)")
        #expect(rows[2]["n"] == .int(3_000_000_000) && rows[2]["browser"] == .string("firefox"))

        // More drift in a new object, then a compaction of everything in that partition, then an evolution.
        try "{\"id\": 8, \"event_time\": \(Int64(hour) * 3600 + 10), \"n\": 8, \"os\": \"linux\"}\n".write(
            to: folder.appendingPathComponent("e.json"), atomically: true, encoding: .utf8)
        _ = try await ingestor.run()
        let second = try await compact()
        #expect(second.inputFiles.count == 3, "the evolution's file, d's and e's: \(second.inputFiles)")
        let again = try await ingestor.evolve(apply: true)
        #expect(again.plan.changes == ["added os: string"], "\(again.plan.changes)")
        #expect(again.plan.objectsToReprocess.map { ($0 as NSString).lastPathComponent } == ["a.json", "b.json", "d.json", "e.json"], "\(again.plan.objectsToReprocess)")
        rows = await Self.rows(try Self.read(dir))
        #expect(rows.map { $0["id"] } == (1...8).map { .int(Int64($0)) }, "every row once: \(rows)")
        #expect(rows[7]["os"] == .string("linux") && rows[2]["browser"] == .string("firefox"))
    }

    /// A compaction whose snapshot another engine's expiry removed (nothing left says where the rows went),
    /// and a foreign overwrite of the rows, stop the evolution with `lineage-broken`, naming why.
    @Test func anUnfollowableRewriteStopsTheEvolution() async throws {
        let (dir, catalog, plain) = try Self.setUp("evolve-expired", policy: .ignore)
        defer { TestEnvironment.cleanUp(dir) }
        var configuration = plain.configuration
        configuration.commitEveryObjects = 1
        let ingestor = Ingestor(configuration: configuration, catalog: catalog, source: plain.source)
        _ = try await ingestor.run()
        // Compacted, then expired without saving the rewrite (as another engine's expiry does).
        let (expiredDir, expiredCatalog, expiredPlain) = try Self.setUp("evolve-expired-2", policy: .ignore)
        defer { TestEnvironment.cleanUp(expiredDir) }
        let other = Ingestor(configuration: configuration, catalog: expiredCatalog, source: expiredPlain.source)
        _ = try await other.run()
        var compaction = Compaction(table: try await expiredCatalog.loadTable(configuration.table), catalog: expiredCatalog)
        compaction.targetFileSizeBytes = 64 << 20
        #expect(try await compaction.run().snapshotID != nil)
        let later = expiredDir.appendingPathComponent("in/" + PrefixLayout.firehose.prefix(forHour: PrefixLayout.hour(of: Date()) - 2))
        try "{\"id\": 9, \"event_time\": 0, \"n\": 9}\n".write(to: later.appendingPathComponent("z.json"), atomically: true, encoding: .utf8)
        #expect(try await other.run().objectsIngested == 1, "the compaction is no longer the head")
        var expire = ExpireSnapshots(table: try await expiredCatalog.loadTable(configuration.table), catalog: expiredCatalog)
        expire.olderThanMillis = WallClock.nowMillis() + 1000
        _ = try await expire.run()
        do {
            _ = try await other.evolutionPlan()
            Issue.record("a rewrite no longer in the history must stop the evolution")
        } catch let error as IngestError {
            #expect(error.code == .lineageBroken && error.message.contains("no snapshot left in its history rewrote it"), "\(error.message)")
        }

        // Another writer's overwrite of b's file (rows changed): following it would undo the change.
        let table = try await catalog.loadTable(configuration.table)
        let files = try await table.liveDataFiles()
        let lineage = try await ingestor.evolutionPlan()
        let bFile = try #require(lineage.dataFilesToReplace.first)
        var overwrite = RewriteFiles(table: table, catalog: catalog, operation: .overwrite)
        overwrite.delete(paths: [bFile])
        var copy = try #require(files.first { $0.filePath == bFile })
        copy.filePath = bFile.replacingOccurrences(of: ".parquet", with: "-copy.parquet")
        try FileManager.default.copyItem(atPath: bFile, toPath: copy.filePath)
        overwrite.add(contentsOf: [copy])
        _ = try await overwrite.commit()
        do {
            _ = try await ingestor.evolutionPlan()
            Issue.record("an overwrite by another writer must stop the evolution")
        } catch let error as IngestError {
            #expect(error.code == .lineageBroken && error.message.contains("(overwrite) changed them"), "\(error.message)")
        }
    }

    /// An object changed in the source since it was ingested cannot be reprocessed exactly: the evolution
    /// stops naming it, and the table is untouched.
    @Test func aChangedSourceObjectStopsTheEvolution() async throws {
        let (dir, catalog, ingestor) = try Self.setUp("evolve-changed", policy: .ignore)
        defer { TestEnvironment.cleanUp(dir) }
        _ = try await ingestor.run()
        let before = try await catalog.loadTable(ingestor.configuration.table)
        let folder = dir.appendingPathComponent("in/" + PrefixLayout.firehose.prefix(forHour: PrefixLayout.hour(of: Date()) - 3))
        try "{\"id\": 1, \"event_time\": 0}\n".write(to: folder.appendingPathComponent("a.json"), atomically: true, encoding: .utf8)
        do {
            _ = try await ingestor.evolve(apply: true)
            Issue.record("a changed object must stop the evolution")
        } catch let error as IngestError {
            #expect(error.code == .inputChanged && error.message.contains("a.json") && error.message.contains("changed since it was ingested"), "\(error.message)")
        }
        #expect(try await catalog.loadTable(ingestor.configuration.table).metadataLocation == before.metadataLocation)
    }

    /// Another writer changes the schema while the evolution commits: it fails cleanly (its schema change
    /// rests on the old schema), the table is as before, and evolving again lands on top of the other change.
    @Test func aConcurrentSchemaChangeFailsCleanlyThenEvolvesAgain() async throws {
        let (dir, catalog, plain) = try Self.setUp("evolve-conflict", policy: .ignore)
        defer { TestEnvironment.cleanUp(dir) }
        _ = try await plain.run()
        var configuration = plain.configuration
        configuration.tableProperties = ["commit.retry.num-retries": "1", "commit.retry.min-wait-ms": "10"]
        let interfering = Ingestor(configuration: configuration, catalog: interferingCatalog(inner: catalog), source: plain.source)
        do {
            _ = try await interfering.evolve(apply: true)
            Issue.record("the evolution must not commit over another writer's schema")
        } catch let error as IcebergError {
            #expect(error.code == .commitConflict)
        }
        let between = try await catalog.loadTable(configuration.table)
        #expect(between.metadata.currentSchema.field(named: "browser") == nil)
        #expect(between.metadata.currentSnapshot?.summary["total-records"] == "5")
        let done = try await plain.evolve(apply: true)
        #expect(done.applied && done.run?.orphanFilesDeleted ?? 0 > 0)
        let json = try await Self.read(dir)
        #expect(Self.rows(json).count == 6)
        guard case .array(let fields)? = json["schema"] else { Issue.record("no schema"); return }
        #expect(fields.contains(.string("added_by_other_tool string")) && fields.contains(.string("browser string")))
    }

    /// The example executable: `evolve` prints the plan, `evolve --apply` commits; a crash after the new
    /// manifests are written leaves the table as it was, and evolving again finishes the job exactly once.
    @Test func commandLineEvolveSurvivesACrash() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let (dir, _, ingestor) = try Self.setUp("evolve-cli", policy: .ignore)
        defer { TestEnvironment.cleanUp(dir) }
        _ = try await ingestor.run()
        let warehouse = dir.appendingPathComponent("wh").path
        let common = [
            "--source", dir.appendingPathComponent("in").path, "--layout", "firehose", "--table", "db.evolve", "--schema", Self.schema,
            "--partition", "hour(event_time)", "--warehouse", warehouse, "--catalog", "sqlite:\(warehouse)/catalog.db",
            "--bad-records", "skip",
        ]
        let plan = try await TestProcesses.run(executable, arguments: ["evolve"] + common)
        #expect(plan.status == 0 && plan.stdout.contains("schema: added browser: string") && plan.stdout.contains("objects to read again: 2"), "\(plan.stdout)\(plan.stderr)")
        let crashed = try await TestProcesses.run(executable, arguments: ["evolve", "--apply", "--json"] + common, environment: ["ICEBERG_INGEST_FAIL_POINT": "after-manifest"])
        #expect(crashed.status == 86, "\(crashed.stderr)")
        await #expect(Self.rows(try Self.read(dir)).count == 5)
        let applied = try await TestProcesses.run(executable, arguments: ["evolve", "--apply", "--json"] + common, environment: ["ICEBERG_INGEST_FAIL_POINT": ""])
        #expect(applied.status == 0, "\(applied.stderr)")
        let summary = try JSONValue.parse(applied.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(summary["applied"] == .bool(true) && summary["run"]?["orphanFilesDeleted"] != .int(0), "\(applied.stdout)")
        let rows = await Self.rows(try Self.read(dir))
        #expect(rows.map { $0["id"] } == (1...6).map { .int(Int64($0)) })
        // Every Parquet file under the table is live: the crashed attempt's files were deleted, the replaced
        // file is no longer referenced by the current snapshot (it stays for time travel until expiry).
        let table = try await ingestor.catalog.loadTable(ingestor.configuration.table)
        let live = Set(try await table.liveDataFiles().map(\.filePath))
        let onDisk = CrashRecoveryTests.parquetFiles(under: table.metadata.location + "/data")
        #expect(live.isSubset(of: onDisk) && onDisk.subtracting(live).count == 1, "\(onDisk.subtracting(live))")
    }
}
