import Foundation
import IcebergCore
import IcebergIngest
import S3Reader
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
            "ICEBERG_INGEST_INGEST_BAD_RECORDS": "skip", "ICEBERG_INGEST_CATALOG_PROPERTIES": #"{"credential": "id:s3cr3t"}"#,
            "ICEBERG_INGEST_FAIL_POINT": "",
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
        #expect(missing?.description.contains("'table.name' is required (or ICEBERG_INGEST_TABLE_NAME, or the flag --table)") == true)
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

    /// A `.env` saved on Windows (`\r\n` line ends, one Character in Swift) is read line by line, a leading
    /// comment included; a quoted value followed by a `#` comment is the quoted value.
    @Test func dotEnvFilesWithWindowsLineEndsAndTrailingComments() throws {
        let dir = try TestEnvironment.temporaryDirectory("dotenv-crlf")
        defer { TestEnvironment.cleanUp(dir) }
        let path = try Self.write(
            "# Terraform outputs\r\nSOURCE_BUCKET=raw-events\r\nexport QUOTED=\"lake\"   # the warehouse\r\n\r\n"
                + "SINGLE='a # b' # note\r\nESCAPED=\"x\\\"y\" # note\r\nPLAIN=value # note\r\nLAST=end\r\n", ".env", in: dir)
        let values = try IngestJob.readEnvironmentFile(path)
        #expect(values == ["SOURCE_BUCKET": "raw-events", "QUOTED": "lake", "SINGLE": "a # b", "ESCAPED": "x\"y", "PLAIN": "value", "LAST": "end"])
        // Line numbers count `\r\n` lines too.
        let bad = try Self.write("A=1\r\n# note\r\nthis is not a setting\r\n", "bad.env", in: dir)
        let error = #expect(throws: IngestError.self) { try IngestJob.readEnvironmentFile(bad) }
        #expect(error?.description.contains("bad.env line 3: expected NAME=value, found 'this is not a setting'") == true, "\(error?.description ?? "")")
    }

    /// Kubernetes gives a pod `<SERVICE>_SERVICE_HOST`, `_PORT` ... for every Service in its namespace (unless
    /// `enableServiceLinks: false`): a Service named `iceberg-ingest-metrics` must not stop the job, while a
    /// misspelled setting is still an error naming the nearest one.
    @Test func kubernetesServiceLinksAreIgnored() throws {
        let job: [String: String] = [
            "ICEBERG_INGEST_SOURCE_URI": "s3://b/p/", "ICEBERG_INGEST_TABLE_NAME": "a.b", "ICEBERG_INGEST_TABLE_SCHEMA": "id long",
        ]
        let links: [String: String] = [
            "ICEBERG_INGEST_METRICS_SERVICE_HOST": "10.0.0.11", "ICEBERG_INGEST_METRICS_SERVICE_PORT": "9090",
            "ICEBERG_INGEST_METRICS_SERVICE_PORT_METRICS": "9090", "ICEBERG_INGEST_METRICS_PORT": "tcp://10.0.0.11:9090",
            "ICEBERG_INGEST_METRICS_PORT_9090_TCP": "tcp://10.0.0.11:9090", "ICEBERG_INGEST_METRICS_PORT_9090_TCP_PROTO": "tcp",
            "ICEBERG_INGEST_METRICS_PORT_9090_TCP_PORT": "9090", "ICEBERG_INGEST_METRICS_PORT_9090_TCP_ADDR": "10.0.0.11",
            "ICEBERG_INGEST_SERVICE_HOST": "10.0.0.12", "ICEBERG_INGEST_PORT_53_UDP_ADDR": "10.0.0.12",
        ]
        let parsed = try IngestJob(environment: job.merging(links) { a, _ in a })
        #expect(parsed.tableName == "a.b" && parsed.origins.values.allSatisfy { !$0.contains("SERVICE") && !$0.contains("_PORT") })
        var typo = job.merging(links) { a, _ in a }
        typo["ICEBERG_INGEST_SOURCE_LAYOT"] = "hive"
        let error = #expect(throws: IngestError.self) { try IngestJob(environment: typo) }
        #expect(error?.description.contains("ICEBERG_INGEST_SOURCE_LAYOT names no job setting; did you mean ICEBERG_INGEST_SOURCE_LAYOUT?") == true)
        let near = #expect(throws: IngestError.self) { try IngestJob(environment: job.merging(["ICEBERG_INGEST_S3_ENDPOINTS": "http://x"]) { a, _ in a }) }
        #expect(near?.description.contains("did you mean ICEBERG_INGEST_S3_ENDPOINT?") == true)
        // A setting mistyped into a service link's shape, without a link's address for a value, is an error too.
        let port = #expect(throws: IngestError.self) { try IngestJob(environment: job.merging(["ICEBERG_INGEST_S3_PORT": "9000"]) { a, _ in a }) }
        #expect(port?.description.contains("ICEBERG_INGEST_S3_PORT names no job setting") == true)
    }

    /// Only the job file can turn TLS verification off: `ICEBERG_INGEST_S3_VERIFY_TLS=false` (from the
    /// environment or a `.env`) is an error naming the variable; `true` may turn it back on.
    @Test func theEnvironmentCannotTurnTLSVerificationOff() throws {
        let dir = try TestEnvironment.temporaryDirectory("env-tls")
        defer { TestEnvironment.cleanUp(dir) }
        let job: [String: String] = [
            "ICEBERG_INGEST_SOURCE_URI": "s3://b/p/", "ICEBERG_INGEST_TABLE_NAME": "a.b", "ICEBERG_INGEST_TABLE_SCHEMA": "id long",
        ]
        let error = #expect(throws: IngestError.self) {
            try IngestJob(environment: job.merging(["ICEBERG_INGEST_S3_VERIFY_TLS": "false"]) { a, _ in a })
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("ICEBERG_INGEST_S3_VERIFY_TLS cannot turn TLS verification off: only the job file can") == true, "\(error?.message ?? "")")
        // A variable's value is not expanded: `${NO_VERIFY}` is no boolean, and cannot reach `false` that way either.
        let indirect = #expect(throws: IngestError.self) {
            try IngestJob(environment: job.merging(["ICEBERG_INGEST_S3_VERIFY_TLS": "${NO_VERIFY}", "NO_VERIFY": "false"]) { a, _ in a })
        }
        #expect(indirect?.message.contains("'s3.verify_tls' must be true or false") == true, "\(indirect?.message ?? "")")
        let off = try Self.write(#"{"source": {"uri": "s3://b/p/"}, "table": {"name": "a.b", "schema": "id long"}, "s3": {"verify_tls": false}}"#, "job.json", in: dir)
        #expect(try IngestJob(file: off, environment: [:]).verifyTLS == false)
        #expect(throws: IngestError.self) { try IngestJob(file: off, environment: ["ICEBERG_INGEST_S3_VERIFY_TLS": "false"]) }
        let on = try IngestJob(file: off, environment: ["ICEBERG_INGEST_S3_VERIFY_TLS": "true"])
        #expect(on.verifyTLS == true && on.origins["s3.verify_tls"] == "environment ICEBERG_INGEST_S3_VERIFY_TLS")
    }

    /// A variable's value is taken as it is: a secret `pa$$w` used to lose a dollar (`$$` is the job file's
    /// escape) and one holding `${X}` to be expanded, or to fail quoting part of itself. The job file's own
    /// `${VAR}` are still expanded, and a file value that a variable replaces is not looked at.
    @Test func variableValuesAreNotExpanded() throws {
        let dir = try TestEnvironment.temporaryDirectory("env-literal")
        defer { TestEnvironment.cleanUp(dir) }
        let path = try Self.write(
            #"{"source": {"uri": "s3://${BUCKET}/events/"}, "table": {"name": "db.events", "schema": "id long", "partition": "${UNSET_VARIABLE}"}}"#,
            "job.json", in: dir)
        let job = try IngestJob(file: path, environment: [
            "BUCKET": "raw", "X": "expanded", "ICEBERG_INGEST_CATALOG_PROPERTIES": #"{"credential": "id:pa$$w${X}"}"#,
            "ICEBERG_INGEST_TABLE_PARTITION": "day(${X})",
        ])
        #expect(job.sourceURI == "s3://raw/events/")
        #expect(job.catalogProperties == ["credential": "id:pa$$w${X}"])
        #expect(job.partition == "day(${X})" && job.origins["table.partition"] == "environment ICEBERG_INGEST_TABLE_PARTITION")
        // Without a job file too; `${UNSET}` used to be an error quoting the value.
        let alone = try IngestJob(environment: [
            "ICEBERG_INGEST_SOURCE_URI": "s3://b/p$$/", "ICEBERG_INGEST_TABLE_NAME": "a.b", "ICEBERG_INGEST_TABLE_SCHEMA": "id long",
            "ICEBERG_INGEST_CATALOG_PROPERTIES": #"{"token": "t${UNSET}"}"#,
        ])
        #expect(alone.sourceURI == "s3://b/p$$/" && alone.catalogProperties == ["token": "t${UNSET}"])
    }

    /// An empty value is the same as none: `ICEBERG_INGEST_S3_ENDPOINT=` used to give an empty endpoint that beat
    /// `S3_ENDPOINT` (requests went to an empty host); over the job file it now unsets the file's endpoint, so
    /// the fallbacks apply. Likewise the region, the dead-letter location and a required setting (then missing).
    @Test func anEmptyValueIsTheSameAsNone() throws {
        let dir = try TestEnvironment.temporaryDirectory("env-empty")
        defer { TestEnvironment.cleanUp(dir) }
        let path = try Self.write(
            #"""
            {"source": {"uri": "s3://b/p/", "start_at": ""}, "table": {"name": "db.events", "schema": "id long"},
             "ingest": {"bad_records": "dead-letter", "dead_letter": "s3://dead/letters"}, "s3": {"endpoint": "http://file:9000", "region": "eu-west-1"}}
            """#, "job.json", in: dir)
        let job = try IngestJob(file: path, environment: [
            "ICEBERG_INGEST_S3_ENDPOINT": "", "ICEBERG_INGEST_S3_REGION": " ", "ICEBERG_INGEST_INGEST_DEAD_LETTER": "",
            "ICEBERG_INGEST_CATALOG_PROPERTIES": "",
        ])
        #expect(job.s3Endpoint == nil && job.s3Region == nil && job.deadLetter == nil && job.startAt == nil && job.catalogProperties.isEmpty)
        #expect(job.origins["s3.endpoint"] == "environment ICEBERG_INGEST_S3_ENDPOINT")
        #expect(try job.configuration().deadLetterLocation == nil)
        // An empty fallback is skipped too.
        let client = job.s3Client(environment: ["S3_ENDPOINT": "http://fallback:9000", "AWS_REGION": "", "AWS_DEFAULT_REGION": "ap-south-1"])
        #expect(client.configuration.endpoint == "http://fallback:9000" && client.configuration.region == "ap-south-1")
        var inCode = job
        inCode.s3Endpoint = ""
        #expect(inCode.s3Client(environment: [:]).configuration.endpoint == nil)
        let missing = #expect(throws: IngestError.self) { try IngestJob(file: path, environment: ["ICEBERG_INGEST_TABLE_NAME": ""]) }
        #expect(missing?.message.contains("'table.name' is required") == true, "\(missing?.message ?? "")")
    }

    /// `header.*` catalog properties are HTTP headers a REST catalog sends (`header.Authorization`): secrets.
    @Test func headerPropertiesAreRedacted() throws {
        let job = try IngestJob(environment: [
            "ICEBERG_INGEST_SOURCE_URI": "s3://b/p/", "ICEBERG_INGEST_TABLE_NAME": "a.b", "ICEBERG_INGEST_TABLE_SCHEMA": "id long",
            "ICEBERG_INGEST_CATALOG_URI": "rest+https://catalog.example.com/api",
            "ICEBERG_INGEST_CATALOG_PROPERTIES": #"{"header.Authorization": "Bearer s3cr3t", "Header.X-Custom": "abc", "warehouse": "lake"}"#,
        ])
        let settings = Dictionary(uniqueKeysWithValues: job.effectiveSettings().map { ($0.key, $0.value) })
        let shown = try #require(settings["catalog.properties"])
        #expect(shown == #"{"Header.X-Custom":"***","header.Authorization":"***","warehouse":"lake"}"#, "\(shown)")
        #expect(!shown.contains("s3cr3t"))
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

    /// With `--config`, a flag supplies a required key the file lacks (the file's check used to run before the
    /// flags, naming only the variable); without the flag, the error names the key, the variable and the flag.
    @Test func flagsSupplyRequiredKeysOverAJobFile() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("config-required")
        defer { TestEnvironment.cleanUp(dir) }
        let job = try Self.write(#"{"source": {"uri": "s3://b/p/"}, "table": {"schema": "id long"}}"#, "job.json", in: dir)
        // No ICEBERG_INGEST_* settings of the test's own environment (an empty value removes a variable).
        let clean = ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("ICEBERG_INGEST_") }.mapValues { _ in "" }
        let result = try await TestProcesses.run(
            executable, arguments: ["config", "--show", "--json", "--config", job, "--table", "db.flag", "--schema", "id long, name string"], environment: clean)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#"{"key":"table.name","value":"db.flag","origin":"flag --table""#), "\(result.stdout)")
        #expect(result.stdout.contains(#""value":"id long, name string","origin":"flag --schema""#), "\(result.stdout)")
        let missing = try await TestProcesses.run(executable, arguments: ["config", "--show", "--config", job], environment: clean)
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("'table.name' is required (or ICEBERG_INGEST_TABLE_NAME, or the flag --table)"), "\(missing.stderr)")
    }
}
