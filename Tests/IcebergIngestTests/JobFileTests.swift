import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import IcebergIngest

/// A job file is validated whole before anything runs: a typo, a number out of range, an unset variable,
/// broken JSON or a missing source folder is an error (exit code 2) naming the file and key.
@Suite struct JobFileTests {
    static func write(_ text: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("job-\(UUID().uuidString.prefix(6)).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let base = #"{"source": {"uri": "SOURCE"}, "table": {"name": "db.t", "schema": "id long"}}"#

    @Test(arguments: [
        (#""ingets": {}"#, "unknown key 'ingets'; did you mean 'ingest'?"),
        (#""ingest": {"bad_record": "skip"}"#, "unknown key 'ingest.bad_record'; did you mean 'bad_records'?"),
        (#""ingest": {"shards": "0/3"}"#, "unknown key 'ingest.shards'; did you mean 'shard'?"),
        (#""s3": {"endpiont": "http://x"}"#, "unknown key 's3.endpiont'; did you mean 'endpoint'?"),
        (#""ingest": {"commit_every_objects": 0}"#, "'ingest.commit_every_objects' is 0: it must be from 1 to"),
        (#""ingest": {"lease_seconds": "soon"}"#, "'ingest.lease_seconds' must be a number"),
        (#""ingest": 3"#, "'ingest' must be an object"),
        // Passed the file's range, then failed with a message naming no key.
        (#""ingest": {"target_file_size_mb": 0}"#, "'ingest.target_file_size_mb' is 0: it must be from 1 to 65536"),
        // Would trap as milliseconds in an Int64 (the lease wait), or are infinite (1e400 is past Double's range).
        (#""ingest": {"lease_wait_seconds": 1e17}"#, "'ingest.lease_wait_seconds' is 1e+17: it must be from 0 to 604800"),
        (#""ingest": {"lease_wait_seconds": "-1"}"#, "'ingest.lease_wait_seconds' is -1.0: it must be from 0 to 604800"),
        (#""ingest": {"lease_seconds": 1e400}"#, "'ingest.lease_seconds' is inf: it must be from 1 to 86400"),
        // Integer settings whose range is the configuration's: said the same way.
        (#""ingest": {"threads": 257}"#, "'ingest.threads' is 257: it must be from 1 to 256"),
        // A key or section given twice: lookups took the first one, silently.
        (#""ingest": {"shard": "0/2", "shard": "1/2"}"#, "'ingest.shard' is given twice"),
        (#""table": {"name": "db.other", "schema": "id long"}"#, "'table' is given twice"),
        (#""catalog": {"properties": {"token": "a", "token": "b"}}"#, "'catalog.properties.token' is given twice"),
    ])
    func mistakesAreNamed(_ extra: String, _ message: String) throws {
        let dir = try TestEnvironment.temporaryDirectory("job")
        defer { TestEnvironment.cleanUp(dir) }
        let path = try Self.write(String(Self.base.dropLast()) + ", " + extra + "}", in: dir)
        let error = #expect(throws: IngestError.self) { _ = try IngestJob(file: path, environment: [:]) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains(path) == true && error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    /// `late_arrival_hours: 99999999999` used to trap converting to Int32 (exit 132).
    @Test func hugeNumbersAreErrorsNotCrashes() throws {
        let dir = try TestEnvironment.temporaryDirectory("job")
        defer { TestEnvironment.cleanUp(dir) }
        let path = try Self.write(#"{"source": {"uri": "x", "late_arrival_hours": 99999999999}, "table": {"name": "db.t", "schema": "id long"}}"#, in: dir)
        let error = #expect(throws: IngestError.self) { _ = try IngestJob(file: path, environment: [:]) }
        #expect(error?.message.contains("'source.late_arrival_hours' is 99999999999: it must be from 0 to 8760") == true)
        // The reconciliation's hours, held to the configuration's range the same way, past it and past Int32.
        for (key, value, message) in [
            ("reconcile_hours", "87601", "'source.reconcile_hours' is 87601: it must be from 0 to 87600"),
            ("reconcile_hours", "4294967296", "'source.reconcile_hours' is 4294967296: it must be from 0 to 87600"),
        ] {
            let path = try Self.write(#"{"source": {"uri": "x", "\#(key)": \#(value)}, "table": {"name": "db.t", "schema": "id long"}}"#, in: dir)
            let error = #expect(throws: IngestError.self) { _ = try IngestJob(file: path, environment: [:]) }
            #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
        }
    }

    /// A library caller's lease outside 1 s...1 day is refused by validation, naming the setting and range;
    /// before validation (status reads it), the lease in milliseconds is held to that range and cannot trap.
    @Test(arguments: [0.0, 0.5, 86_401, .infinity, .nan])
    func aLeaseOutOfRangeIsRefused(_ seconds: Double) throws {
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.t"), schema: try SchemaText.schema("id long"))
        configuration.leaseSeconds = seconds
        let error = #expect(throws: IngestError.self) { try configuration.validate() }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message == "lease_seconds is \(seconds): it must be from 1 to 86400", "\(error?.message ?? "")")
        #expect((1000...86_400_000).contains(configuration.leaseMillis))
        configuration.leaseSeconds = 1
        #expect(throws: Never.self) { try configuration.validate() }
    }

    /// A library caller's settings are held to the job file's and the flags' ranges, said in one wording;
    /// the late-arrival window had only to be non-negative.
    @Test(arguments: [
        ("late_arrival_hours", -1.0, "late_arrival_hours is -1: it must be from 0 to 8760"),
        ("late_arrival_hours", 8_761, "late_arrival_hours is 8761: it must be from 0 to 8760"),
        ("late_arrival_hours", Double(Int32.max), "late_arrival_hours is 2147483647: it must be from 0 to 8760"),
        ("reconcile_hours", 87_601, "reconcile_hours is 87601: it must be from 0 to 87600"),
        ("threads", 0, "threads is 0: it must be from 1 to 256"),
        ("threads", 257, "threads is 257: it must be from 1 to 256"),
        ("lease_wait_seconds", -1, "lease_wait_seconds is -1.0: it must be from 0 to 604800"),
        ("lease_wait_seconds", .nan, "lease_wait_seconds is nan: it must be from 0 to 604800"),
    ])
    func aSettingOutOfRangeIsRefused(_ setting: String, _ value: Double, _ message: String) throws {
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.t"), schema: try SchemaText.schema("id long"))
        #expect(throws: Never.self) { try configuration.validate() }
        switch setting {
        case "late_arrival_hours": configuration.lateArrivalHours = Int32(value)
        case "reconcile_hours": configuration.reconcileHours = Int32(value)
        case "threads": configuration.threads = Int(value)
        default: configuration.leaseWaitSeconds = value
        }
        let error = #expect(throws: IngestError.self) { try configuration.validate() }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message == message, "\(error?.message ?? "")")
    }

    /// Each range's ends are allowed.
    @Test func theEndsOfEachRangeAreAllowed() throws {
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.t"), schema: try SchemaText.schema("id long"))
        for (late, reconcile, threads, wait) in [(Int32(0), Int32(0), 1, 0.0), (8_760, 87_600, 256, 604_800)] {
            (configuration.lateArrivalHours, configuration.reconcileHours, configuration.threads, configuration.leaseWaitSeconds) = (late, reconcile, threads, wait)
            #expect(throws: Never.self) { try configuration.validate() }
        }
    }

    /// `source.reconcile_every` of `inf` or `1e19` passed the check, then trapped converting to Int in `config
    /// --show`: each is now an error naming the key, the value and the range.
    @Test func hugeOrInfiniteDurationsAreErrors() throws {
        let dir = try TestEnvironment.temporaryDirectory("job")
        defer { TestEnvironment.cleanUp(dir) }
        for value in ["inf", "1e19", "1e30d", "nan", "366d"] {
            let path = try Self.write(#"{"source": {"uri": "x", "reconcile_every": "\#(value)"}, "table": {"name": "db.t", "schema": "id long"}}"#, in: dir)
            let error = #expect(throws: IngestError.self) { _ = try IngestJob(file: path, environment: [:]) }
            #expect(
                error?.message.contains("'source.reconcile_every' is '\(value)': it must be a duration from 0 (off) to 365d") == true,
                "\(value): \(error?.message ?? "")")
        }
        let path = try Self.write(#"{"source": {"uri": "x", "reconcile_every": "365d"}, "table": {"name": "db.t", "schema": "id long"}}"#, in: dir)
        #expect(try IngestJob(file: path, environment: [:]).reconcileEverySeconds == 365 * 86_400)
        #expect(IngestJob.seconds("inf") == nil && IngestJob.seconds("infs") == nil && IngestJob.seconds("1e400") == nil && IngestJob.seconds("24h") == 86_400)
        // A job made in code with an infinite interval still shows (as Swift prints it) rather than trapping.
        var job = IngestJob(sourceURI: "x", tableName: "db.t", schema: "id long")
        job.reconcileEverySeconds = .infinity
        #expect(job.effectiveSettings().first { $0.key == "source.reconcile_every" }?.value == "infs")
    }

    /// Two `ingest` sections: lookups took the first, and an `ICEBERG_INGEST_INGEST_*` variable (which rewrote
    /// the first) made the second win instead. Either way it is now an error naming the section and the file;
    /// a JSON object from a variable may not repeat a key either.
    @Test func aSectionGivenTwiceIsAnErrorWhateverTheEnvironment() throws {
        let dir = try TestEnvironment.temporaryDirectory("job")
        defer { TestEnvironment.cleanUp(dir) }
        let path = try Self.write(
            #"{"source": {"uri": "x"}, "table": {"name": "db.t", "schema": "id long"}, "ingest": {"shard": "0/2"}, "ingest": {"shard": "1/2"}}"#, in: dir)
        let environments: [[String: String]] = [[:], ["ICEBERG_INGEST_INGEST_BAD_RECORDS": "skip"]]
        for environment in environments {
            let error = #expect(throws: IngestError.self) { _ = try IngestJob(file: path, environment: environment) }
            #expect(error?.message.contains("\(path): 'ingest' is given twice") == true, "\(error?.message ?? "")")
        }
        let fromVariable = #expect(throws: IngestError.self) {
            _ = try IngestJob(environment: [
                "ICEBERG_INGEST_SOURCE_URI": "x", "ICEBERG_INGEST_TABLE_NAME": "db.t", "ICEBERG_INGEST_TABLE_SCHEMA": "id long",
                "ICEBERG_INGEST_CATALOG_PROPERTIES": #"{"token": "a", "token": "b"}"#,
            ])
        }
        #expect(fromVariable?.message.contains("ICEBERG_INGEST_CATALOG_PROPERTIES: 'catalog.properties.token' is given twice") == true)
    }

    /// Terraform outputs reach the job as environment variables: `${VAR}` and `${VAR:-default}` are
    /// expanded in every string (numbers too, given as strings); an unset variable without a default is an
    /// error naming it; `$$` is a dollar.
    @Test func variablesComeFromTheEnvironment() throws {
        let dir = try TestEnvironment.temporaryDirectory("job")
        defer { TestEnvironment.cleanUp(dir) }
        let text = #"""
            {"source": {"uri": "s3://${RAW_BUCKET}/events/", "late_arrival_hours": "${LATE:-4}"},
             "catalog": {"uri": "glue:?region=${AWS_REGION}", "warehouse": "s3://${LAKE_BUCKET}/wh"},
             "table": {"name": "${GLUE_DATABASE}.events", "schema": "id long", "properties": {"note": "costs $$5"}},
             "ingest": {"shard": "${SHARD:-0}/${SHARDS:-1}", "lease_seconds": "${LEASE:-30}"}}
            """#
        let path = try Self.write(text, in: dir)
        let job = try IngestJob(
            file: path, environment: ["RAW_BUCKET": "raw-prod", "AWS_REGION": "eu-west-1", "LAKE_BUCKET": "lake-prod", "GLUE_DATABASE": "analytics", "SHARDS": "3"])
        #expect(job.sourceURI == "s3://raw-prod/events/")
        #expect(job.lateArrivalHours == 4)
        #expect(job.catalogURI == "glue:?region=eu-west-1" && job.warehouse == "s3://lake-prod/wh")
        #expect(job.tableName == "analytics.events" && job.tableProperties["note"] == "costs $5")
        #expect(job.shard == "0/3" && job.leaseSeconds == 30)
        let error = #expect(throws: IngestError.self) { _ = try IngestJob(file: path, environment: [:]) }
        #expect(error?.message.contains("'source.uri' uses ${RAW_BUCKET}, which is not set") == true, "\(error?.message ?? "")")
    }

    /// Through the executable: broken JSON and a source folder that does not exist exit with 2, as the
    /// README promises, and name what is wrong.
    @Test func theExecutableExitsWith2() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("job")
        defer { TestEnvironment.cleanUp(dir) }
        let broken = try Self.write(#"{"source": {"uri": "x"},"#, in: dir)
        let first = try await TestProcesses.run(executable, arguments: ["run", "--config", broken])
        #expect(first.status == 2 && first.stderr.contains("is not valid JSON"), "\(first.stderr)")
        let missing = try Self.write(
            Self.base.replacingOccurrences(of: "SOURCE", with: dir.appendingPathComponent("nowhere").path)
                .replacingOccurrences(of: "}}", with: "}, \"catalog\": {\"uri\": \"sqlite:\(dir.path)/c.db\", \"warehouse\": \"\(dir.path)/wh\"}}"), in: dir)
        let second = try await TestProcesses.run(executable, arguments: ["run", "--config", missing])
        #expect(second.status == 2 && second.stderr.contains("source folder"), "\(second.stderr)")
    }

    /// The job file the README shows is a valid job: every key in it is known and every value in range.
    @Test func theReadmeJobFileIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "### The example executable"))
        let rest = readme[section.upperBound...]
        let start = try #require(rest.range(of: "```json\n"))
        let end = try #require(rest[start.upperBound...].range(of: "```"))
        let dir = try TestEnvironment.temporaryDirectory("job")
        defer { TestEnvironment.cleanUp(dir) }
        let path = try Self.write(String(rest[start.upperBound..<end.lowerBound]), in: dir)
        let job = try IngestJob(file: path, environment: [:])
        let configuration = try job.configuration()
        #expect(configuration.reconcileHours == 168 && configuration.lateFiles == .ingest && configuration.startAtHour != nil)
        #expect(job.sourceURI == "s3://raw/events/" && job.shard == "0/3")
    }
}
