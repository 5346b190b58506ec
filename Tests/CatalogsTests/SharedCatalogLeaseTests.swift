import Foundation
import IcebergCore
import IcebergIngest
import S3Reader
import Testing
import TestSupport

/// One runner per shard on every catalog with an S3 warehouse: three runs of the same shard started 0.1 to
/// 2 s apart (a CronJob whose last run is still going, a pod restarted while the old one drains) against
/// SQLite, the object-store catalog, REST and Glue. The lease lives beside the checkpoint in the warehouse
/// (an `If-None-Match` create on S3), so it must hold whatever catalog commits: one run works, the others
/// exit with code 6 naming it or find nothing left, and the table holds every id once with no missing file.
/// Before them, `plan` and `status` must create nothing: no namespace, no table, no file.
/// (`ExactlyOnceTimingTests` does the same on local warehouses, repeated, and with kills and pauses.)
@Suite(.withinOneHour) struct SharedCatalogLeaseTests {
    @Test(arguments: FaultyNetworkTests.Kind.allCases)
    func overlappingRunsOfOneShardOnS3(_ kind: FaultyNetworkTests.Kind) async throws {
        let s3 = try TestEnvironment.s3()
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("lease-\(kind.rawValue)")
        defer { TestEnvironment.cleanUp(dir) }
        let (client, raw, lake) = try await FaultyNetworkTests.buckets(s3)
        let now = PrefixLayout.hour(of: Date())
        let landed = try await FaultyNetworkTests.land(client, bucket: raw, hours: (now - 4)...(now - 1), files: 6, records: 20, firstID: 1)
        // No faults here, on S3 or the REST catalog: this is about timing (FaultyNetworkTests does faults).
        let proxy = try FaultProxy(upstream: s3.endpoint, rate: 0, seed: 1)
        defer { proxy.stop() }
        let setup = try FaultyNetworkTests.setUp(kind, s3: s3, proxy: proxy, raw: raw, lake: lake, dir: dir, restFaultRate: 0)
        defer { setup.cleanUp() }

        // plan and status first: they create nothing, in the warehouse or in the catalog.
        let plan = try await FaultyNetworkTests.command(["plan"], setup, "\(kind.rawValue): plan")
        if case .array(let toRead)? = plan["toRead"] { #expect(toRead.count == 24) } else { Issue.record("plan: \(plan.serialized())") }
        let readOnlyEnvironment = setup.environment, jobPath = setup.jobPath
        let status = try await TestProcesses.run(executable, arguments: ["status", "--config", jobPath], environment: readOnlyEnvironment)
        #expect(status.status != 0 && status.stderr.contains("not-found"), "status of a table not made yet: \(status.stderr)")
        var written: [String] = []
        for try await page in client.listAllPages(bucket: lake) { written += page.objects.map(\.key) }
        #expect(written.isEmpty, "plan or status wrote to the warehouse: \(written)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("catalog.db").path))
        let job = try IngestJob(file: setup.jobPath, environment: setup.environment)
        let namespace = try TableIdentifier(parsing: job.tableName).namespace
        #expect(!(try await job.catalog(readOnly: true).listNamespaces()).contains(namespace), "plan or status created the namespace")

        var random = SplitMix64(seed: 41 + UInt64(FaultyNetworkTests.Kind.allCases.firstIndex(of: kind)!))
        let arguments = ["run", "--config", setup.jobPath, "--json", "--commit-every-objects", "2"]
        let environment = setup.environment
        let outputs = try await withThrowingTaskGroup(of: PythonTool.Output.self) { group in
            var start = 0.0
            for _ in 0..<3 {
                start += 0.1 + Double(random.next() % 1_900) / 1_000
                let wait = start
                group.addTask {
                    try await Task.sleep(for: .milliseconds(Int(wait * 1000)))
                    return try await TestProcesses.run(executable, arguments: arguments, environment: environment)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        var ingested: Int64 = 0
        var held = 0
        for output in outputs {
            #expect(output.status == 0 || output.status == 6, "\(kind.rawValue): exit \(output.status): \(output.stderr.suffix(2_000))")
            if output.status == 6 {
                held += 1
                #expect(output.stderr.contains("another runner holds this shard"), "\(output.stderr)")
            }
            if output.status == 0, let line = output.stdout.split(separator: "\n").last,
                case .int(let n)? = try JSONValue.parse(String(line))["objectsIngested"]
            {
                ingested += n
            }
        }
        #expect(outputs.contains { $0.status == 0 }, "\(kind.rawValue): no run got the lease")
        let last = try await FaultyNetworkTests.command(["run"], setup, "\(kind.rawValue): last run")
        if case .int(let n)? = last["objectsIngested"] { ingested += n }
        #expect(ingested == 24, "\(kind.rawValue): \(ingested) objects read in all, 24 landed")
        try await FaultyNetworkTests.expectExact(setup, count: landed, "\(kind.rawValue) after overlapping runs")
        print("[lease] \(kind.rawValue): 3 overlapping runs on S3, \(held) refused with exit 6; \(ingested) objects read once in all")
    }
}
