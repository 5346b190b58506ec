import Foundation
import IcebergCore
import IcebergIngest
import S3Reader
import Testing
import TestSupport

/// The reliability suite: the example executable runs through `scripts/fault-proxy.py` with one request in
/// five faulted (500, 503 SlowDown, resets before and after the server saw the request, stalls, truncated
/// bodies): ingest with several commits, a second pass with new files, compaction, snapshot expiry and
/// orphan removal, for each catalog kind (SQLite with an S3 warehouse, the object-store catalog on S3, a
/// REST catalog behind a second faulty proxy, and Glue). Each command must complete in one go, and PyIceberg
/// must read the table exact: every id once, nothing lost, nothing twice. Then a bounded soak: passes with
/// faults and kill -9 at random moments between them, ending exact. The figures are printed.
@Suite(.serialized, .withinOneHour) struct FaultyNetworkTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, objectStore, rest, glue
        var testDescription: String { rawValue }
    }

    /// Writes `files` JSON-lines objects of `records` records per hour into `bucket`, ids from `firstID`.
    static func land(_ client: S3Client, bucket: String, hours: ClosedRange<Int32>, files: Int, records: Int, firstID: Int) async throws -> Int {
        var id = firstID
        for hour in hours {
            for file in 0..<files {
                var text = ""
                for r in 0..<records {
                    text += "{\"id\": \(id), \"event_time\": \(Int64(hour) * 3600 + Int64(r))}\n"
                    id += 1
                }
                let key = "events/" + PrefixLayout.firehose.prefix(forHour: hour) + "f\(file)-\(firstID).json"
                _ = try await client.putObject(bucket: bucket, key: key, body: Array(text.utf8))
            }
        }
        return id - firstID
    }

    /// A client straight to S3 (no faults), and a source and a warehouse bucket of the test's own.
    static func buckets(_ s3: S3TestEndpoint) async throws -> (client: S3Client, raw: String, lake: String) {
        let client = s3.client()
        let raw = TestEnvironment.uniqueBucketName("raw")
        let lake = TestEnvironment.uniqueBucketName("lake")
        try await client.createBucket(raw)
        try await client.createBucket(lake)
        return (client, raw, lake)
    }

    struct Setup {
        var jobPath: String
        var environment: [String: String]
        var cleanUp: () -> Void
    }

    /// The job file for `kind`, with S3 (and the REST catalog, faulting `restFaultRate` of its requests)
    /// behind faulty proxies.
    static func setUp(_ kind: Kind, s3: S3TestEndpoint, proxy: FaultProxy, raw: String, lake: String, dir: URL, restFaultRate: Double = 0.2) throws -> Setup {
        var catalog = ""
        var cleanUp: () -> Void = {}
        switch kind {
        case .sqlite: catalog = #""uri": "sqlite:\#(dir.path)/catalog.db", "warehouse": "s3://\#(lake)/wh""#
        case .objectStore: catalog = #""uri": "s3://\#(lake)/wh""#
        case .glue: catalog = #""uri": "glue:?endpoint=\#(proxy.url)&region=\#(s3.region)", "warehouse": "s3://\#(lake)/wh""#
        case .rest:
            // The server reads and writes S3 directly; what it vends to the run goes through the faults.
            var direct = [
                "s3.endpoint": s3.endpoint, "s3.region": s3.region, "s3.access-key-id": s3.accessKeyID,
                "s3.secret-access-key": s3.secretAccessKey, "s3.path-style-access": "true",
            ]
            if let token = s3.sessionToken { direct["s3.session-token"] = token }
            var vended = direct
            vended["s3.endpoint"] = proxy.url
            let server = try RESTTestServer(prefix: "s3", warehouse: "s3://\(lake)/wh", tableConfig: vended, catalogProperties: direct)
            let restProxy = try FaultProxy(upstream: server.url, rate: restFaultRate, seed: 29)
            cleanUp = {
                restProxy.stop()
                server.stop()
            }
            catalog = #""uri": "rest+\#(restProxy.url)""#
        }
        let job = """
            {"source": {"uri": "s3://\(raw)/events/", "layout": "firehose"},
             "catalog": {\(catalog)},
             "table": {"name": "\(kind == .glue ? "faults_\(UUID().uuidString.prefix(8).lowercased())" : "db").events", "schema": "id long not null, event_time timestamptz", "partition": "hour(event_time)"},
             "ingest": {"commit_every_objects": 3, "lease_seconds": 30},
             "s3": {"endpoint": "\(proxy.url)", "region": "\(s3.region)"}}
            """
        let jobPath = dir.appendingPathComponent("job.json").path
        try job.write(toFile: jobPath, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["AWS_ACCESS_KEY_ID"] = s3.accessKeyID
        environment["AWS_SECRET_ACCESS_KEY"] = s3.secretAccessKey
        environment["AWS_REGION"] = s3.region
        if let token = s3.sessionToken { environment["AWS_SESSION_TOKEN"] = token }
        return Setup(jobPath: jobPath, environment: environment, cleanUp: cleanUp)
    }

    /// Runs the executable (off the cooperative pool); returns its parsed `--json` line (every command here
    /// must succeed).
    static func command(_ arguments: [String], _ setup: Setup, _ what: String) async throws -> JSONValue {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let environment = setup.environment, job = setup.jobPath
        let result = try await TestProcesses.run(executable, arguments: arguments + ["--config", job, "--json"], environment: environment)
        #expect(result.status == 0, "\(what) exited \(result.status): \(result.stderr.suffix(2_000))")
        let line = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return (try? JSONValue.parse(line)) ?? .null
    }

    /// Reads the table at its current metadata file with PyIceberg (straight from S3, no faults); expects it
    /// valid and holding exactly ids 1...count.
    static func expectExact(_ setup: Setup, count: Int, _ what: String) async throws {
        let status = try await command(["status"], setup, "\(what): status")
        guard case .string(let metadata)? = status["metadataLocation"] else {
            Issue.record("\(what): status has no metadataLocation: \(status.serialized())")
            return
        }
        let report = try await TableValidation.check(metadataLocation: metadata)
        #expect(report.problems.isEmpty, "\(what): \(report.problems)")
        let ids = report.sortedRows.compactMap { row -> Int? in
            guard case .int(let id)? = try? JSONValue.parse(row)["id"] else { return nil }
            return Int(id)
        }
        #expect(ids.count == count, "\(what): \(ids.count) rows, expected \(count)")
        #expect(Set(ids) == Set(1...count), "\(what): ids lost or duplicated")
    }

    @Test(arguments: Kind.allCases) func oneRequestInFiveFaultedStillCompletesExactly(_ kind: Kind) async throws {
        let s3 = try TestEnvironment.s3()
        let dir = try TestEnvironment.temporaryDirectory("faults-\(kind.rawValue)")
        defer { TestEnvironment.cleanUp(dir) }
        let (client, raw, lake) = try await Self.buckets(s3)
        let now = PrefixLayout.hour(of: Date())
        var landed = try await Self.land(client, bucket: raw, hours: (now - 5)...(now - 2), files: 4, records: 200, firstID: 1)

        let proxy = try FaultProxy(upstream: s3.endpoint, rate: 0.2, seed: 11 + Kind.allCases.firstIndex(of: kind)!)
        defer { proxy.stop() }
        let setup = try Self.setUp(kind, s3: s3, proxy: proxy, raw: raw, lake: lake, dir: dir)
        defer { setup.cleanUp() }

        let first = try await Self.command(["run"], setup, "first run")
        #expect(first["rows"] == .int(3_200) && first["objectsIngested"] == .int(16), "\(first.serialized())")
        if case .array(let snapshots)? = first["snapshotIDs"] { #expect(snapshots.count >= 6) } else { Issue.record("no snapshotIDs") }
        landed += try await Self.land(client, bucket: raw, hours: (now - 1)...(now - 1), files: 4, records: 200, firstID: landed + 1)
        let second = try await Self.command(["run"], setup, "second run")
        #expect(second["rows"] == .int(800) && second["objectsIngested"] == .int(4), "\(second.serialized())")
        _ = try await Self.command(["compact"], setup, "compact")
        _ = try await Self.command(["expire-snapshots", "--older-than", "0s", "--retain-last", "2"], setup, "expire-snapshots")
        _ = try await Self.command(["remove-orphans", "--older-than", "0s"], setup, "remove-orphans")
        let third = try await Self.command(["run"], setup, "third run")
        #expect(third["objectsIngested"] == .int(0), "\(third.serialized())")
        try await Self.expectExact(setup, count: landed, kind.rawValue)

        let counts = try await proxy.counts()
        #expect(FaultProxy.faults(in: counts) > 10, "\(counts)")
        print("[reliability] \(kind.rawValue): \(counts["requests"] ?? 0) S3 requests, \(FaultProxy.faults(in: counts)) faulted \(counts.filter { $0.key != "requests" && $0.key != "forwarded" }.sorted { $0.key < $1.key }); 7 commands, each in one go; \(landed) rows, 0 lost, 0 duplicated")
    }

    /// Passes with faults, with more files landing between them, and kill -9 at a random moment of some of
    /// them: whatever was killed, the next pass completes what it left, and the table ends exact.
    @Test func boundedSoakWithFaultsAndKills() async throws {
        let s3 = try TestEnvironment.s3()
        let dir = try TestEnvironment.temporaryDirectory("faults-soak")
        defer { TestEnvironment.cleanUp(dir) }
        let (client, raw, lake) = try await Self.buckets(s3)
        let proxy = try FaultProxy(upstream: s3.endpoint, rate: 0.2, seed: 101)
        defer { proxy.stop() }
        let setup = try Self.setUp(.objectStore, s3: s3, proxy: proxy, raw: raw, lake: lake, dir: dir)
        let executable = try TestEnvironment.executable("iceberg-ingest")
        var random = SplitMix64(seed: 4_242)
        var landed = 0
        var killed = 0
        var completed = 0
        let passes = 12
        for pass in 0..<passes {
            // The hours are taken from the clock at each pass: the soak can cross an hour, and a run after it
            // folds what is then older than the window, so files landed there later would be late files (for
            // reconciliation, not for the next pass).
            let now = PrefixLayout.hour(of: Date())
            landed += try await Self.land(client, bucket: raw, hours: (now - 3)...(now - 2), files: 2, records: 50, firstID: landed + 1)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["run", "--config", setup.jobPath, "--wait", "60"]
            process.environment = setup.environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if pass % 2 == 1 {
                // Somewhere in the pass: listing, reading, uploading or committing.
                try await Task.sleep(for: .microseconds(Int.random(in: 200_000...2_500_000, using: &random)))
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    killed += 1
                }
            }
            try await TestProcesses.detached { process.waitUntilExit() }
            if process.terminationReason == .exit {
                #expect(process.terminationStatus == 0, "pass \(pass) exited \(process.terminationStatus)")
                completed += 1
            }
        }
        // A last pass finishes what a kill left (it waits out the killed holder's lease).
        let last = try await Self.command(["run", "--wait", "120"], setup, "the last pass")
        #expect(last["objectsIngested"] != nil)
        try await Self.expectExact(setup, count: landed, "soak")
        let counts = try await proxy.counts()
        print("[reliability] soak: \(passes + 1) passes (\(killed) killed with SIGKILL, \(completed) completed in one go), \(counts["requests"] ?? 0) S3 requests, \(FaultProxy.faults(in: counts)) faulted; \(landed) rows, 0 lost, 0 duplicated")
    }
}
