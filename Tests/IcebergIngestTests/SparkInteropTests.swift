import Foundation
import IcebergCore
import IcebergIngest
import Testing
import TestSupport

/// Java Iceberg (Spark 3.5 with iceberg-spark-runtime 1.9.2, one session for the whole run) on the tables we
/// write and we on the tables it writes, through the object-store catalog's folders, which are the Hadoop
/// catalog's: every value, every partition transform, the metadata tables, time travel, upkeep on both sides,
/// row-level deletes, concurrent commits, and a format this library does not write.
@Suite struct SparkInteropTests {
    // MARK: The input and what Spark must return for it

    /// Every primitive type Spark reads (not `time`: Spark has no time type and Java Iceberg refuses to
    /// read such a column there), nested struct, list and map.
    static let schemaText =
        "id long not null, b boolean, i int, l long, f float, d double, dec decimal(10,2), big decimal(28,6), day date, "
        + "ts timestamp, tstz timestamptz, s string, u uuid, fx fixed[4], bin binary, st struct<name string, n int>, "
        + "tags list<string>, attrs map<string, long>"

    static let strings = ["alpha", "beta", "", "ünïcødé ✓", "with \"quotes\" and \\", "line\nbreak", "gamma", "ab"]

    /// Row `k` of the input as a JSON object, and what Spark answers for it (in the same column order).
    static func row(_ k: Int) -> (input: JSONValue, expected: [JSONValue]) {
        let empty = k % 5 == 4  // every optional column null
        let cents = k * 1337 - 5000
        let dec = (cents < 0 ? "-" : "") + "\(abs(cents) / 100)." + String(format: "%02d", abs(cents) % 100)
        let big = "\(k + 1)23456789012345678.00000\(k % 10)"
        let day = String(format: "%04d-%02d-%02d", 2024 + k % 3, 1 + k % 12, 1 + k % 28)
        // Timestamps with microseconds, an hour and a bit apart, across days and a year boundary.
        let micros = Int64(1_735_600_000_000_000) + Int64(k) * 3_723_456_789 + Int64(k + 1)
        let iso = Self.iso(micros)
        let uuid = String(format: "%08x-0000-4000-8000-%012x", k * 7919, k * 104_729)
        let fixed: [UInt8] = [UInt8(k), 0xff, 0x00, UInt8(255 - k)]
        let binary: [UInt8] = (0..<(k % 4)).map { UInt8(($0 * 37 + k) & 0xff) }
        let s = strings[k % strings.count]
        let tags: [String] = k % 3 == 0 ? [] : (0..<(k % 3)).map { "t\(k)-\($0)" }
        var input: [(String, JSONValue)] = [("id", .int(Int64(k + 1)))]
        var expected: [JSONValue] = [.int(Int64(k + 1))]
        func add(_ name: String, _ value: JSONValue, _ spark: JSONValue) {
            input.append((name, empty ? .null : value))
            expected.append(empty ? .null : spark)
        }
        add("b", .bool(k % 2 == 0), .bool(k % 2 == 0))
        add("i", .int(Int64(k * 7 - 50)), .int(Int64(k * 7 - 50)))
        add("l", .int(Int64(k) * 1_000_000_007 - 3), .int(Int64(k) * 1_000_000_007 - 3))
        add("f", .double(Double(k) * 0.25), .double(Double(k) * 0.25))
        add("d", .double(Double(k) * 1.5 + 0.125), .double(Double(k) * 1.5 + 0.125))
        add("dec", .string(dec), .string(dec))
        add("big", .string(big), .string(big))
        add("day", .string(day), .string(day))
        add("ts", .string(iso), .string(iso))
        add("tstz", .string(iso + "Z"), .string(iso))
        add("s", .string(s), .string(s))
        add("u", .string(uuid), .string(uuid))
        add("fx", .string(Data(fixed).base64EncodedString()), .string(Self.hex(fixed)))
        add("bin", .string(Data(binary).base64EncodedString()), .string(Self.hex(binary)))
        add("st", .object([("name", .string("n\(k)")), ("n", .int(Int64(k)))]), .object([("name", .string("n\(k)")), ("n", .int(Int64(k)))]))
        add("tags", .array(tags.map { .string($0) }), .array(tags.map { .string($0) }))
        add("attrs", .object([("a", .int(Int64(k))), ("b", .int(Int64(-k)))]), .array([.array([.string("a"), .int(Int64(k))]), .array([.string("b"), .int(Int64(-k))])]))
        return (.object(input), expected)
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Python's `datetime.isoformat()` of a UTC instant in microseconds (the fraction only when non-zero).
    static func iso(_ micros: Int64) -> String {
        let seconds = micros / 1_000_000, fraction = micros % 1_000_000
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        let base = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        return fraction == 0 ? base : base + String(format: ".%06lld", fraction)
    }

    /// Writes `count` rows (from `first`) as JSON lines, `perFile` per object, under one Firehose hour folder.
    static func writeInput(_ input: String, first: Int = 0, count: Int, perFile: Int, hour: String = "2026/11/29/10") throws {
        let folder = input + "/" + hour
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for start in stride(from: first, to: first + count, by: perFile) {
            let lines = (start..<min(start + perFile, first + count)).map { row($0).input.serialized() }
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: "\(folder)/part-\(String(format: "%05d", start)).json"))
        }
    }

    /// A test's folder (remove it when done), its input folder, its warehouse and the warehouse's Spark catalog.
    static func folders(_ label: String) throws -> (dir: URL, input: String, warehouse: String, catalog: String) {
        let dir = try TestEnvironment.temporaryDirectory(label)
        let warehouse = dir.path + "/wh"
        return (dir, dir.path + "/input", warehouse, SparkSession.catalog(for: warehouse))
    }

    /// The CLI's arguments for `command` on `db.<table>` of the object-store catalog at `warehouse`.
    static func arguments(_ command: String, input: String, warehouse: String, table: String, schema: String = schemaText, partition: String = "") -> [String] {
        [
            command, "--source", input, "--layout", "firehose", "--table", "db.\(table)", "--schema", schema, "--partition", partition,
            "--warehouse", warehouse, "--catalog", "file:\(warehouse)", "--start-at", "2026-11-29T00", "--late-arrival-hours", "6",
        ]
    }

    @discardableResult
    static func cli(_ arguments: [String], expect status: Int32 = 0) async throws -> PythonTool.Output {
        let output = try await TestProcesses.run(try TestEnvironment.executable("iceberg-ingest"), arguments: arguments)
        #expect(output.status == status, "iceberg-ingest \(arguments.prefix(1)): \(output.stderr)")
        return output
    }

    static func objectStore(_ warehouse: String) -> ObjectStoreCatalog { ObjectStoreCatalog(warehouse: warehouse, io: LocalFileIO()) }

    /// Compares Spark's rows with the expected ones value by value, naming the row and the column of a mismatch.
    static func expectRows(_ answer: SparkSession.Answer, _ expected: [[JSONValue]], _ context: String) {
        #expect(answer.rows.count == expected.count, "\(context): \(answer.rows.count) rows, expected \(expected.count)")
        for (got, want) in zip(answer.rows, expected) where got != want {
            for (i, (g, w)) in zip(got, want).enumerated() where g != w {
                Issue.record("\(context): id \(want[0]), column \(answer.columns[i]): Spark read \(g.serialized()), expected \(w.serialized())")
            }
        }
    }

    // MARK: Spark reads what we write

    /// One input of 24 rows (every type, nulls included) ingested into tables with every partition transform;
    /// Spark reads each back value by value, and its partition pruning returns the same rows.
    @Test func sparkReadsEveryValueUnderEveryTransform() async throws {
        let (dir, input, warehouse, h) = try Self.folders("spark-types")
        defer { TestEnvironment.cleanUp(dir) }
        try Self.writeInput(input, count: 24, perFile: 8)
        let specs = [
            "identity": "b, i", "years": "year(ts)", "months": "month(day)", "days": "day(tstz), bucket(4, id)",
            "hours": "hour(tstz)", "truncated": "truncate(2, s), truncate(1000, l), truncate(10, dec), bucket(3, u)",
        ]
        for (table, spec) in specs.sorted(by: { $0.key < $1.key }) {
            try await Self.cli(Self.arguments("run", input: input, warehouse: warehouse, table: table, partition: spec))
        }
        let expected = (0..<24).map { Self.row($0).expected }
        let spark = SparkSession.shared
        for table in specs.keys.sorted() {
            let answers = try await spark.sql(
                [
                    "SELECT * FROM \(h).db.\(table) ORDER BY id",
                    "SELECT count(*) FROM \(h).db.\(table) WHERE tstz >= TIMESTAMP '2025-01-01 00:00:00' AND s = 'beta'",
                    "SELECT spec_id, count(*) FROM \(h).db.\(table).files GROUP BY spec_id",
                ], warehouse: warehouse)
            Self.expectRows(answers[0], expected, "\(table) (\(specs[table]!))")
            #expect(answers[0].columns == ["id", "b", "i", "l", "f", "d", "dec", "big", "day", "ts", "tstz", "s", "u", "fx", "bin", "st", "tags", "attrs"])
            let filtered = (0..<24).filter { $0 % 5 != 4 && Self.strings[$0 % Self.strings.count] == "beta" && Self.iso(Int64(1_735_600_000_000_000) + Int64($0) * 3_723_456_789 + Int64($0 + 1)) >= "2025-01-01" }
            #expect(answers[1].rows == [[.int(Int64(filtered.count))]], "\(table): a filtered read")
            let files = try await Self.objectStore(warehouse).loadTable(try TableIdentifier(parsing: "db.\(table)")).liveDataFiles()
            #expect(answers[2].rows == [[.int(0), .int(Int64(files.count))]], "\(table): Spark's files table against ours")
        }
    }

    /// Several ingestion commits, then our compaction, snapshot expiry and orphan removal: Spark reads the
    /// same rows, its `snapshots`, `history`, `files` and `manifests` tables agree with our metadata, and time
    /// travel to each snapshot we kept returns the row count its summary records.
    @Test func sparkAgreesAfterUpkeep() async throws {
        let (dir, input, warehouse, h) = try Self.folders("spark-upkeep")
        defer { TestEnvironment.cleanUp(dir) }
        try Self.writeInput(input, count: 40, perFile: 4)
        var run = Self.arguments("run", input: input, warehouse: warehouse, table: "events", partition: "bucket(2, id)")
        run += ["--commit-every-objects", "3"]
        try await Self.cli(run)
        let before = try await Self.objectStore(warehouse).loadTable(try TableIdentifier(parsing: "db.events"))
        #expect(before.metadata.snapshots.count == 4)
        let common = Self.arguments("compact", input: input, warehouse: warehouse, table: "events", partition: "bucket(2, id)")
        let compacted = try await Self.cli(common + ["--json"])
        #expect(compacted.stdout.contains("\"snapshotID\""), "\(compacted.stdout)")
        var expire = common
        expire[0] = "expire-snapshots"
        try await Self.cli(expire + ["--older-than", "0s", "--retain-last", "2"])
        var orphans = common
        orphans[0] = "remove-orphans"
        try await Self.cli(orphans + ["--older-than", "0s"])

        let table = try await Self.objectStore(warehouse).loadTable(try TableIdentifier(parsing: "db.events"))
        let files = try await table.liveDataFiles()
        #expect(files.count == 2, "compaction leaves one file per bucket")
        let spark = SparkSession.shared
        let answers = try await spark.sql(
            [
                "SELECT * FROM \(h).db.events ORDER BY id",
                "SELECT snapshot_id, parent_id, operation FROM \(h).db.events.snapshots ORDER BY committed_at",
                "SELECT snapshot_id FROM \(h).db.events.history ORDER BY made_current_at",
                "SELECT file_path, record_count FROM \(h).db.events.files ORDER BY file_path",
                "SELECT path FROM \(h).db.events.manifests ORDER BY path",
            ], warehouse: warehouse)
        Self.expectRows(answers[0], (0..<40).map { Self.row($0).expected }, "after upkeep")
        let ours = table.metadata.snapshots
        #expect(answers[1].rows.map { $0[0] } == ours.map { .int($0.id) }, "snapshots")
        #expect(answers[1].rows.last?[2] == .string("replace"))
        #expect(answers[2].rows.map { $0[0] } == table.metadata.snapshotLog.map { .int($0.snapshotID) }, "history")
        // Spark names local files with a `file:` scheme; ours are absolute paths.
        let sparkFiles: [String] = answers[3].rows.compactMap { if case .string(let p) = $0[0] { p.replacingOccurrences(of: "file:", with: "") } else { nil } }
        #expect(sparkFiles == files.map(\.filePath).sorted(), "files")
        let sparkRecords: [Int64] = answers[3].rows.compactMap { if case .int(let n) = $0[1] { n } else { nil } }
        #expect(sparkRecords.reduce(0, +) == 40)
        let manifests = try ManifestCodec.readManifestList(try await table.io.read(table.metadata.currentSnapshot!.manifestList), location: "list")
        #expect(answers[4].rows.count == manifests.count, "manifests")
        for snapshot in ours {
            let count = try await spark.sql("SELECT count(*) FROM \(h).db.events VERSION AS OF \(snapshot.id)", warehouse: warehouse)
            let total = Int64(snapshot.summary["total-records"] ?? "") ?? -1
            #expect(count.rows == [[.int(total)]], "time travel to \(snapshot.id)")
        }
    }

    /// Schema evolution across the two: drift ignored, then Spark's `rewrite_data_files` compacts our files,
    /// then our `evolve --apply` follows the rows through Spark's rewrite and backfills the new column; Spark
    /// reads it, renames it and widens another column; our next run writes under the renamed, widened
    /// columns; Spark reads every value. A second table keeps drift in `_rescued_data`, which Spark reads;
    /// after Spark's copy-on-write `DELETE` of one of its rows, `evolve` refuses (reading the source again
    /// would bring the row back).
    @Test func schemaEvolutionAcrossSparkAndUs() async throws {
        let (dir, input, warehouse, h) = try Self.folders("spark-evolve")
        defer { TestEnvironment.cleanUp(dir) }
        let spark = SparkSession.shared
        let folder = input + "/2026/11/29/10"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func write(_ name: String, _ lines: [String]) throws {
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: "\(folder)/\(name)"))
        }
        try write("a.json", [#"{"id":1,"ts":"2026-11-29T10:00:00Z","n":1}"#, #"{"id":2,"ts":"2026-11-29T10:01:00Z","n":2}"#])
        try write("b.json", [#"{"id":3,"ts":"2026-11-29T10:02:00Z","n":3,"browser":"firefox"}"#, #"{"id":4,"ts":"2026-11-29T10:03:00Z","n":4,"browser":"curl"}"#])
        try write("c.json", [#"{"id":5,"ts":"2026-11-29T10:04:00Z","n":5}"#])
        let schema = "id long not null, ts timestamptz, n int"
        func arguments(_ command: String, table: String, drift: String) -> [String] {
            Self.arguments(command, input: input, warehouse: warehouse, table: table, schema: schema, partition: "day(ts)")
                + ["--drift", drift, "--commit-every-objects", "1"]
        }
        try await Self.cli(arguments("run", table: "ev", drift: "ignore"))
        try await Self.cli(arguments("run", table: "rescued", drift: "rescue"))
        let rewrite = try await spark.sql(
            [
                "CALL \(h).system.rewrite_data_files(table => 'db.ev', options => map('min-input-files', '2'))",
                "SELECT operation FROM \(h).db.ev.snapshots ORDER BY committed_at DESC LIMIT 1",
                "SELECT id, _rescued_data FROM \(h).db.rescued ORDER BY id",
            ], warehouse: warehouse)
        #expect(rewrite[0].rows.first?.first == .int(3), "Spark rewrote our three files: \(rewrite[0].rows)")
        #expect(rewrite[1].rows == [[.string("replace")]])
        let rescued = try rewrite[2].column("_rescued_data")
        #expect(rescued[0] == .null && rescued[4] == .null)
        for (i, value) in [(2, "firefox"), (3, "curl")] {
            guard case .string(let text) = rescued[i], text.contains("browser"), text.contains(value) else {
                Issue.record("_rescued_data of id \(i + 1): \(rescued[i])")
                continue
            }
        }

        let evolved = try await Self.cli(arguments("evolve", table: "ev", drift: "ignore") + ["--apply", "--json"])
        let summary = try JSONValue.parse(evolved.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        guard case .array(let objects)? = summary["plan"]?["objectsToReprocess"] else { throw TestEnvironmentError("no plan: \(evolved.stdout)") }
        #expect(objects.count == 3 && summary["applied"] == .bool(true), "every object compacted with b is read again: \(evolved.stdout)")
        let afterEvolve = try await spark.sql(
            [
                "SELECT id, n, browser FROM \(h).db.ev ORDER BY id",
                "ALTER TABLE \(h).db.ev RENAME COLUMN browser TO agent",
                "ALTER TABLE \(h).db.ev ALTER COLUMN n TYPE bigint",
            ], warehouse: warehouse)
        let browsers: [JSONValue] = [.null, .null, .string("firefox"), .string("curl"), .null]
        let wanted: [[JSONValue]] = (1...5).map { id in [JSONValue.int(Int64(id)), JSONValue.int(Int64(id)), browsers[id - 1]] }
        #expect(afterEvolve[0].rows == wanted, "\(afterEvolve[0].rows)")

        // Our next run writes under Spark's renamed and widened columns (matched by name, typed by the table).
        try write("d.json", [#"{"id":6,"ts":"2026-11-29T10:05:00Z","n":6000000000,"agent":"wget"}"#])
        try await Self.cli(arguments("run", table: "ev", drift: "fail"))
        let final = try await spark.sql("SELECT id, n, agent FROM \(h).db.ev ORDER BY id", warehouse: warehouse)
        let sixth: [JSONValue] = [.int(6), .int(6_000_000_000), .string("wget")]
        let third: [JSONValue] = [.int(3), .int(3), .string("firefox")]
        #expect(final.rows.count == 6 && final.rows.last == sixth && final.rows[2] == third, "\(final.rows)")

        // Spark deletes a row of the rescued table; reprocessing its object would bring it back.
        _ = try await spark.sql("DELETE FROM \(h).db.rescued WHERE id = 3", warehouse: warehouse)
        let refused = try await Self.cli(arguments("evolve", table: "rescued", drift: "rescue") + ["--apply"], expect: 1)
        #expect(refused.stderr.contains("lineage-broken") && refused.stderr.contains("changed them"), "\(refused.stderr)")
        let kept = try await spark.sql("SELECT id FROM \(h).db.rescued ORDER BY id", warehouse: warehouse)
        #expect(kept.rows == [[.int(1)], [.int(2)], [.int(4)], [.int(5)]])
    }

    // MARK: We read and extend what Spark writes

    /// A table Spark created (its own partitioning, sort order and snappy Parquet) and appended to, whose
    /// schema Spark then evolved: our ingestion appends to it; Spark deletes rows merge-on-read (position
    /// delete files) and copy-on-write; our next append keeps the deletes, our compaction leaves the files
    /// the deletes apply to alone and compacts the rest, our expiry keeps what the deletes need; Spark and
    /// PyIceberg read exactly the rows that should be there.
    @Test func weExtendWhatSparkWrites() async throws {
        let (dir, input, warehouse, h) = try Self.folders("spark-writes")
        defer { TestEnvironment.cleanUp(dir) }
        let spark = SparkSession.shared
        _ = try await spark.sql(
            [
                "CREATE TABLE \(h).db.mixed (id bigint NOT NULL, name string, ts timestamp) USING iceberg PARTITIONED BY (days(ts)) "
                    + "TBLPROPERTIES ('format-version'='2', 'write.parquet.compression-codec'='snappy', 'commit.retry.num-retries'='20')",
                "ALTER TABLE \(h).db.mixed WRITE ORDERED BY id",
                "INSERT INTO \(h).db.mixed VALUES (1001, 'spark-1', TIMESTAMP '2026-11-28 10:00:00'), (1002, 'spark-2', TIMESTAMP '2026-11-29 10:00:00')",
                "ALTER TABLE \(h).db.mixed SET TBLPROPERTIES ('write.parquet.compression-codec'='gzip')",
                "INSERT INTO \(h).db.mixed VALUES (1003, 'spark-3', TIMESTAMP '2026-11-29 11:00:00')",
                "ALTER TABLE \(h).db.mixed ADD COLUMN extra string",
                "INSERT INTO \(h).db.mixed VALUES (1004, 'spark-4', TIMESTAMP '2026-11-29 12:00:00', 'x4')",
            ], warehouse: warehouse)
        // Our rows: 30 in three objects of one hour's folder, committed one object at a time; the first
        // object's rows fall on the 29th (beside Spark's), the other two's on the 27th.
        let folder = input + "/2026/11/29/10"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for part in 0..<3 {
            let lines = (0..<10).map { n -> String in
                let id = part * 10 + n + 1
                let day = part == 0 ? 29 : 27
                return #"{"id":\#(id),"name":"ours-\#(id)","ts":"2026-11-\#(day)T10:\#(String(format: "%02d", n)):00","extra":"e\#(id)"}"#
            }
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: "\(folder)/part-\(part).json"))
        }
        let schema = "id long not null, name string, ts timestamp, extra string"
        var run = Self.arguments("run", input: input, warehouse: warehouse, table: "mixed", schema: schema, partition: "day(ts)")
        run += ["--commit-every-objects", "1"]
        try await Self.cli(run)
        var expected = Set(1...30).union(1001...1004)
        func sparkIDs() async throws -> Set<Int> {
            let answer = try await spark.sql("SELECT id FROM \(h).db.mixed", warehouse: warehouse)
            return Set(answer.rows.compactMap { if case .int(let id) = $0[0] { Int(id) } else { nil } })
        }
        #expect(try await sparkIDs() == expected, "Spark reads our appends on its table")

        // Row-level deletes: merge-on-read (position delete files) on the 29th, copy-on-write on the 28th.
        _ = try await spark.sql(
            [
                "ALTER TABLE \(h).db.mixed SET TBLPROPERTIES ('write.delete.mode'='merge-on-read')",
                "DELETE FROM \(h).db.mixed WHERE id IN (3, 5, 1002)",
                "ALTER TABLE \(h).db.mixed SET TBLPROPERTIES ('write.delete.mode'='copy-on-write')",
                "DELETE FROM \(h).db.mixed WHERE id = 1001",
            ], warehouse: warehouse)
        expected.subtract([3, 5, 1002, 1001])
        let table = try await Self.objectStore(warehouse).loadTable(try TableIdentifier(parsing: "db.mixed"))
        let deletes = try await table.liveDeleteFiles()
        #expect(!deletes.isEmpty && deletes.allSatisfy { $0.content == 1 }, "Spark's merge-on-read DELETE wrote position delete files")

        // Our next append (a new object) keeps the delete files; our compaction leaves their partition alone.
        try Data(#"{"id":31,"name":"ours-31","ts":"2026-11-29T10:59:00","extra":"e31"}"#.utf8).write(to: URL(fileURLWithPath: "\(folder)/part-3.json"))
        try await Self.cli(run)
        expected.insert(31)
        let appended = try await Self.objectStore(warehouse).loadTable(try TableIdentifier(parsing: "db.mixed"))
        #expect(try await appended.liveDeleteFiles().map(\.filePath).sorted() == deletes.map(\.filePath).sorted(), "the append keeps the delete files")
        var compact = Self.arguments("compact", input: input, warehouse: warehouse, table: "mixed", schema: schema, partition: "day(ts)")
        let result = try await Self.cli(compact + ["--json"])
        let summary = try JSONValue.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        // The 29th: our first object and the 31st id, and Spark's three files there, under position deletes.
        #expect(summary["skippedForDeletes"] == .int(5), "the files of the day with position deletes are left alone: \(result.stdout)")
        guard case .array(let compacted)? = summary["inputFiles"] else { throw TestEnvironmentError("no compaction summary: \(result.stdout)") }
        #expect(compacted.count == 2 && summary["groups"] == .int(1), "the 27th's two files are compacted: \(result.stdout)")
        #expect(try await sparkIDs() == expected, "after our compaction")
        compact[0] = "expire-snapshots"
        try await Self.cli(compact + ["--older-than", "0s", "--retain-last", "1"])
        compact[0] = "remove-orphans"
        try await Self.cli(compact + ["--older-than", "0s"])
        #expect(try await sparkIDs() == expected, "after our expiry and orphan removal")
        let final = try await Self.objectStore(warehouse).loadTable(try TableIdentifier(parsing: "db.mixed"))
        for file in try await final.liveDeleteFiles() {
            #expect(FileManager.default.fileExists(atPath: file.filePath.replacingOccurrences(of: "file:", with: "")), "delete file kept: \(file.filePath)")
        }
        let report = try await TableValidation.check(metadataLocation: final.metadataLocation)
        #expect(report.rows == expected.count, "PyIceberg applies the deletes too: \(report.rows) rows")
        #expect(report.problems.isEmpty, "summaries and counts consistent across both writers: \(report.problems)")

        // Spark's own compaction applies the deletes; then ours has nothing to leave alone.
        _ = try await spark.sql("CALL \(h).system.rewrite_data_files(table => 'db.mixed', options => map('min-input-files', '1', 'delete-file-threshold', '1'))", warehouse: warehouse)
        #expect(try await sparkIDs() == expected, "after Spark's rewrite_data_files")
    }

    /// Spark deletes a row merge-on-read while our compaction of that row's file is under way: the
    /// compaction's commit, rebuilt on Spark's, fails rather than replace the file with one the position
    /// delete no longer names (the deleted row would come back).
    @Test func aDeleteDuringOurCompactionFailsIt() async throws {
        let (dir, input, warehouse, h) = try Self.folders("spark-delete-compact")
        defer { TestEnvironment.cleanUp(dir) }
        let spark = SparkSession.shared
        // Two objects, committed one at a time: two small files of one day.
        let folder = input + "/2026/11/29/10"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for part in 0..<2 {
            let lines = (0..<5).map { n -> String in
                let id = part * 5 + n + 1
                return #"{"id":\#(id),"name":"n\#(id)","ts":"2026-11-27T10:0\#(n):00"}"#
            }
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: "\(folder)/part-\(part).json"))
        }
        var run = Self.arguments("run", input: input, warehouse: warehouse, table: "compacted", schema: "id long not null, name string, ts timestamp", partition: "day(ts)")
        run += ["--commit-every-objects", "1"]
        try await Self.cli(run)
        _ = try await spark.sql(["ALTER TABLE \(h).db.compacted SET TBLPROPERTIES ('write.delete.mode'='merge-on-read')"], warehouse: warehouse)

        let catalog = Self.objectStore(warehouse)
        let identifier = try TableIdentifier(parsing: "db.compacted")
        var compaction = Compaction(table: try await catalog.loadTable(identifier), catalog: catalog)
        compaction.beforeCommit = { _ = try await spark.sql(["DELETE FROM \(h).db.compacted WHERE id = 3"], warehouse: warehouse) }
        do {
            _ = try await compaction.run()
            Issue.record("a compaction whose inputs got a position delete while it ran must fail")
        } catch let error as IcebergError {
            #expect(error.code == .validationFailed && error.message.contains("row-level delete files"), "\(error.message)")
        }
        let table = try await catalog.loadTable(identifier)
        let (dataFiles, deleteFiles) = (try await table.liveDataFiles(), try await table.liveDeleteFiles())
        #expect(dataFiles.count == 2 && !deleteFiles.isEmpty, "the compaction replaced nothing; Spark's delete file is live")
        let answer = try await spark.sql("SELECT id FROM \(h).db.compacted", warehouse: warehouse)
        let ids = Set(answer.rows.compactMap { if case .int(let id) = $0[0] { Int(id) } else { nil } })
        #expect(ids == Set(1...10).subtracting([3]), "the deleted row stays deleted")
    }

    /// Spark and our ingestion commit to the same table at the same time (20 single-row INSERTs against 20
    /// one-object commits): no commit is lost on either side.
    @Test func concurrentCommitsFromSparkAndUs() async throws {
        let (dir, input, warehouse, h) = try Self.folders("spark-concurrent")
        defer { TestEnvironment.cleanUp(dir) }
        let schema = "id long not null, s string"
        let spark = SparkSession.shared
        _ = try await spark.sql(
            "CREATE TABLE \(h).db.shared (id bigint NOT NULL, s string) USING iceberg TBLPROPERTIES ('format-version'='2', 'commit.retry.num-retries'='50', 'commit.retry.min-wait-ms'='20')",
            warehouse: warehouse)
        let folder = input + "/2026/11/29/10"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for n in 1...20 { try Data(#"{"id":\#(n),"s":"ours"}"#.utf8).write(to: URL(fileURLWithPath: "\(folder)/o-\(String(format: "%02d", n)).json")) }
        let run = Self.arguments("run", input: input, warehouse: warehouse, table: "shared", schema: schema) + ["--commit-every-objects", "1", "--json"]
        async let ours = Self.cli(run)
        let inserts = (1...20).map { "INSERT INTO \(h).db.shared VALUES (\(1000 + $0), 'spark')" }
        _ = try await spark.sql(inserts, warehouse: warehouse)
        let output = try await ours
        #expect(output.stdout.contains("\"objectsIngested\":20"), "\(output.stdout)")
        let answer = try await spark.sql("SELECT id FROM \(h).db.shared ORDER BY id", warehouse: warehouse)
        #expect(answer.rows.map { $0[0] } == (Array(1...20) + Array(1001...1020)).map { .int(Int64($0)) }, "every commit of both writers")
        let table = try await Self.objectStore(warehouse).loadTable(try TableIdentifier(parsing: "db.shared"))
        #expect(table.metadata.snapshots.count == 40)
    }

    /// A format-version 3 table (Spark creates one when asked): this library writes version 2 only, so a run
    /// refuses it, naming the version, and changes nothing; Spark still reads its rows.
    @Test func formatVersion3IsRefusedClearly() async throws {
        let (dir, input, warehouse, h) = try Self.folders("spark-v3")
        defer { TestEnvironment.cleanUp(dir) }
        let spark = SparkSession.shared
        _ = try await spark.sql(
            [
                "CREATE TABLE \(h).db.v3 (id bigint NOT NULL, s string) USING iceberg TBLPROPERTIES ('format-version'='3')",
                "INSERT INTO \(h).db.v3 VALUES (1, 'a'), (2, 'b')",
            ], warehouse: warehouse)
        let folder = input + "/2026/11/29/10"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(#"{"id":3,"s":"c"}"#.utf8).write(to: URL(fileURLWithPath: "\(folder)/o.json"))
        let versions = try FileManager.default.contentsOfDirectory(atPath: warehouse + "/db/v3/metadata").filter { $0.hasSuffix(".metadata.json") }
        let refused = try await Self.cli(Self.arguments("run", input: input, warehouse: warehouse, table: "v3", schema: "id long not null, s string"), expect: 1)
        #expect(refused.stderr.contains("format-version 3 is not supported"), "\(refused.stderr)")
        #expect(refused.stderr.contains("v\(versions.count).metadata.json"), "the error names the metadata file: \(refused.stderr)")
        let after = try FileManager.default.contentsOfDirectory(atPath: warehouse + "/db/v3/metadata").filter { $0.hasSuffix(".metadata.json") }
        #expect(after.sorted() == versions.sorted(), "nothing committed")
        let answer = try await spark.sql("SELECT id FROM \(h).db.v3 ORDER BY id", warehouse: warehouse)
        #expect(answer.rows == [[.int(1)], [.int(2)]])
    }
}
