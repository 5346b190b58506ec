import Foundation
import IcebergCore
import IcebergIngest
import Testing
import TestSupport

/// Job settings from the environment and `.env` files, in the documented precedence: flags, then
/// `ICEBERG_INGEST_*` variables (the process's own over `--env-file`'s), then the job file, then defaults.
@Suite struct EnvironmentConfigurationTests {
    static let jobText = #"""
        {"source": {"uri": "s3://from-file/events/", "layout": "hive"},
         "catalog": {"uri": "sqlite:/var/lib/ingest/catalog.db", "warehouse": "s3://lake/wh", "properties": {"credential": "id:from-file"}},
         "table": {"name": "db.events", "schema": "id long not null"},
         "ingest": {"commit_every_objects": 100}}
        """#

    static func write(_ text: String, _ name: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func variablesOverrideTheFileAndSayWhereEachSettingCameFrom() throws {
        let dir = try TestEnvironment.temporaryDirectory("env-config")
        defer { TestEnvironment.cleanUp(dir) }
        let path = try Self.write(Self.jobText, "job.json", in: dir)
        let job = try IngestJob(file: path, environment: [
            "ICEBERG_INGEST_SOURCE_URI": "s3://from-env/events/", "ICEBERG_INGEST_INGEST_COMMIT_EVERY_OBJECTS": "5",
            "ICEBERG_INGEST_INGEST_BAD_RECORDS": "skip", "ICEBERG_INGEST_CATALOG_PROPERTIES": #"{"credential": "id:${SECRET}"}"#,
            "SECRET": "s3cr3t", "ICEBERG_INGEST_FAIL_POINT": "",
        ])
        #expect(job.sourceURI == "s3://from-env/events/" && job.layout == "hive")
        #expect(job.commitEveryObjects == 5 && job.badRecords == .skip)
        #expect(job.catalogProperties == ["credential": "id:s3cr3t"])
        #expect(job.origins["source.uri"] == "environment ICEBERG_INGEST_SOURCE_URI")
        #expect(job.origins["source.layout"] == "file \(path)")
        let settings = Dictionary(uniqueKeysWithValues: job.effectiveSettings().map { ($0.key, ($0.value, $0.origin)) })
        #expect(settings["ingest.drift"]?.1 == "default")
        #expect(settings["catalog.properties"]?.0 == #"{"credential":"***"}"#, "secrets never printed")
        #expect(IngestJob.settingNames.count == 38 && IngestJob.environmentVariable(section: "ingest", key: "bad_records") == "ICEBERG_INGEST_INGEST_BAD_RECORDS")
    }

    @Test func aMisspelledVariableIsAnErrorNamingTheNearestOne() throws {
        let error = #expect(throws: IngestError.self) {
            try IngestJob(environment: ["ICEBERG_INGEST_SOURCE_URL": "s3://b/p/", "ICEBERG_INGEST_TABLE_NAME": "a.b", "ICEBERG_INGEST_TABLE_SCHEMA": "id long"])
        }
        #expect(error?.description.contains("ICEBERG_INGEST_SOURCE_URL names no job setting; did you mean ICEBERG_INGEST_SOURCE_URI?") == true)
        let missing = #expect(throws: IngestError.self) { try IngestJob(environment: ["ICEBERG_INGEST_SOURCE_URI": "s3://b/p/"]) }
        #expect(missing?.description.contains("'table.name' is required (or ICEBERG_INGEST_TABLE_NAME)") == true)
        let job = try IngestJob(environment: [
            "ICEBERG_INGEST_SOURCE_URI": "s3://b/p/", "ICEBERG_INGEST_TABLE_NAME": "a.b", "ICEBERG_INGEST_TABLE_SCHEMA": "id long",
            "ICEBERG_INGEST_S3_VERIFY_TLS": "true", "ICEBERG_INGEST_INGEST_LEASE_SECONDS": "30",
        ])
        #expect(job.tableName == "a.b" && job.leaseSeconds == 30)
        #expect(throws: IngestError.self) {
            try IngestJob(environment: [
                "ICEBERG_INGEST_SOURCE_URI": "s3://b/p/", "ICEBERG_INGEST_TABLE_NAME": "a.b", "ICEBERG_INGEST_TABLE_SCHEMA": "id long",
                "ICEBERG_INGEST_INGEST_COMMIT_EVERY_OBJECTS": "lots",
            ])
        }
    }

    @Test func dotEnvFiles() throws {
        let dir = try TestEnvironment.temporaryDirectory("dotenv")
        defer { TestEnvironment.cleanUp(dir) }
        let path = try Self.write(
            """
            # Terraform outputs
            SOURCE_BUCKET=raw-events
            export WAREHOUSE_BUCKET = "lake"   
            QUOTED='a # not a comment'
            ESCAPED="line\\nbreak \\"q\\""
            PLAIN=value # a comment

            """, ".env", in: dir)
        let values = try IngestJob.readEnvironmentFile(path)
        #expect(values == ["SOURCE_BUCKET": "raw-events", "WAREHOUSE_BUCKET": "lake", "QUOTED": "a # not a comment", "ESCAPED": "line\nbreak \"q\"", "PLAIN": "value"])
        let bad = try Self.write("A=1\nthis is not a setting\n", "bad.env", in: dir)
        let error = #expect(throws: IngestError.self) { try IngestJob.readEnvironmentFile(bad) }
        #expect(error?.description.contains("bad.env line 2: expected NAME=value") == true)
    }

    /// The executable: `config --show` with a job file, an `--env-file`, the process's environment and a flag.
    @Test func configShowPrintsEachSettingAndItsOrigin() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("config-show")
        defer { TestEnvironment.cleanUp(dir) }
        let job = try Self.write(Self.jobText.replacingOccurrences(of: "s3://from-file/events/", with: "s3://${SOURCE_BUCKET}/events/"), "job.json", in: dir)
        let env = try Self.write(
            "SOURCE_BUCKET=raw-from-dotenv\nICEBERG_INGEST_INGEST_SHARD=1/3\nICEBERG_INGEST_S3_ENDPOINT=http://user:pw@minio:9000\nICEBERG_INGEST_TABLE_NAME=db.dotenv\n",
            ".env", in: dir)
        var environment = ProcessInfo.processInfo.environment
        environment["ICEBERG_INGEST_TABLE_NAME"] = "db.process"  // the process's own wins over the .env file
        let result = try await TestProcesses.run(
            executable, arguments: ["config", "--show", "--json", "--config", job, "--env-file", env, "--drift", "rescue"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let printed = try JSONValue.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        guard case .array(let items)? = printed["settings"] else {
            Issue.record("no settings: \(result.stdout)")
            return
        }
        var settings: [String: (String, String)] = [:]
        for item in items {
            if case .string(let key)? = item["key"], case .string(let value)? = item["value"], case .string(let origin)? = item["origin"] {
                settings[key] = (value, origin)
            }
        }
        #expect(settings["source.uri"]?.0 == "s3://raw-from-dotenv/events/" && settings["source.uri"]?.1 == "file \(job)")
        #expect(settings["table.name"]?.0 == "db.process" && settings["table.name"]?.1 == "environment ICEBERG_INGEST_TABLE_NAME")
        #expect(settings["ingest.shard"]?.0 == "1/3")
        #expect(settings["ingest.drift"]?.0 == "rescue" && settings["ingest.drift"]?.1 == "flag --drift")
        #expect(settings["ingest.commit_every_objects"]?.0 == "100" && settings["ingest.bad_records"]?.1 == "default")
        #expect(!result.stdout.contains("pw@") && !result.stdout.contains("from-file\"") && result.stdout.contains("***"))
        // Without --show it says what it needs.
        let bare = try await TestProcesses.run(executable, arguments: ["config", "--config", job])
        #expect(bare.status != 0 && bare.stderr.contains("--show"))
    }
}
