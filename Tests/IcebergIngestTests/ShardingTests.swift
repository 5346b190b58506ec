import Checkpoint
import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import IcebergIngest

/// Scale-out: shards own objects (not hours), so one busy hour spreads over every shard; the shard count
/// changes only by a rescaling, which neither skips nor repeats an object; a runner with another count is
/// refused; an Indexed Job's pods find their shard in the environment. Every table is read back by PyIceberg,
/// every id checked once.
@Suite(.withinOneHour) struct ShardingTests {
    struct Setup {
        let dir: URL
        let input: String
        let warehouse: String
        var expected: [String] = []

        init(_ label: String) throws {
            dir = try TestEnvironment.temporaryDirectory(label)
            input = dir.appendingPathComponent("in").path
            warehouse = dir.appendingPathComponent("wh").path
        }

        func catalog() throws -> SQLiteCatalog {
            try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
            return try SQLiteCatalog(name: "default", path: warehouse + "/catalog.db", warehouse: warehouse)
        }

        var commitEveryObjects = 4

        func ingestor(
            _ index: Int, of count: Int, rescale: Bool = false, catalog: SQLiteCatalog, source: ((any IngestSource) -> any IngestSource)? = nil
        ) throws -> Ingestor {
            var configuration = try PipelineSupport.configuration()
            configuration.shard = ShardID(index: index, count: count)
            configuration.rescale = rescale
            configuration.commitEveryObjects = commitEveryObjects
            configuration.leaseWaitSeconds = 120
            let folder = LocalFolderSource(root: input, layout: .firehose)
            var ingestor = Ingestor(configuration: configuration, catalog: catalog, source: source?(folder) ?? folder)
            ingestor.stop = StopRequest()
            return ingestor
        }

        mutating func generate(firstHour: Int32, hours: Int, files: Int, records: Int, firstID: Int) async throws {
            await expected.append(try PipelineSupport.generate(into: input, firstHour: firstHour, hours: hours, files: files, records: records, firstID: firstID))
        }

        /// PyIceberg reads the table: every expected row once, values equal.
        func check() async throws {
            let output = try await PipelineSupport.check(
                catalogPath: warehouse + "/catalog.db", warehouse: warehouse, table: "db.events", expected: try PipelineSupport.merge(expected), in: dir)
            #expect(output.hasPrefix("OK"), "\(output)")
        }

        /// Runs shards `0..<count` at the same time; returns their summaries.
        func runAll(_ count: Int, rescale: Bool = false) async throws -> [RunSummary] {
            let catalog = try catalog()
            return try await withThrowingTaskGroup(of: RunSummary.self) { group in
                for index in 0..<count {
                    let ingestor = try ingestor(index, of: count, rescale: rescale, catalog: catalog)
                    group.addTask { try await ingestor.run() }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
    }

    /// One hour of 900 objects (a live Firehose stream writes nearly everything under the current hour):
    /// each of 3 shards reads about a third of the bytes, every object exactly once. (A hash gives each
    /// shard n/3 ± 4.7% here, so ±20% holds whatever hour the keys name; `SourceCheckpointTests` checks the
    /// spread on fixed keys.)
    @Test func oneBusyHourSplitsAcrossThreeShards() async throws {
        var setup = try Setup("busy-hour")
        defer { TestEnvironment.cleanUp(setup.dir) }
        setup.commitEveryObjects = 100
        try await setup.generate(firstHour: PrefixLayout.hour(of: Date()) - 1, hours: 1, files: 900, records: 1, firstID: 1)
        let summaries = try await setup.runAll(3)
        #expect(summaries.reduce(0) { $0 + $1.objectsIngested } == 900)
        #expect(summaries.reduce(0) { $0 + $1.objectsListed } == 900, "each object listed by exactly one shard")
        let bytes = summaries.map { Double($0.bytesRead) }
        let mean = bytes.reduce(0, +) / 3
        #expect(bytes.allSatisfy { abs($0 - mean) / mean <= 0.20 }, "bytes per shard \(bytes), mean \(mean)")
        try await setup.check()
        // A second pass of every shard reads nothing.
        #expect(try await setup.runAll(3).allSatisfy { $0.objectsIngested == 0 })
    }

    /// Rescaling 3 → 5 → 2 while the stream goes on: every id once. A runner with another count than the
    /// source's layout is refused, before and after; the old shards' runners are refused after a rescaling.
    @Test func rescalingMidStreamIsExact() async throws {
        var setup = try Setup("rescale")
        defer { TestEnvironment.cleanUp(setup.dir) }
        let hour = PrefixLayout.hour(of: Date()) - 3
        try await setup.generate(firstHour: hour, hours: 2, files: 12, records: 5, firstID: 1)
        #expect(try await setup.runAll(3).reduce(0) { $0 + $1.objectsIngested } == 24)

        // New files in the open hours (late ones in an hour already read, and a new hour), then 5 shards.
        try await setup.generate(firstHour: hour + 1, hours: 2, files: 10, records: 5, firstID: 10_001)
        let catalog = try setup.catalog()
        let refused = await #expect(throws: IngestError.self) { _ = try await setup.ingestor(0, of: 5, catalog: catalog).run() }
        #expect(refused?.message.contains("sharded 3 ways") == true && refused?.message.contains("--rescale") == true, "\(refused?.message ?? "")")
        let five = try await setup.runAll(5, rescale: true)
        #expect(five.reduce(0) { $0 + $1.objectsIngested } == 20, "the 20 new objects, none of the 24 old: \(five.map(\.objectsIngested))")
        let table = try await catalog.loadTable(try TableIdentifier(parsing: "db.events"))
        let rescales = table.metadata.snapshots.filter { $0.summary["iceberg-ingest.rescaled"] != nil }
        #expect(rescales.count == 1, "one rescaling commit whatever the number of runners asking")
        let old = await #expect(throws: IngestError.self) { _ = try await setup.ingestor(1, of: 3, catalog: catalog).run() }
        #expect(old?.message.contains("sharded 5 ways (layout epoch 1)") == true, "\(old?.message ?? "")")

        // More of the stream, then down to 2 shards.
        try await setup.generate(firstHour: hour + 2, hours: 2, files: 8, records: 5, firstID: 20_001)
        let two = try await setup.runAll(2, rescale: true)
        #expect(two.reduce(0) { $0 + $1.objectsIngested } == 16)
        #expect(try await setup.runAll(2).allSatisfy { $0.objectsIngested == 0 })
        try await setup.check()
        let status = try await setup.ingestor(1, of: 2, catalog: catalog).status()
        #expect(status.shard == "shard-1-of-2-e2" && status.pendingObjects == 0)
    }

    /// A source the previous release sharded 3 ways by hour prefix (its commits name `shard-i-of-3`
    /// checkpoints but no layout; its checkpoint files have no folded hour and it kept no archive) is
    /// refused by a runner with another count, then moves to 2 shards owning objects by key with
    /// `--rescale`: the first rescaled pass reads only what landed since, every id once, and the old
    /// shards' unarchived hours stay folded.
    @Test func aSourceShardedByThePreviousReleaseRescales() async throws {
        var setup = try Setup("legacy-shards")
        defer { TestEnvironment.cleanUp(setup.dir) }
        let hour = PrefixLayout.hour(of: Date()) - 3
        try await setup.generate(firstHour: hour - 12, hours: 2, files: 6, records: 3, firstID: 1)
        try await setup.generate(firstHour: hour, hours: 2, files: 6, records: 3, firstID: 1_001)
        #expect(try await setup.runAll(3).reduce(0) { $0 + $1.objectsIngested } == 24)

        // What the previous release left: each shard's checkpoint in its format and no archive, and a last
        // commit whose summary names the three checkpoints without a layout.
        let catalog = try setup.catalog()
        var table = try await catalog.loadTable(try TableIdentifier(parsing: "db.events"))
        var legacy: [String: String] = [:]
        for index in 0..<3 {
            let (committed, _) = try await ExactlyOnceTimingTests.previousRelease(try setup.ingestor(index, of: 3, catalog: catalog), table: table)
            legacy.merge(committed.summaryProperties.filter { !$0.key.hasSuffix(".shard-layout") }) { _, new in new }
        }
        var append = FastAppend(table: table, catalog: catalog)
        append.summaryProperties = legacy
        table = try await append.commit()
        let source = try setup.ingestor(0, of: 3, catalog: catalog).source.identity
        #expect(ShardLayout.recorded(in: table.metadata.ancestors().lazy.map(\.summary), source: source) == .legacy(count: 3))

        try await setup.generate(firstHour: hour + 1, hours: 2, files: 5, records: 3, firstID: 2_001)
        let refused = await #expect(throws: IngestError.self) { _ = try await setup.ingestor(0, of: 2, catalog: catalog).run() }
        #expect(refused?.message.contains("by hour prefix") == true, "\(refused?.message ?? "")")
        let two = try await setup.runAll(2, rescale: true)
        #expect(two.reduce(0) { $0 + $1.objectsIngested } == 10, "the 10 new objects, none of the 24 old: \(two.map(\.objectsIngested))")
        #expect(try await setup.runAll(2).allSatisfy { $0.objectsIngested == 0 })
        try await setup.check()
    }

    /// Two counts starting on a source no commit has sharded yet both pass the start-up check: the first
    /// commit records its layout, and the other count's commit is refused on the table it builds on, so no
    /// object is read twice. Here a 5-shard runner is held at its first read while 3 shards ingest everything.
    @Test func twoCountsOnAFreshSourceLetTheFirstCommitDecide() async throws {
        var setup = try Setup("fresh-counts")
        defer { TestEnvironment.cleanUp(setup.dir) }
        try await setup.generate(firstHour: PrefixLayout.hour(of: Date()) - 1, hours: 1, files: 15, records: 2, firstID: 1)
        let catalog = try setup.catalog()
        let three = setup
        // The 5-shard runner must own an object (which do depends on the hour in the keys): the first key's shard.
        let keys = try await LocalFolderSource(root: setup.input, layout: .firehose).list(firstOpenHour: nil, now: Date()).objects.map(\.key)
        let index = ShardID.shardIndex(of: try #require(keys.first), count: 5)
        let late = try setup.ingestor(index, of: 5, catalog: catalog) { folder in
            GatedSource(wrapped: folder) {
                let ingested = try await three.runAll(3).reduce(0) { $0 + $1.objectsIngested }
                #expect(ingested == 15)
            }
        }
        let refused = await #expect(throws: IngestError.self) { _ = try await late.run() }
        #expect(refused?.code == .invalidConfiguration && refused?.message.contains("sharded 3 ways") == true, "\(refused?.message ?? "")")
        try await setup.check()
        let table = try await catalog.loadTable(try TableIdentifier(parsing: "db.events"))
        #expect(table.metadata.snapshots.allSatisfy { !$0.summary.keys.contains { $0.contains("-of-5") } })
    }

    /// A reconciliation after a rescaling finds the old shards' archives of closed hours: nothing already
    /// ingested counts as a late file, and a file that really landed late is read once.
    @Test func reconcilingAfterARescalingReadsOnlyLateFiles() async throws {
        var setup = try Setup("rescale-reconcile")
        defer { TestEnvironment.cleanUp(setup.dir) }
        let now = PrefixLayout.hour(of: Date())
        // Hours below the horizon (the watermark, now - 6 h, minus the 6 h window) fold into the archives on
        // the first pass.
        try await setup.generate(firstHour: now - 16, hours: 3, files: 6, records: 3, firstID: 1)
        #expect(try await setup.runAll(2).reduce(0) { $0 + $1.objectsIngested } == 18)
        #expect(try await setup.runAll(3, rescale: true).allSatisfy { $0.objectsIngested == 0 })
        try await setup.generate(firstHour: now - 15, hours: 1, files: 2, records: 3, firstID: 50_001)
        let catalog = try setup.catalog()
        var late = 0
        for index in 0..<3 {
            var ingestor = try setup.ingestor(index, of: 3, catalog: catalog)
            ingestor.configuration.reconcileHours = 24
            let summary = try await ingestor.run(reconcile: true)
            late += summary.lateFiles
            #expect(summary.objectsIngested == summary.lateFiles, "only late files are read: \(summary.lateFileKeys)")
        }
        #expect(late == 2)
        try await setup.check()
    }

    /// An Indexed Job: 3 processes started together, each finding its shard in the environment Kubernetes
    /// gives it (`JOB_COMPLETION_INDEX`) and the count the manifest sets (`ICEBERG_INGEST_SHARD_COUNT`).
    @Test func indexedJobPodsFindTheirShardInTheEnvironment() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        var setup = try Setup("indexed-job")
        defer { TestEnvironment.cleanUp(setup.dir) }
        try await setup.generate(firstHour: PrefixLayout.hour(of: Date()) - 1, hours: 1, files: 30, records: 4, firstID: 1)
        let arguments = [
            "run", "--source", setup.input, "--layout", "firehose", "--catalog", "sqlite:\(setup.warehouse)/catalog.db", "--warehouse", setup.warehouse,
            "--table", "db.events", "--schema", PipelineSupport.schemaText, "--partition", "hour(event_time)", "--late-arrival-hours", "6",
            "--drift", "ignore", "--commit-every-objects", "2", "--shard-from-env", "--json",
        ]
        let outputs = try await withThrowingTaskGroup(of: PythonTool.Output.self) { group in
            for index in 0..<3 {
                group.addTask {
                    try await TestProcesses.run(
                            executable, arguments: arguments, environment: ["JOB_COMPLETION_INDEX": "\(index)", "ICEBERG_INGEST_SHARD_COUNT": "3"])
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        var shards: Set<String> = []
        var objects = 0
        for output in outputs {
            #expect(output.status == 0, "\(output.stderr)")
            let summary = try JSONValue.parse(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            if case .string(let shard)? = summary["shard"] { shards.insert(shard) }
            if case .int(let n)? = summary["objectsIngested"] { objects += Int(n) }
        }
        #expect(shards == ["shard-0-of-3", "shard-1-of-3", "shard-2-of-3"] && objects == 30)
        try await setup.check()
        // Without the count, the flag says what is missing.
        let missing = try await TestProcesses.run(executable, arguments: arguments, environment: ["JOB_COMPLETION_INDEX": "0", "ICEBERG_INGEST_SHARD_COUNT": ""])
        #expect(missing.status == 2 && missing.stderr.contains("ICEBERG_INGEST_SHARD_COUNT"), "\(missing.stderr)")
    }
}

/// A source that runs `beforeFirstRead` once, before its first object is read (a stand-in for another
/// runner's work landing in the middle of this one's run).
private actor GatedSource: IngestSource {
    nonisolated let wrapped: any IngestSource
    private var gate: (@Sendable () async throws -> Void)?

    init(wrapped: any IngestSource, beforeFirstRead: @escaping @Sendable () async throws -> Void) {
        self.wrapped = wrapped
        gate = beforeFirstRead
    }

    nonisolated var identity: String { wrapped.identity }
    nonisolated var layout: PrefixLayout { wrapped.layout }

    func list(firstOpenHour: Int32?, now: Date) async throws -> SourceListing {
        try await wrapped.list(firstOpenHour: firstOpenHour, now: now)
    }

    func read(_ object: SourceObject, range: Range<Int64>) async throws -> [UInt8] {
        if let gate {
            self.gate = nil
            try await gate()
        }
        return try await wrapped.read(object, range: range)
    }
}
