import Checkpoint
import Foundation
import IcebergCore
import S3Reader
import Testing
import TestSupport

@testable import IcebergIngest

/// The upkeep subcommands as a script runs them: compact, expire-snapshots, remove-orphans, with --dry-run
/// and --json; PyIceberg reads the same rows afterwards.
@Suite(.withinOneHour) struct UpkeepCommandTests {
    @Test func compactExpireAndRemoveOrphansFromTheCommandLine() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("cli-upkeep")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("in").path
        _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 3, hours: 1, files: 4, records: 100, firstID: 1)
        let warehouse = dir.appendingPathComponent("wh").path
        let schema = #"{"type": "struct", "schema-id": 0, "fields": [{"id": 1, "name": "id", "required": true, "type": "long"}, {"id": 2, "name": "event_time", "required": false, "type": "timestamptz"}, {"id": 3, "name": "score", "required": false, "type": "double"}]}"#
        let config = """
            {
              "source": {"uri": "\(input)", "layout": "firehose", "format": "json", "late_arrival_hours": 6},
              "catalog": {"uri": "sqlite:\(warehouse)/catalog.db", "warehouse": "\(warehouse)"},
              "table": {"name": "db.cli", "schema": \(schema), "partition": "hour(event_time)"},
              "ingest": {"bad_records": "skip", "commit_every_objects": 1}
            }
            """
        let configPath = dir.appendingPathComponent("job.json").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        func json(_ arguments: [String]) async throws -> JSONValue {
            let result = try await TestProcesses.run(executable, arguments: arguments + ["--config", configPath, "--json"])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return try JSONValue.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        await #expect(try json(["run"])["rows"] == .int(400))

        let plan = try await json(["compact", "--dry-run"])
        guard case .array(let inputs)? = plan["inputFiles"] else { Issue.record("compact printed \(plan)"); return }
        #expect(inputs.count == 4 && plan["dryRun"] == .bool(true))
        let compacted = try await json(["compact", "--target-size-mb", "8"])
        if case .array(let outputs)? = compacted["outputFiles"] { #expect(outputs.count == 1) } else { Issue.record("\(compacted)") }

        // The last append carries the shard's checkpoint record: it stays under the compaction (the three
        // appends before it go), and so do the four files it still lists, until a newer record is on top.
        let preview = try await json(["expire-snapshots", "--older-than", "0s", "--retain-last", "1", "--dry-run"])
        if case .array(let ids)? = preview["expiredSnapshotIDs"] { #expect(ids.count == 3) } else { Issue.record("\(preview)") }
        let expired = try await json(["expire-snapshots", "--older-than", "0s", "--retain-last", "1"])
        if case .array(let files)? = expired["deletedDataFiles"] { #expect(files.isEmpty) } else { Issue.record("\(expired)") }
        let orphans = try await json(["remove-orphans", "--older-than", "0s", "--dry-run"])
        #expect(orphans["orphanFiles"] == .array([]) && orphans["dryRun"] == .bool(true))
        // While a run holds a lease on the table, a grace under 15 minutes could remove its commit's new files:
        // refused (a dry run is not), and allowed again once the lease is released.
        let table = try await SQLiteCatalog(path: "\(warehouse)/catalog.db", warehouse: warehouse).loadTable(try TableIdentifier(parsing: "db.cli"))
        let leases = LeaseStore(io: table.io, directory: table.metadata.location + "/metadata/ingest-checkpoints/other-source/shard-0-of-1/lease/", ttlMillis: 60_000)
        let held = try await leases.acquire()
        let refused = try await TestProcesses.run(executable, arguments: ["remove-orphans", "--config", configPath, "--older-than", "0s"])
        #expect(refused.status == 2 && refused.stderr.contains("holds a lease") && refused.stderr.contains("other-source/shard-0-of-1"), "\(refused.stderr)")
        #expect(try await TestProcesses.run(executable, arguments: ["remove-orphans", "--config", configPath, "--older-than", "0s", "--dry-run"]).status == 0)
        try await leases.release(held)
        // The text form, and the table as PyIceberg reads it: the same 400 rows in one file.
        let text = try await TestProcesses.run(executable, arguments: ["remove-orphans", "--config", configPath, "--older-than", "0s"])
        #expect(text.status == 0 && text.stdout.contains("0 orphans"), "\(text.stdout)\(text.stderr)")
        let count = try await PythonTool.run(#"""
            import sys
            from pyiceberg.catalog.sql import SqlCatalog
            t = SqlCatalog("default", uri=f"sqlite:///{sys.argv[1]}/catalog.db", warehouse=f"file://{sys.argv[1]}").load_table("db.cli")
            print(len(t.scan().to_arrow()), len(list(t.scan().plan_files())), len(t.metadata.snapshots))
            """#, arguments: [warehouse])
        #expect(count.trimmingCharacters(in: .whitespacesAndNewlines) == "400 1 2")
        // The next run knows what it ingested.
        await #expect(try json(["run"])["rows"] == .int(0))
    }
}

/// The README's upkeep snippet, as written, on a job file.
@Suite(.withinOneHour) struct UpkeepReadmeSnippetTests {
    @Test func theSnippetRunsOnAJobFile() async throws {
        let dir = try TestEnvironment.temporaryDirectory("upkeep-snippet")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("in").path
        _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 3, hours: 1, files: 3, records: 50, firstID: 1)
        let warehouse = dir.appendingPathComponent("wh").path
        try """
            {"source": {"uri": "\(input)", "layout": "firehose"},
             "catalog": {"uri": "sqlite:\(warehouse)/catalog.db", "warehouse": "\(warehouse)"},
             "table": {"name": "db.events", "schema": "id long not null, event_time timestamptz, score double", "partition": "hour(event_time)"},
             "ingest": {"commit_every_objects": 1}}
            """.write(toFile: "\(dir.path)/job.json", atomically: true, encoding: .utf8)
        let ingested = try await IngestJob(file: "\(dir.path)/job.json").ingestor().run()
        #expect(ingested.rows == 150 && ingested.snapshotIDs.count == 3)

        // --- README example (keep in step with README.md; ReadmeSnippetTests checks) ---
        let ingestor = try await IngestJob(file: "\(dir.path)/job.json").ingestor()
        var options = UpkeepOptions()
        options.expireOlderThanMillis = 7 * 86_400_000
        let summary = try await ingestor.upkeep(options)
        print(summary.compaction?.outputFiles.count ?? 0, summary.expiry.expiredSnapshotIDs.count, summary.orphans?.orphanFiles.count ?? 0)
        // --- end of the README example ---
        // Three small files of one partition become one; nothing is old enough to expire or remove.
        #expect(summary.compaction?.inputFiles.count == 3 && summary.compaction?.outputFiles.count == 1)
        #expect(summary.expiry.expiredSnapshotIDs.isEmpty && summary.orphans?.orphanFiles.isEmpty != false)

        // An orphan grace under 15 minutes could delete another shard's commit in progress: refused, unless
        // it is a dry run (which deletes nothing).
        var hasty = UpkeepOptions()
        hasty.orphanGraceMillis = 60_000
        await #expect {
            try await ingestor.upkeep(hasty)
        } throws: { error in
            (error as? IngestError)?.code == .invalidConfiguration && "\(error)".contains("15 minutes")
        }
        hasty.dryRun = true
        #expect(try await ingestor.upkeep(hasty).orphans != nil)
    }
}
