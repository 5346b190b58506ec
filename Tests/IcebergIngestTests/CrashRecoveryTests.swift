import Foundation
import IcebergCore
import IcebergS3
import S3Reader
import Testing
import TestSupport

@testable import IcebergIngest

/// Exactly once across crashes and concurrent workers, through the example executable as a user runs it.
@Suite(.serialized, .withinOneHour) struct CrashRecoveryTests {
    enum Point: String, CaseIterable, CustomTestStringConvertible {
        case afterCheckpoint = "after-checkpoint", beforeUpload = "before-upload", afterUpload = "after-upload"
        case afterManifest = "after-manifest", afterSwap = "after-swap"
        var testDescription: String { rawValue }
    }

    static func arguments(input: String, warehouse: String, extra: [String] = []) -> [String] {
        [
            "run", "--json", "--source", input, "--layout", "firehose", "--table", "db.events", "--schema", PipelineSupport.schemaText,
            "--partition", "hour(event_time)", "--warehouse", warehouse, "--catalog", "sqlite:\(warehouse)/catalog.db",
            "--late-arrival-hours", "6",
        ] + extra
    }

    /// The executable, and a folder (the caller cleans it up) with the input the tests run on, 240 rows in six
    /// objects over the three hours from four hours ago, its expected rows, and where the warehouse goes.
    static func setUp(_ name: String) async throws -> (executable: String, dir: URL, input: String, expected: String, warehouse: String) {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory(name)
        let input = dir.appendingPathComponent("input").path
        do {
            let expected = try await PipelineSupport.generate(
                into: input, firstHour: PrefixLayout.hour(of: Date()) - 4, hours: 3, files: 2, records: 40, firstID: 1)
            return (executable, dir, input, expected, dir.appendingPathComponent("wh").path)
        } catch {
            TestEnvironment.cleanUp(dir)
            throw error
        }
    }

    /// Parquet files on disk under the table's data folder.
    static func parquetFiles(under directory: String) -> Set<String> {
        let walker = FileManager.default.enumerator(atPath: directory)
        var found = Set<String>()
        while let path = walker?.nextObject() as? String {
            if path.hasSuffix(".parquet") { found.insert(directory + "/" + path) }
        }
        return found
    }

    /// Crash at each step of a run's first commit, run again, and check the table holds every source row
    /// exactly once and no data file is left unreferenced.
    @Test(arguments: Point.allCases)
    func crashThenRunAgain(_ point: Point) async throws {
        let (executable, dir, input, expected, warehouse) = try await Self.setUp("crash-\(point.rawValue)")
        defer { TestEnvironment.cleanUp(dir) }
        // Two objects per commit; the process dies at the fail point of the first commit.
        let arguments = Self.arguments(input: input, warehouse: warehouse, extra: ["--commit-every-objects", "2"])
        let crashed = try await TestProcesses.run(executable, arguments: arguments, environment: ["ICEBERG_INGEST_FAIL_POINT": point.rawValue])
        #expect(crashed.status == 86, "expected the fail point to stop the process: \(crashed.stderr)")
        #expect(crashed.stderr.contains("fail point '\(point.rawValue)' reached"))
        let resumed = try await TestProcesses.run(executable, arguments: arguments, environment: ["ICEBERG_INGEST_FAIL_POINT": ""])
        #expect(resumed.status == 0, "second run failed: \(resumed.stderr)")
        let summary = try JSONValue.parse(resumed.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        // The crashed commit's objects are read again unless its swap had happened.
        let committedBefore = point == .afterSwap ? 1 : 0
        #expect(summary["objectsIngested"] == .int(Int64(6 - 2 * committedBefore)), "\(resumed.stdout)")
        #expect(summary["objectsAlreadyIngested"] == .int(Int64(2 * committedBefore)))
        if [.afterUpload, .afterManifest].contains(point) {
            #expect(summary["orphanFilesDeleted"] != .int(0), "the crashed run's uploaded files must be deleted: \(resumed.stdout)")
        }
        let output = try await PipelineSupport.check(catalogPath: warehouse + "/catalog.db", warehouse: "file://" + warehouse, table: "db.events", expected: expected, in: dir)
        #expect(output.hasPrefix("OK 240"))

        let table = try await Self.expectEveryDataFileReferenced(warehouse: warehouse)

        // And every manifest and manifest list in the metadata folder belongs to a snapshot: the dead
        // commit's (written before its swap, named with its snapshot id) were deleted by the next run.
        var referencedMetadata = Set<String>()
        for snapshot in table.metadata.snapshots {
            referencedMetadata.insert(snapshot.manifestList)
            for manifest in try ManifestCodec.readManifestList(try await table.io.read(snapshot.manifestList), location: "list") {
                referencedMetadata.insert(manifest.path)
            }
        }
        let avro = Set(try FileManager.default.contentsOfDirectory(atPath: table.metadata.location + "/metadata")
            .filter { $0.hasSuffix(".avro") }.map { table.metadata.location + "/metadata/" + $0 })
        #expect(avro == referencedMetadata, "left behind: \(avro.subtracting(referencedMetadata))")
    }

    /// Every Parquet file in the table's folder is referenced by the table's current snapshot: no orphan
    /// survived. Returns the table.
    static func expectEveryDataFileReferenced(warehouse: String) async throws -> Table {
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        let table = try await catalog.loadTable(try TableIdentifier(parsing: "db.events"))
        var referenced = Set<String>()
        for manifest in try ManifestCodec.readManifestList(try await table.io.read(table.metadata.currentSnapshot!.manifestList), location: "list") {
            let bytes = try await table.io.read(manifest.path)
            let entries = try ManifestCodec.readManifest(
                bytes, manifest: manifest, schema: table.metadata.currentSchema, specs: table.metadata.partitionSpecs, location: manifest.path)
            for entry in entries {
                referenced.insert(entry.dataFile.filePath)
            }
        }
        #expect(Self.parquetFiles(under: table.metadata.location + "/data") == referenced)
        return table
    }

    /// A data file fails to close after the commit saved its checkpoint (as a full disk would make it): the
    /// run fails naming the failure, leaves no spool behind, and the next run commits every row exactly
    /// once, with no file of the failed commit left in the table's folder.
    @Test func aDataFileThatFailsToCloseFailsTheCommitAndTheNextRunRecovers() async throws {
        let (executable, dir, input, expected, warehouse) = try await Self.setUp("close-fails")
        defer { TestEnvironment.cleanUp(dir) }
        let spoolParent = dir.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: spoolParent, withIntermediateDirectories: true)
        // One commit of all six objects, into three hourly files: the second file to close fails.
        let arguments = Self.arguments(input: input, warehouse: warehouse, extra: ["--commit-every-objects", "6"])
        let failed = try await TestProcesses.run(
            executable, arguments: arguments, environment: ["ICEBERG_INGEST_FAIL_POINT": "close-data-file@2", "TMPDIR": spoolParent.path])
        #expect(failed.status != 0 && failed.status != FailPoint.exitCode, "the run must fail with the error: \(failed.status) \(failed.stderr)")
        #expect(failed.stderr.contains("injected fault at 'close-data-file'"), "\(failed.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spoolParent.path).isEmpty, "the failed run's spool is removed")

        let resumed = try await TestProcesses.run(executable, arguments: arguments, environment: ["ICEBERG_INGEST_FAIL_POINT": "", "TMPDIR": spoolParent.path])
        #expect(resumed.status == 0, "second run failed: \(resumed.stderr)")
        let summary = try JSONValue.parse(resumed.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(summary["objectsIngested"] == .int(6) && summary["objectsAlreadyIngested"] == .int(0), "\(resumed.stdout)")
        let output = try await PipelineSupport.check(catalogPath: warehouse + "/catalog.db", warehouse: "file://" + warehouse, table: "db.events", expected: expected, in: dir)
        #expect(output.hasPrefix("OK 240"))
        let table = try await Self.expectEveryDataFileReferenced(warehouse: warehouse)
        #expect(table.metadata.snapshots.count == 1, "the failed commit made no snapshot")
    }

    /// Three processes, each a shard of the same S3 source, commit into one table at the same time: their
    /// commits conflict and retry, and every row lands exactly once.
    @Test func threeShardsIngestOneSourceConcurrently() async throws {
        let s3 = try TestEnvironment.s3()
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("shards")
        defer { TestEnvironment.cleanUp(dir) }
        let client = s3.client()
        let raw = TestEnvironment.uniqueBucketName("raw"), lake = TestEnvironment.uniqueBucketName("lake")
        try await client.createBucket(raw)
        try await client.createBucket(lake)
        let expected = try await PipelineSupport.generate(
            into: "s3://\(raw)/events/", firstHour: PrefixLayout.hour(of: Date()) - 6, hours: 6, files: 2, records: 30, firstID: 1, endpoint: s3.endpoint)
        let catalogPath = dir.appendingPathComponent("catalog.db").path
        let outputs = try await withThrowingTaskGroup(of: PythonTool.Output.self) { group in
            for shard in 0..<3 {
                let arguments = [
                    "run", "--json", "--source", "s3://\(raw)/events/", "--table", "db.events", "--schema", PipelineSupport.schemaText,
                    "--partition", "hour(event_time)", "--warehouse", "s3://\(lake)/wh", "--catalog", "sqlite:\(catalogPath)",
                    "--late-arrival-hours", "6", "--shard", "\(shard)/3", "--commit-every-objects", "1", "--s3-endpoint", s3.endpoint, "--verbose",
                ]
                group.addTask { try await TestProcesses.run(executable, arguments: arguments) }
            }
            var all: [PythonTool.Output] = []
            for try await output in group { all.append(output) }
            return all
        }
        var objects: Int64 = 0, commits = 0, retries = 0
        for output in outputs {
            #expect(output.status == 0, "a shard failed: \(output.stderr)")
            let summary = try JSONValue.parse(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            if case .int(let n)? = summary["objectsIngested"] { objects += n }
            if case .array(let ids)? = summary["snapshotIDs"] { commits += ids.count }
            retries += output.stderr.components(separatedBy: "commit conflict, retry").count - 1
        }
        #expect(objects == 12)
        let catalog = try SQLiteCatalog(path: catalogPath, warehouse: "s3://\(lake)/wh", io: S3FileIO(client: client))
        let table = try await catalog.loadTable(try TableIdentifier(parsing: "db.events"))
        #expect(table.metadata.snapshots.count == commits)
        print("three shards: \(commits) commits, \(retries) conflict retries")
        let output = try await PipelineSupport.check(
            catalogPath: catalogPath, warehouse: "s3://\(lake)/wh", table: "db.events", expected: expected, endpoint: s3.endpoint, in: dir)
        #expect(output.hasPrefix("OK 360"))
    }
}
