import Foundation
import IcebergCore
import IcebergS3
import S3Reader
import Testing
import TestSupport

@testable import IcebergIngest

/// The example executable as a script would use it: a configuration file, plan, run, status, exit codes.
@Suite(.withinOneHour) struct CommandLineTests {
    /// Every subcommand's `--help` shows defaults as a user types them (`3d`), never a Swift value's
    /// description (`DurationText(millis: 259200000)`).
    @Test func helpShowsDefaultsAsTyped() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let commands = ["run", "plan", "status", "infer", "backfill", "evolve", "expire-snapshots", "remove-orphans", "compact", "config", "demo"]
        for command in commands {
            let help = try await TestProcesses.run(executable, arguments: [command, "--help"])
            #expect(help.status == 0 && help.stdout.contains("USAGE: iceberg-ingest \(command)"), "\(command) --help: \(help.stderr)")
            #expect(!help.stdout.contains("(millis:") && !help.stdout.contains("Text("), "\(command) --help: \(help.stdout)")
        }
        let orphans = try await TestProcesses.run(executable, arguments: ["remove-orphans", "--help"]).stdout
        #expect(orphans.contains("(default: 3d)"), "\(orphans)")
    }

    @Test func configFilePlanRunStatusAndExitCodes() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("cli")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("in").path
        _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 3, hours: 2, files: 2, records: 400, firstID: 1)
        let warehouse = dir.appendingPathComponent("wh").path
        // The schema as Iceberg schema JSON; tiny files so that they roll.
        let schema = #"{"type": "struct", "schema-id": 0, "fields": [{"id": 1, "name": "id", "required": true, "type": "long"}, {"id": 2, "name": "event_time", "required": false, "type": "timestamptz"}, {"id": 3, "name": "score", "required": false, "type": "double"}]}"#
        let config = """
            {
              "source": {"uri": "\(input)", "layout": "firehose", "format": "json", "late_arrival_hours": 6},
              "catalog": {"uri": "sqlite:\(warehouse)/catalog.db", "warehouse": "\(warehouse)"},
              "table": {"name": "db.cli", "schema": \(schema), "partition": "day(event_time)", "properties": {"owner": "cli-test"}},
              "ingest": {"bad_records": "skip", "target_file_size_mb": 0, "commit_every_objects": 2}
            }
            """
        let configPath = dir.appendingPathComponent("job.json").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)

        // A zero target size is refused with exit code 2 and a message naming the key and its range.
        let invalid = try await TestProcesses.run(executable, arguments: ["run", "--config", configPath])
        #expect(invalid.status == 2 && invalid.stderr.contains("'ingest.target_file_size_mb' is 0: it must be from 1 to 65536"), "\(invalid.stderr)")
        try config.replacingOccurrences(of: "\"target_file_size_mb\": 0", with: "\"target_file_size_mb\": 1").write(toFile: configPath, atomically: true, encoding: .utf8)

        let plan = try await TestProcesses.run(executable, arguments: ["plan", "--config", configPath, "--json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let planned = try JSONValue.parse(plan.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        if case .array(let objects)? = planned["toRead"] { #expect(objects.count == 4) } else { Issue.record("plan printed \(plan.stdout)") }

        let run = try await TestProcesses.run(executable, arguments: ["run", "--config", configPath, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try JSONValue.parse(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(summary["rows"] == .int(1600))
        if case .array(let ids)? = summary["snapshotIDs"] { #expect(ids.count == 2) }
        // 1,600 rows of three columns are far below 1 MiB: one file per day partition and commit, unless
        // the hours cross midnight.
        if case .int(let files)? = summary["dataFiles"] { #expect(files >= 2 && files <= 4) }

        let status = try await TestProcesses.run(executable, arguments: ["status", "--config", configPath, "--json"])
        #expect(status.status == 0)
        let state = try JSONValue.parse(status.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(state["checkpointVersion"] == .int(2) && state["totalRecords"] == .int(1600) && state["lagHours"] == .int(6))
        #expect(state["pendingObjects"] == .int(0) && state["lagSeconds"] == .double(0) && state["leaseHolder"] == nil, "\(status.stdout)")
        if case .string(let watermark)? = state["watermark"] {
            #expect(watermark.hasSuffix(":00:00Z") && watermark.count == 20, "ISO-8601: \(watermark)")
        } else {
            Issue.record("no watermark: \(status.stdout)")
        }

        // A bad record under the fail policy: exit code 3, the file and line named.
        let hourFolder = input + "/" + PrefixLayout.firehose.prefix(forHour: PrefixLayout.hour(of: Date()) - 1)
        try FileManager.default.createDirectory(atPath: hourFolder, withIntermediateDirectories: true)
        try "{\"id\": 1}\n{\"id\": \"x\"}\n".write(toFile: hourFolder + "/bad.json", atomically: true, encoding: .utf8)
        // status sees the new object waiting, with its bytes, from a listing alone.
        let waiting = try JSONValue.parse(try await TestProcesses.run(executable, arguments: ["status", "--config", configPath, "--json"]).stdout)
        #expect(waiting["pendingObjects"] == .int(1) && waiting["pendingBytes"] == .int(22), "\(waiting)")
        let failed = try await TestProcesses.run(executable, arguments: ["run", "--config", configPath, "--bad-records", "fail"])
        #expect(failed.status == 3)
        #expect(failed.stderr.contains("bad.json line 2, byte 17, field 'id'"))
    }

    @Test func filesRollAtTheTargetSize() async throws {
        let dir = try TestEnvironment.temporaryDirectory("roll")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("in").path
        _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 2, hours: 1, files: 4, records: 5000, firstID: 1)
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        var configuration = try PipelineSupport.configuration()
        configuration.targetFileSizeBytes = 256 << 10
        configuration.batchRows = 1000
        let summary = try await Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: input, layout: .firehose)).run()
        #expect(summary.rows == 20_000)
        #expect(summary.dataFiles > 1)  // one hour, several files
        let table = try await catalog.loadTable(configuration.table)
        #expect(table.metadata.currentSnapshot?.summary["total-records"] == "20000")
        #expect(table.metadata.currentSnapshot?.summary["changed-partition-count"] == "1")
    }
}

extension CommandLineTests {
    /// A daily layout listed from a watermark in the middle of a day still reaches today's folder.
    @Test func dailyLayoutListsEveryDayUpToNow() async throws {
        let dir = try TestEnvironment.temporaryDirectory("daily")
        defer { TestEnvironment.cleanUp(dir) }
        let now = Date()
        let nowHour = PrefixLayout.hour(of: now)
        for back in [0, 24, 48] {
            let folder = dir.appendingPathComponent(PrefixLayout.daily.prefix(forHour: nowHour - Int32(back)))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("{}".utf8).write(to: folder.appendingPathComponent("part.json"))
        }
        let source = LocalFolderSource(root: dir.path, layout: .daily)
        // From 47 hours ago: the day before yesterday (maybe), yesterday and today.
        let listing = try await source.list(firstOpenHour: nowHour - 47, now: now)
        #expect(listing.objects.contains { $0.key.hasPrefix(PrefixLayout.daily.prefix(forHour: nowHour)) })
        #expect(listing.objects.contains { $0.key.hasPrefix(PrefixLayout.daily.prefix(forHour: nowHour - 24)) })
    }
}

extension CommandLineTests {
    /// `--catalog s3://bucket/prefix`: the catalog lives in the bucket (no database anywhere); two runs, the
    /// second reads nothing; PyIceberg and DuckDB read every row from the newest metadata version.
    @Test func objectStoreCatalogOnS3() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let s3 = try TestEnvironment.s3()
        let dir = try TestEnvironment.temporaryDirectory("cli-objectstore")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("in").path
        let expected = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 3, hours: 2, files: 2, records: 50, firstID: 1)
        let bucket = TestEnvironment.uniqueBucketName("cli-catalog")
        try await s3.client().createBucket(bucket)
        let arguments = [
            "run", "--json", "--source", input, "--layout", "firehose", "--table", "db.events", "--schema", PipelineSupport.schemaText,
            "--partition", "hour(event_time)", "--catalog", "s3://\(bucket)/lake", "--s3-endpoint", s3.endpoint, "--commit-every-objects", "2",
        ]
        let first = try await TestProcesses.run(executable, arguments: arguments)
        #expect(first.status == 0, "\(first.stderr)")
        let second = try await TestProcesses.run(executable, arguments: arguments)
        let summary = try JSONValue.parse(second.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(summary["objectsIngested"] == .int(0) && summary["objectsAlreadyIngested"] == .int(4), "\(second.stdout)\(second.stderr)")
        // Two commits after the create: v3 is the newest version.
        let catalog = ObjectStoreCatalog(warehouse: "s3://\(bucket)/lake", io: S3FileIO(client: s3.client()))
        let table = try await catalog.loadTable(try TableIdentifier(parsing: "db.events"))
        #expect(table.metadataLocation == "s3://\(bucket)/lake/db/events/metadata/v3.metadata.json")
        let output = try await PipelineSupport.check(
            catalogPath: "metadata:" + table.metadataLocation, warehouse: "", table: "db.events", expected: expected, endpoint: s3.endpoint, in: dir)
        #expect(output.hasPrefix("OK 200"), "\(output)")
    }
}

/// `run --follow --json` writes to a pipe, as Kubernetes collects stdout: every pass's line must arrive
/// while the process runs (stdout was block-buffered: 3 passes in 12 s gave 0 bytes, and SIGTERM lost them).
@Suite(.withinOneHour) struct FollowOutputTests {
    @Test func eachPassLineReachesAPipeAtOnce() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("follow-pipe")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("in").path
        _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 2, hours: 1, files: 1, records: 10, firstID: 1)
        let warehouse = dir.appendingPathComponent("wh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "run", "--source", input, "--layout", "firehose", "--catalog", "sqlite:\(warehouse)/catalog.db", "--warehouse", warehouse,
            "--table", "db.events", "--schema", "id long not null, event_time timestamptz", "--follow", "--interval", "1", "--json",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Read what has arrived, while the process keeps running, until three pass lines are in. A watchdog
        // ends the process after 60 s, so that a regression fails instead of waiting forever.
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { if process.isRunning { process.terminate() } }
        var received = Data()
        let reader = pipe.fileHandleForReading
        while received.split(separator: UInt8(ascii: "\n")).count < 3 {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            received += chunk
        }
        #expect(process.isRunning, "the lines came while the process ran, not at its exit")
        let lines = String(decoding: received, as: UTF8.self).split(separator: "\n")
        #expect(lines.count >= 3, "\(lines.count) lines arrived: \(lines)")
        for line in lines.prefix(3) {
            let summary = try JSONValue.parse(String(line))
            #expect(summary["table"] == .string("db.events"))
        }
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 143)
    }
}

/// `iceberg-ingest demo` prints a PyIceberg command to read the table; it must work as printed, from any
/// folder (it once gave `sqlite:///` a path without its leading slash: a relative path).
@Suite(.withinOneHour) struct DemoCommandTests {
    @Test func thePrintedPyIcebergCommandWorksFromAnyFolder() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("demo")
        defer { TestEnvironment.cleanUp(dir) }
        let warehouse = dir.appendingPathComponent("wh").path
        let demo = try await TestProcesses.run(
            executable, arguments: ["demo", "--input", TestEnvironment.fixtures.appendingPathComponent("demo/events").path, "--warehouse", warehouse])
        #expect(demo.status == 0, "\(demo.stderr)")
        guard let line = demo.stdout.split(separator: "\n").first(where: { $0.contains("python3 -c ") }) else {
            Issue.record("no PyIceberg command in:\n\(demo.stdout)")
            return
        }
        // Run the printed command's Python with the test environment's interpreter, from the root folder.
        let code = line.components(separatedBy: "python3 -c '").last!.dropLast()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TestEnvironment.python())
        process.arguments = ["-c", String(code)]
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(printed.trimmingCharacters(in: .whitespacesAndNewlines) == "900")
    }
}

extension CommandLineTests {
    /// A number from a flag, a variable or the job file that is huge or infinite used to trap (exit 132/133) where
    /// it became an integer or a duration: `config --show` on `reconcile_every: "1e19"`, the lease wait on `--wait
    /// 1e17`, `--follow` on `--interval 1e20`, SIGTERM on `--grace inf`; a negative `--grace` exited at once without
    /// committing. Each is now exit code 2 naming the flag or key, the value and the range. A duration flag's
    /// range is checked as ArgumentParser parses it: a usage error (64) that says the range.
    @Test func outOfRangeNumbersAreErrorsNotCrashes() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("cli-ranges")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        let job = [
            "--source", input.path, "--table", "db.t", "--schema", "id long", "--catalog", "sqlite:\(dir.path)/c.db",
            "--warehouse", dir.appendingPathComponent("wh").path,
        ]
        let cases: [(arguments: [String], environment: [String: String], message: String)] = [
            (["config", "--show"] + job, ["ICEBERG_INGEST_SOURCE_RECONCILE_EVERY": "1e19"], "'source.reconcile_every' is '1e19': it must be a duration from 0 (off) to 365d"),
            (["config", "--show"] + job, ["ICEBERG_INGEST_SOURCE_RECONCILE_EVERY": "inf"], "'source.reconcile_every' is 'inf'"),
            (["config", "--show"] + job, ["ICEBERG_INGEST_INGEST_LEASE_WAIT_SECONDS": "1e17"], "'ingest.lease_wait_seconds' is 1e+17: it must be from 0 to 604800"),
            (["config", "--show", "--wait", "1e17"] + job, [:], "--wait is 1e+17: it must be from 0 to 604800 seconds"),
            (["config", "--show", "--lease-seconds", "inf"] + job, [:], "--lease-seconds is inf: it must be from 1 to 86400 seconds"),
            (["config", "--show", "--late-arrival-hours", "9000"] + job, [:], "--late-arrival-hours is 9000: it must be from 0 to 8760 hours"),
            (["run", "--follow", "--interval", "1e20"] + job, [:], "--interval is 1e+20: it must be from 0 to 604800 seconds"),
            (["plan", "--grace", "inf"] + job, [:], "--grace is inf: it must be from 1 to 86400 seconds"),
            (["plan", "--grace=-1"] + job, [:], "--grace is -1.0: it must be from 1 to 86400 seconds"),
        ]
        for (arguments, environment, message) in cases {
            let result = try await TestProcesses.run(executable, arguments: arguments, environment: environment)
            #expect(result.status == 2 && result.stderr.contains(message), "\(arguments) \(environment): exit \(result.status), \(result.stderr)")
        }
        for flag in ["--upkeep-every", "--expire-older-than"] {
            let duration = try await TestProcesses.run(executable, arguments: ["run", "--follow", flag, "1e30d"] + job)
            #expect(duration.status == 64 && duration.stderr.contains("'1e30d' is invalid for '\(flag)") && duration.stderr.contains("from 0s to 36500d"), "\(duration.stderr)")
        }
        // In range, the same job is fine.
        let fine = try await TestProcesses.run(executable, arguments: ["config", "--show", "--wait", "600", "--late-arrival-hours", "8760", "--grace", "20"] + job)
        #expect(fine.status == 0, "\(fine.stderr)")
    }
}
