import Foundation
import IcebergCore
import Logging
import Testing
import TestSupport

@testable import Checkpoint
@testable import IcebergIngest

/// Exactly once whatever the timing: overlapping runs of one shard, a late-arrival window that changes
/// between runs, and plan and run agreeing object for object.
@Suite(.serialized, .withinOneHour) struct ExactlyOnceTimingTests {
    enum CatalogKind: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, objectStore = "object-store"
        var testDescription: String { rawValue }
    }

    static func arguments(input: String, warehouse: String, catalog: CatalogKind, extra: [String] = []) -> [String] {
        let catalogURI = catalog == .sqlite ? "sqlite:\(warehouse)/catalog.db" : "file:\(warehouse)"
        return [
            "run", "--json", "--source", input, "--layout", "firehose", "--table", "db.events", "--schema", PipelineSupport.schemaText,
            "--partition", "hour(event_time)", "--warehouse", warehouse, "--catalog", catalogURI, "--late-arrival-hours", "6",
        ] + extra
    }

    /// The ids PyIceberg reads from the table, and the problems its deep check finds.
    static func tableIDs(warehouse: String, catalog: CatalogKind) async throws -> (ids: [Int], problems: [String]) {
        let opened: any Catalog =
            catalog == .sqlite
            ? try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse) : ObjectStoreCatalog(warehouse: warehouse, io: LocalFileIO())
        let table = try await opened.loadTable(try TableIdentifier(parsing: "db.events"))
        let report = try await TableValidation.check(metadataLocation: table.metadataLocation)
        let ids = try report.sortedRows.map { row -> Int in
            guard case .int(let id)? = try JSONValue.parse(row)["id"] else { throw TestEnvironmentError("row without id: \(row)") }
            return Int(id)
        }
        return (ids.sorted(), report.problems)
    }

    /// What the library-level tests here start from: a local source folder, a SQLite catalog in a warehouse
    /// folder, and the pipeline's configuration with a `lateArrivalHours` window.
    struct LocalSetup {
        let dir: URL
        let input: String
        let warehouse: String
        let catalog: SQLiteCatalog
        var configuration: IngestConfiguration

        init(_ label: String, lateArrivalHours: Int32) throws {
            dir = try TestEnvironment.temporaryDirectory(label)
            input = dir.appendingPathComponent("input").path
            warehouse = dir.appendingPathComponent("wh").path
            try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
            catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
            configuration = try PipelineSupport.configuration()
            configuration.lateArrivalHours = lateArrivalHours
        }

        func ingestor() -> Ingestor {
            Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: input, layout: .firehose))
        }
    }

    /// Three runs of the same shard started 0.1 to 2 s apart (a CronJob whose last run is still going, a pod
    /// restarted while the old one drains): one holds the lease and works, the others exit with code 6
    /// naming it, or run after it and find nothing new. Every id lands once and every file the table names
    /// exists; this used to corrupt the table in 6 of 6 rounds.
    @Test(arguments: CatalogKind.allCases)
    func overlappingRunsOfOneShard(_ catalog: CatalogKind) async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        var random = SplitMix64(seed: catalog == .sqlite ? 7 : 11)
        for round in 0..<2 {
            let dir = try TestEnvironment.temporaryDirectory("overlap-\(catalog.rawValue)-\(round)")
            defer { TestEnvironment.cleanUp(dir) }
            let input = dir.appendingPathComponent("input").path
            _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 5, hours: 4, files: 50, records: 1, firstID: 1)
            let warehouse = dir.appendingPathComponent("wh").path
            let arguments = Self.arguments(input: input, warehouse: warehouse, catalog: catalog, extra: ["--commit-every-objects", "2"])
            let delays = (0..<3).map { _ in 0.1 + Double(random.next() % 1_900) / 1_000 }
            let outputs = try await withThrowingTaskGroup(of: PythonTool.Output.self) { group in
                var start = 0.0
                for delay in delays {
                    start += delay
                    let wait = start
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(Int(wait * 1000)))
                        return try await TestProcesses.run(executable, arguments: arguments)
                    }
                }
                var all: [PythonTool.Output] = []
                for try await output in group { all.append(output) }
                return all
            }
            var ingested: Int64 = 0
            for output in outputs {
                #expect(output.status == 0 || output.status == 6, "round \(round): \(output.stderr)")
                if output.status == 6 { #expect(output.stderr.contains("another runner holds this shard"), "\(output.stderr)") }
                if output.status == 0, case .int(let n)? = try JSONValue.parse(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["objectsIngested"] {
                    ingested += n
                }
            }
            #expect(outputs.contains { $0.status == 0 }, "round \(round): no run got the lease")
            // Whatever the interleaving, the objects were read once in all; a last run finds nothing new.
            let last = try await TestProcesses.run(executable, arguments: arguments)
            #expect(last.status == 0, "\(last.stderr)")
            let lastSummary = try JSONValue.parse(last.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            if case .int(let n)? = lastSummary["objectsIngested"] { ingested += n }
            #expect(ingested == 200, "round \(round) (delays \(delays)): objects read \(ingested) times in all")
            let (ids, problems) = try await Self.tableIDs(warehouse: warehouse, catalog: catalog)
            #expect(problems.isEmpty, "\(problems)")
            #expect(ids == Array(1...200), "round \(round): \(ids.count) rows, \(Set(ids).count) distinct")
        }
    }

    /// SIGTERM (Kubernetes stopping the pod) stops a run between objects: it keeps what it committed, lets
    /// go of its lease (the newest lease record says released) and exits with 143; the next run goes on at once.
    @Test func sigtermReleasesTheLease() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("sigterm")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("input").path
        _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 5, hours: 4, files: 50, records: 1, firstID: 1)
        let warehouse = dir.appendingPathComponent("wh").path
        let arguments = Self.arguments(input: input, warehouse: warehouse, catalog: .sqlite, extra: ["--commit-every-objects", "2"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait for the first commit, then stop the run mid-way: on a thread of its own, so that a busy
        // cooperative pool cannot delay the signal until the run is over. The lease is written under the
        // checkpoint folder before anything is read, so the folder is no sign of a commit; a second
        // checkpoint version is (version 2 is saved only after version 1 committed).
        let checkpoints = warehouse + "/db.db/events/metadata/ingest-checkpoints"
        let message = try await TestProcesses.detached {
            let deadline = Date().addingTimeInterval(60)
            func versions() -> Int {
                ((try? FileManager.default.subpathsOfDirectory(atPath: checkpoints)) ?? [])
                    .filter { $0.hasSuffix(".ckpt") && !$0.contains("/lineage/") }.count
            }
            while versions() < 2, Date() < deadline { usleep(10_000) }
            process.terminate()  // SIGTERM
            process.waitUntilExit()
            return String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        }
        #expect(process.terminationStatus == 143, "\(message)")
        #expect(message.contains("SIGTERM received"), "\(message)")
        let leases = try FileManager.default.subpathsOfDirectory(atPath: warehouse + "/db.db/events/metadata/ingest-checkpoints")
            .filter { $0.contains("/lease/") }.sorted()
        let newest = try #require(leases.last)
        let record = try JSONDecoder().decode(
            LeaseRecord.self, from: Data(contentsOf: URL(fileURLWithPath: warehouse + "/db.db/events/metadata/ingest-checkpoints/" + newest)))
        #expect(record.released, "the stopped run let go of its lease")
        let rest = try await TestProcesses.run(executable, arguments: arguments)
        #expect(rest.status == 0, "\(rest.stderr)")
        guard case .int(let read)? = try JSONValue.parse(rest.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["objectsIngested"] else {
            Issue.record("no summary: \(rest.stdout)")
            return
        }
        #expect(read > 0 && read < 200, "the stopped run committed part of the work: \(read) objects left")
        let (ids, problems) = try await Self.tableIDs(warehouse: warehouse, catalog: .sqlite)
        #expect(problems.isEmpty)
        #expect(ids == Array(1...200))
    }

    /// SIGTERM (and SIGINT, Ctrl-C) in the middle of one large batch, at seeded random moments: the run starts
    /// no new object, commits the objects it has read, prints its summary (`stopped`), removes its spool and
    /// exits 128 + the signal well within the grace period; the next run reads the rest; every id once. At
    /// least one of the moments must fall while objects are still being read.
    @Test func sigtermCommitsWhatWasRead() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        var stoppedMidway = 0
        let seed = UInt64(Date().timeIntervalSince1970) % 10_000
        var random = SplitMix64(seed: seed)
        let moments: [(delay: Int, signal: Int32)] = [(0, SIGTERM), (Int(random.next() % 300), SIGINT), (Int(random.next() % 300), SIGTERM)]
        for (delay, signal) in moments {
            let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
            let dir = try TestEnvironment.temporaryDirectory("sigterm-batch")
            defer { TestEnvironment.cleanUp(dir) }
            let input = dir.appendingPathComponent("input").path
            _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 5, hours: 4, files: 300, records: 5, firstID: 1)
            let total = 1_200
            let warehouse = dir.appendingPathComponent("wh").path
            let spoolParent = dir.appendingPathComponent("tmp")
            try FileManager.default.createDirectory(at: spoolParent, withIntermediateDirectories: true)
            let arguments = Self.arguments(input: input, warehouse: warehouse, catalog: .sqlite, extra: ["--commit-every-objects", "100000", "--grace", "20"])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": spoolParent.path]) { $1 }
            let stdout = Pipe(), stderr = Pipe()
            process.standardOutput = stdout
            process.standardError = stderr
            try process.run()
            // Once the pass has its spool (it is reading), wait a moment and stop it (on a thread of its own:
            // a busy cooperative pool must not delay the signal).
            let spoolPath = spoolParent.path
            let (output, message, stoppedIn) = try await TestProcesses.detached {
                let deadline = Date().addingTimeInterval(20)
                while ((try? FileManager.default.contentsOfDirectory(atPath: spoolPath)) ?? []).isEmpty, process.isRunning, Date() < deadline {
                    usleep(2_000)
                }
                usleep(useconds_t(delay * 1_000))
                let signalled = Date()
                kill(process.processIdentifier, signal)
                let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                return (output, message, Date().timeIntervalSince(signalled))
            }
            let summary = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
            guard case .int(let committed)? = summary["objectsIngested"] else {
                Issue.record("no summary: \(output) \(message)")
                return
            }
            if process.terminationStatus == 128 + signal {
                #expect(message.contains("\(name) received: committing what was read"), "\(message)")
                #expect(stoppedIn < 20, "stopped in \(stoppedIn) s")
                // Stopped while reading: part committed; or the signal came once every object was read.
                #expect(summary["stopped"] == .bool(committed < total), "\(output)")
                if committed < total { stoppedMidway += 1 }
            } else {
                #expect(process.terminationStatus == 0 && committed == Int64(total), "\(message)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: spoolParent.path).isEmpty, "the spool is removed")
            let rest = try await TestProcesses.run(executable, arguments: arguments)
            #expect(rest.status == 0, "\(rest.stderr)")
            let second = try JSONValue.parse(rest.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(second["objectsIngested"] == .int(Int64(total) - committed), "first run committed \(committed): \(rest.stdout)")
            let (ids, problems) = try await Self.tableIDs(warehouse: warehouse, catalog: .sqlite)
            #expect(problems.isEmpty)
            #expect(ids == Array(1...(total * 5)))
            print("[sigterm] seed \(seed): \(name) \(delay) ms into reading: \(committed) of \(total) objects committed by the stopped run (exit \(process.terminationStatus)), stopped in \(String(format: "%.2f", stoppedIn)) s")
        }
        #expect(stoppedMidway >= 1, "no signal fell while objects were being read")
    }

    /// kill -9 at random moments of runs that hold the lease (no chance to release it), then a run that
    /// takes the lease over, recovers and finishes: every id once. The first runs take over at once (the
    /// holder's process is gone, on this host); for the last, the dead holder's record is made another
    /// node's (a pod on another machine, whose process nobody here can check), so the run must wait for
    /// the lease to expire before it takes over.
    @Test func killNineAtRandomMomentsThenTakeOver() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("kill9")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("input").path
        _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 5, hours: 4, files: 50, records: 1, firstID: 1)
        let warehouse = dir.appendingPathComponent("wh").path
        let arguments = Self.arguments(input: input, warehouse: warehouse, catalog: .sqlite, extra: ["--commit-every-objects", "2", "--lease-seconds", "4"])
        func leaseRecords() -> [String] {
            (FileManager.default.subpaths(atPath: warehouse) ?? []).filter { $0.contains("/lease/") && $0.hasSuffix(".json") }
        }
        /// Starts a run and kills it with SIGKILL `milliseconds` later, or (nil) as soon as it holds a new lease
        /// record: a fixed delay can outlast a fast run, which then releases its lease before the kill.
        func runKilled(after milliseconds: Int?) async throws {
            let before = leaseRecords().max()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if let milliseconds {
                try await Task.sleep(for: .milliseconds(milliseconds))
            } else {
                let deadline = Date().addingTimeInterval(20)
                while Date() < deadline, process.isRunning {
                    if let newest = leaseRecords().max(), newest != before,
                        let record = try? JSONDecoder().decode(LeaseRecord.self, from: Data(contentsOf: URL(fileURLWithPath: warehouse + "/" + newest))),
                        !record.released
                    {
                        break
                    }
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        var random = SplitMix64(seed: 2026)
        var kills: [Int] = []
        for _ in 0..<3 {
            let after = 200 + Int(random.next() % 1_800)
            try await runKilled(after: after)
            kills.append(after)
        }
        // One more killed holder, with new objects to read, killed as soon as it holds the lease; its record
        // then becomes another node's: only its expiry frees the lease.
        _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 2, hours: 1, files: 100, records: 1, firstID: 201)
        try await runKilled(after: nil)
        var expiresIn: Double?
        let records = leaseRecords()
        if let newest = records.max() {
            let path = warehouse + "/" + newest
            var record = try JSONDecoder().decode(LeaseRecord.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            if !record.released {
                record.host = "ip-10-0-7-21.node-b.internal"
                try JSONEncoder().encode(record).write(to: URL(fileURLWithPath: path))
                expiresIn = Double(record.expiresMillis) / 1000 - Date().timeIntervalSince1970
            }
        }
        let started = Date()
        let last = try await TestProcesses.run(executable, arguments: arguments + ["--wait", "30"])
        #expect(last.status == 0, "after kills at \(kills) ms: \(last.stderr)")
        if let expiresIn {
            #expect(Date().timeIntervalSince(started) >= expiresIn - 0.5, "took over \(Date().timeIntervalSince(started)) s after start, the lease expired in \(expiresIn) s")
        } else {
            Issue.record("the last kill left no live lease record to take over after expiry: \(records)")
        }
        let (ids, problems) = try await Self.tableIDs(warehouse: warehouse, catalog: .sqlite)
        #expect(problems.isEmpty, "\(problems)")
        #expect(ids == Array(1...300), "after kills at \(kills) ms: \(ids.count) rows, \(Set(ids).count) distinct")
    }

    /// A runner paused past its lease (SIGSTOP: a stopped VM, a frozen container) while another runner takes
    /// the lease over and finishes: when it resumes it notices before committing, stops without committing
    /// (exit code 6), and the table is exact. (On the object-store catalog: a process stopped inside a SQLite
    /// transaction would hold the database's lock, which is SQLite's behaviour, not the lease's.)
    @Test func aPausedHolderStopsWithoutCommitting() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("paused")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("input").path
        _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 5, hours: 4, files: 100, records: 1, firstID: 1)
        let warehouse = dir.appendingPathComponent("wh").path
        let arguments = Self.arguments(input: input, warehouse: warehouse, catalog: .objectStore, extra: ["--commit-every-objects", "2", "--lease-seconds", "3", "--verbose"])
        let paused = Process()
        paused.executableURL = URL(fileURLWithPath: executable)
        paused.arguments = arguments
        let stderr = Pipe()
        paused.standardError = stderr
        paused.standardOutput = FileHandle.nullDevice
        try paused.run()
        // Paused right after its second commit (a second checkpoint version), from a thread of its own: a
        // wait on the busy cooperative pool once let the whole run (about 2 s) finish first.
        let checkpoints = warehouse + "/db/events/metadata/ingest-checkpoints"
        let pausedMidway = try await TestProcesses.detached { () -> Bool in
            let deadline = Date().addingTimeInterval(60)
            func versions() -> Int {
                ((try? FileManager.default.subpathsOfDirectory(atPath: checkpoints)) ?? []).filter { $0.hasSuffix(".ckpt") && !$0.contains("/lineage/") }.count
            }
            while versions() < 2, Date() < deadline { usleep(5_000) }
            kill(paused.processIdentifier, SIGSTOP)
            return paused.isRunning
        }
        #expect(pausedMidway, "the runner must be paused before it finishes")
        // The lease expires (3 s); the same host sees its holder alive (stopped), so the takeover waits for expiry.
        try await Task.sleep(for: .seconds(4))
        let other = try await TestProcesses.run(executable, arguments: arguments)
        #expect(other.status == 0, "the runner that took over: \(other.stderr)")
        #expect(other.stderr.isEmpty || !other.stderr.contains("another runner holds"), "\(other.stderr)")
        kill(paused.processIdentifier, SIGCONT)
        paused.waitUntilExit()
        let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(paused.terminationStatus == 6, "the paused runner must stop without committing: \(message)")
        #expect(message.contains("lease-lost"), "\(message)")
        let (ids, problems) = try await Self.tableIDs(warehouse: warehouse, catalog: .objectStore)
        #expect(problems.isEmpty, "\(problems)")
        #expect(ids == Array(1...400), "\(ids.count) rows, \(Set(ids).count) distinct")
    }

    /// `--wait` (``IngestConfiguration/leaseWaitSeconds``): a runner that finds the lease held waits for it
    /// instead of exiting, and takes it once the holder lets go; past its wait it gives up naming the holder.
    @Test func waitingForTheLease() async throws {
        let dir = try TestEnvironment.temporaryDirectory("lease-wait")
        defer { TestEnvironment.cleanUp(dir) }
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let holder = LeaseStore(io: LocalFileIO(), directory: dir.path + "/lease", ttlMillis: 60_000, owner: "holder")
        let held = try await holder.acquire()
        let waiter = LeaseStore(io: LocalFileIO(), directory: dir.path + "/lease", ttlMillis: 60_000, owner: "waiter")
        let refused = await #expect(throws: CheckpointError.self) { _ = try await LeaseKeeper.acquire(store: waiter, waitSeconds: 0.5, logger: logger) }
        #expect(refused?.code == .leaseHeld)
        Task {
            try await Task.sleep(for: .milliseconds(700))
            try await holder.release(held)
        }
        let started = ContinuousClock.now
        let keeper = try await LeaseKeeper.acquire(store: waiter, waitSeconds: 30, logger: logger)
        #expect(ContinuousClock.now - started >= .milliseconds(500), "it waited for the release")
        #expect(keeper.held.record.owner == "waiter" && keeper.held.takenOverFrom == nil)

        // A stop request (SIGTERM) ends a long wait at once, with the holder's error.
        let stop = StopRequest()
        let third = LeaseStore(io: LocalFileIO(), directory: dir.path + "/lease", ttlMillis: 60_000, owner: "third")
        Task {
            try await Task.sleep(for: .milliseconds(300))
            stop.request()
        }
        let waitStarted = ContinuousClock.now
        let stopped = await #expect(throws: CheckpointError.self) {
            _ = try await LeaseKeeper.acquire(store: third, waitSeconds: 120, logger: logger, stop: stop)
        }
        #expect(stopped?.code == .leaseHeld)
        #expect(ContinuousClock.now - waitStarted < .seconds(30), "the wait ended on the stop request, not at its end")
        await keeper.release()
    }

    /// A lease whose holder is alive and not expired stops a second runner before it touches anything; a
    /// released one is taken at once; an expired one is taken over; a holder that lost its lease finds out
    /// when it renews or verifies.
    @Test func leaseRecordsDecideWhoRuns() async throws {
        let dir = try TestEnvironment.temporaryDirectory("lease")
        defer { TestEnvironment.cleanUp(dir) }
        let now = Mutex2(Int64(1_000_000))
        let clock: @Sendable () -> Int64 = { now.value }
        let first = LeaseStore(io: LocalFileIO(), directory: dir.path + "/lease", ttlMillis: 60_000, clock: clock, owner: "first")
        let second = LeaseStore(io: LocalFileIO(), directory: dir.path + "/lease", ttlMillis: 60_000, clock: clock, owner: "second")
        var held = try await first.acquire()
        #expect(held.takenOverFrom == nil)
        let refused = await #expect(throws: CheckpointError.self) { _ = try await second.acquire() }
        #expect(refused?.code == .leaseHeld && refused?.message.contains("pid \(ProcessInfo.processInfo.processIdentifier)") == true)
        now.value += 30_000
        held = try await first.renew(held)
        now.value += 50_000  // 80 s after the start, 50 s after the renewal: still held
        await #expect(throws: CheckpointError.self) { _ = try await second.acquire() }
        now.value += 20_000  // expired
        let taken = try await second.acquire()
        #expect(taken.takenOverFrom?.owner == "first")
        let lost = await #expect(throws: CheckpointError.self) { _ = try await first.renew(held) }
        #expect(lost?.code == .leaseLost)
        // Even when the number it would renew at was trimmed away by the new holder's later records.
        var later = taken
        for _ in 0..<4 { later = try await second.renew(later) }
        let stale = await #expect(throws: CheckpointError.self) { _ = try await first.renew(held) }
        #expect(stale?.code == .leaseLost, "a paused holder renewing into a trimmed number must not win the lease back")
        #expect(try await second.current()?.record.owner == "second")
        await #expect(throws: CheckpointError.self) { try await first.verify(held, marginMillis: 0) }
        try await second.verify(later, marginMillis: 20_000)
        try await second.release(later)
        let again = try await first.acquire()
        #expect(again.takenOverFrom == nil, "a released lease is free")
        // Old records are trimmed: the newest two stay.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/lease").count <= 2)
    }

    /// What a run's lease costs in requests (each one a round trip on S3): taking a free lease lists and
    /// creates; the check before a commit is one listing while the newest record is this holder's; letting
    /// go is one create. Trims delete from a listing already made, and the released record is trimmed by the
    /// next runner's acquire.
    @Test func aLeaseCostsFewRequests() async throws {
        let dir = try TestEnvironment.temporaryDirectory("lease-requests")
        defer { TestEnvironment.cleanUp(dir) }
        let io = CountingFileIO()
        let root = dir.path + "/lease/"
        let store = LeaseStore(io: io, directory: root, ttlMillis: 60_000, owner: "first")
        let name = { (n: Int) in String(repeating: "0", count: 19) + "\(n).json" }
        var held = try await store.acquire()
        #expect(io.operations(under: root) == ["list ", "create \(name(1))"])
        io.reset()
        try await store.verify(held, marginMillis: 20_000)
        #expect(io.operations(under: root) == ["list "])
        io.reset()
        held = try await store.renew(held)
        held = try await store.renew(held)
        #expect(io.operations(under: root) == ["create \(name(2))", "list ", "read \(name(2))", "create \(name(3))", "list ", "read \(name(3))", "delete \(name(1))"])
        io.reset()
        try await store.release(held)
        #expect(io.operations(under: root) == ["create \(name(4))"])
        io.reset()
        let next = LeaseStore(io: io, directory: root, ttlMillis: 60_000, owner: "second")
        let taken = try await next.acquire()
        #expect(taken.takenOverFrom == nil, "a released lease is free")
        #expect(io.operations(under: root) == ["list ", "read \(name(4))", "create \(name(5))", "delete \(name(2))", "delete \(name(3))"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).sorted() == [name(4), name(5)])
        // A holder whose newest record is no longer the newest finds out in its check.
        let lost = await #expect(throws: CheckpointError.self) { try await store.verify(held, marginMillis: 0) }
        #expect(lost?.code == .leaseLost)
    }

    /// Widening the late-arrival window after a run folded hours never reads those hours again, narrowing
    /// it reads nothing twice either, and plan says exactly what run then does. (A 12 h run followed by a
    /// 240 h run used to read every folded object again: 30,043 duplicated rows.)
    @Test func changingTheWindowReadsNothingTwice() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("window")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("input").path
        let nowHour = PrefixLayout.hour(of: Date())
        _ = try await PipelineSupport.generate(into: input, firstHour: nowHour - 30, hours: 30, files: 1, records: 4, firstID: 1)
        let warehouse = dir.appendingPathComponent("wh").path
        func run(_ window: Int, plan: Bool = false) async throws -> JSONValue {
            var arguments = Self.arguments(input: input, warehouse: warehouse, catalog: .sqlite)
            if plan { arguments[0] = "plan" }
            if let i = arguments.firstIndex(of: "--late-arrival-hours") { arguments[i + 1] = String(window) }
            let output = try await TestProcesses.run(executable, arguments: arguments)
            #expect(output.status == 0, "\(output.stderr)")
            return try JSONValue.parse(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        func toRead(_ plan: JSONValue) -> Int64 {
            if case .array(let objects)? = plan["toRead"] { return Int64(objects.count) }
            return -1
        }
        await #expect(toRead(try run(2, plan: true)) == 30, "plan creates nothing and sees everything new")
        #expect(!FileManager.default.fileExists(atPath: warehouse), "plan created the warehouse or its catalog file")
        var status = Self.arguments(input: input, warehouse: warehouse, catalog: .sqlite)
        status[0] = "status"
        status.removeAll { $0 == "--json" }
        let noTable = try await TestProcesses.run(executable, arguments: status)
        #expect(noTable.status != 0 && !FileManager.default.fileExists(atPath: warehouse), "status created something: \(noTable.stderr)")
        await #expect(try run(2)["objectsIngested"] == .int(30))
        for window in [240, 12, 1, 48] {
            let plan = try await run(window, plan: true)
            let summary = try await run(window)
            #expect(toRead(plan) == 0, "window \(window): plan wants \(toRead(plan)) objects")
            #expect(summary["objectsIngested"] == .int(toRead(plan)), "window \(window): plan and run disagree")
        }
        // New objects in an hour still open are read once, whatever the window was.
        _ = try await PipelineSupport.generate(into: input, firstHour: nowHour - 1, hours: 1, files: 1, records: 4, firstID: 121)
        await #expect(toRead(try run(6, plan: true)) >= 1)
        await #expect(try run(6)["objectsIngested"] == .int(1))
        let (ids, problems) = try await Self.tableIDs(warehouse: warehouse, catalog: .sqlite)
        #expect(problems.isEmpty)
        #expect(ids == Array(1...124))
    }

    /// Files that land in an hour after it closed used to be never read, with nothing said. Now a
    /// reconciliation (on its own every reconcile_every, or `run --reconcile`) lists the closed hours again,
    /// finds the late file the archive lacks, reports it (policy `report`) or reads it once (`ingest`), and
    /// never again; `start_at` skips old hours and `backfill` reads them later, once.
    @Test func lateFilesAreReconciledAndBackfilled() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("late")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("input").path
        let nowHour = PrefixLayout.hour(of: Date())
        _ = try await PipelineSupport.generate(into: input, firstHour: nowHour - 30, hours: 10, files: 1, records: 4, firstID: 1)
        func run(_ warehouse: String, _ extra: [String], command: String = "run") async throws -> JSONValue {
            var arguments = Self.arguments(input: input, warehouse: warehouse, catalog: .sqlite, extra: extra)
            arguments[0] = command
            if let i = arguments.firstIndex(of: "--late-arrival-hours") { arguments[i + 1] = "2" }
            let output = try await TestProcesses.run(executable, arguments: arguments)
            #expect(output.status == 0, "\(command) \(extra): \(output.stderr)")
            return try JSONValue.parse(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let warehouse = dir.appendingPathComponent("wh").path
        await #expect(try run(warehouse, [])["objectsIngested"] == .int(10))
        // A file lands in an hour closed long ago.
        _ = try await PipelineSupport.generate(into: input, firstHour: nowHour - 25, hours: 1, files: 1, records: 4, firstID: 41)
        // plan says what the run will do: a reconciliation is due (none was done yet), and finds the file.
        let reconcilePlan = try await run(warehouse, ["--late-files", "report"], command: "plan")
        if case .array(let late)? = reconcilePlan["lateFiles"] { #expect(late.count == 1) } else { Issue.record("\(reconcilePlan)") }
        #expect(reconcilePlan["toRead"] == .array([]), "policy report reads nothing")
        // The second run reconciles on its own (none was done yet): policy report names the file, reads nothing.
        let reported = try await run(warehouse, ["--late-files", "report"])
        #expect(reported["lateFiles"] == .int(1) && reported["objectsIngested"] == .int(0), "\(reported)")
        #expect(reported["closedHoursListed"] == .int(168))
        if case .array(let keys)? = reported["lateFileKeys"] {
            let first: String? = if case .string(let key)? = keys.first { key } else { nil }
            #expect(keys.count == 1 && first?.contains(PrefixLayout.firehose.prefix(forHour: nowHour - 25)) == true, "\(keys)")
        }
        // The next runs are not due for a reconciliation; --reconcile forces one and reads the file, once.
        await #expect(try run(warehouse, [])["closedHoursListed"] == .int(0))
        let ingested = try await run(warehouse, ["--reconcile"])
        #expect(ingested["lateFiles"] == .int(1) && ingested["objectsIngested"] == .int(1), "\(ingested)")
        let again = try await run(warehouse, ["--reconcile"])
        #expect(again["lateFiles"] == .int(0) && again["objectsIngested"] == .int(0), "\(again)")
        let (ids, problems) = try await Self.tableIDs(warehouse: warehouse, catalog: .sqlite)
        #expect(problems.isEmpty)
        #expect(ids == Array(1...44))

        // A new table that starts at now-24 reads only those hours; a backfill reads the older ones once.
        let fresh = dir.appendingPathComponent("wh2").path
        let startAt = IngestStatus.hourText(nowHour - 24).replacingOccurrences(of: ":00:00Z", with: "")
        let started = try await run(fresh, ["--start-at", startAt])
        #expect(started["objectsIngested"] == .int(4) && started["lateFiles"] == .int(0), "\(started)")
        let backfill = ["--from", IngestStatus.hourText(nowHour - 30), "--to", IngestStatus.hourText(nowHour - 22)]
        await #expect(try run(fresh, ["--start-at", startAt] + backfill, command: "backfill")["objectsIngested"] == .int(7))
        await #expect(try run(fresh, ["--start-at", startAt] + backfill, command: "backfill")["objectsIngested"] == .int(0))
        await #expect(try run(fresh, ["--start-at", startAt, "--reconcile"])["lateFiles"] == .int(0))
        let (freshIDs, freshProblems) = try await Self.tableIDs(warehouse: fresh, catalog: .sqlite)
        #expect(freshProblems.isEmpty)
        #expect(freshIDs == Array(1...44))
    }

    /// An idle source still moves its watermark, once an hour at most: an empty snapshot carries the
    /// checkpoint (the table's history is what makes a checkpoint version true), so its runs list only the
    /// open window instead of every hour since the last data. Readers see the same rows.
    @Test func idleSourcesAdvanceTheirWatermark() async throws {
        let setup = try LocalSetup("idle", lateArrivalHours: 2)
        defer { TestEnvironment.cleanUp(setup.dir) }
        let (catalog, configuration) = (setup.catalog, setup.configuration)
        let start = Date()
        let startHour = PrefixLayout.hour(of: start)
        _ = try await PipelineSupport.generate(into: setup.input, firstHour: startHour - 3, hours: 2, files: 1, records: 4, firstID: 1)
        let ingestor = setup.ingestor()
        let first = try await ingestor.run(now: start)
        #expect(first.objectsIngested == 2 && first.watermarkHour == startHour - 2)
        // Nothing new for five hours: one empty commit moves the watermark; the runs after it list less.
        // Half past the hour, so the run a minute later stays in the same hour whenever the suite runs (from
        // start + 5 h, a start at XX:59 put it in the next hour, which may commit again).
        let later = Date(timeIntervalSince1970: Double(startHour + 5) * 3600 + 1800)
        let idle = try await ingestor.run(now: later)
        #expect(idle.objectsIngested == 0 && idle.snapshotIDs.count == 1 && idle.dataFiles == 0)
        #expect(idle.watermarkHour == startHour + 3)
        let again = try await ingestor.run(now: later.addingTimeInterval(60))
        #expect(again.snapshotIDs.isEmpty, "at most one idle commit an hour")
        #expect(again.prefixesListed < idle.prefixesListed, "\(again.prefixesListed) vs \(idle.prefixesListed)")
        let table = try await catalog.loadTable(configuration.table)
        let report = try await TableValidation.check(metadataLocation: table.metadataLocation)
        #expect(report.problems.isEmpty && report.rows == 8 && report.snapshots == 2)
    }

    /// `plan` and `run` classify through the same code: the objects a plan lists are exactly the ones the run
    /// then records, key by key, on a first run and on a run with new objects in open hours (late ones in an
    /// hour already read included); `status` counts the same pending objects and bytes and says how far the
    /// table is behind from the objects' LastModified.
    @Test func planAndRunAgreeObjectByObject() async throws {
        var setup = try LocalSetup("plan-run", lateArrivalHours: 6)
        defer { TestEnvironment.cleanUp(setup.dir) }
        setup.configuration.commitEveryObjects = 2
        let (catalog, configuration, input) = (setup.catalog, setup.configuration, setup.input)
        let now = Date()
        let nowHour = PrefixLayout.hour(of: now)
        _ = try await PipelineSupport.generate(into: input, firstHour: nowHour - 3, hours: 2, files: 3, records: 2, firstID: 1)
        let ingestor = setup.ingestor()

        func recorded(by summary: RunSummary) async throws -> Set<String> {
            let table = try await catalog.loadTable(configuration.table)
            let checkpoint = try await ingestor.openCheckpoint(table)
            return Set(checkpoint.trackedObjects.filter { summary.snapshotIDs.contains($0.snapshotID) }.map(\.version.key))
        }
        let firstPlan = try await ingestor.plan(now: now)
        let first = try await ingestor.run(now: now)
        let firstRecorded = try await recorded(by: first)
        #expect(firstPlan.toRead.count == 6 && Set(firstPlan.toRead.map(\.key)) == firstRecorded)

        // New objects: one late in an hour already read, one in a new hour, both two minutes "later".
        let before = Set(FileManager.default.subpaths(atPath: input) ?? [])
        _ = try await PipelineSupport.generate(into: input, firstHour: nowHour - 2, hours: 2, files: 1, records: 2, firstID: 1001)
        let later = Date().addingTimeInterval(120)
        for path in FileManager.default.subpaths(atPath: input) ?? [] where !before.contains(path) && path.hasSuffix(".gz") {
            try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: input + "/" + path)
        }
        let plan = try await ingestor.plan(now: now)
        let status = try await ingestor.status(now: now)
        #expect(plan.toRead.count == 2, "\(plan.toRead.map(\.key))")
        #expect(status.pendingObjects == 2 && status.pendingBytes == plan.toRead.reduce(0) { $0 + $1.size } && status.pendingBytes > 0)
        #expect(status.lagSeconds >= 100, "the pending objects are two minutes newer than the newest ingested: \(status.lagSeconds)")
        let second = try await ingestor.run(now: now)
        let secondRecorded = try await recorded(by: second)
        #expect(Set(plan.toRead.map(\.key)) == secondRecorded)
        let caughtUp = try await ingestor.status(now: now)
        #expect(caughtUp.pendingObjects == 0 && caughtUp.lagSeconds == 0 && caughtUp.lastIngestSnapshotID == second.snapshotIDs.last)
    }

    /// A table the previous release ingested upgrades in place. That release's checkpoint has no folded hour
    /// and it kept no archive, so the hours it folded are not known object by object: the first
    /// reconciliation after the upgrade (due at once, none was done yet) must leave them alone instead of
    /// taking every object there for a late file. A backfill refuses them; hours folded after the upgrade
    /// are archived and reconciled as usual; the unarchived hours are remembered across versions.
    @Test func aTableOfThePreviousReleaseUpgradesWithoutReadingTwice() async throws {
        let setup = try LocalSetup("upgrade", lateArrivalHours: 2)
        defer { TestEnvironment.cleanUp(setup.dir) }
        let (catalog, configuration, input, warehouse) = (setup.catalog, setup.configuration, setup.input, setup.warehouse)
        let start = Date()
        let nowHour = PrefixLayout.hour(of: start)
        _ = try await PipelineSupport.generate(into: input, firstHour: nowHour - 20, hours: 4, files: 2, records: 3, firstID: 1)
        let ingestor = setup.ingestor()
        #expect(try await ingestor.run(now: start).objectsIngested == 8)

        // What the previous release left: the same checkpoint in its format (no folded hour), no archive, no
        // reconciliation marker.
        var table = try await catalog.loadTable(configuration.table)
        let store = ingestor.checkpointStore(for: table)
        let (committed, segments) = try await Self.previousRelease(ingestor, table: table)
        #expect(segments > 0, "the current release archived the folded hours")
        try? await table.io.delete(ingestor.reconciledMarker(table))
        let unarchived = nowHour - 4
        #expect(try await store.load(version: committed.version).unarchivedThroughHour == unarchived)

        // The upgraded release's first run would reconcile (none was done yet), but every closed hour is
        // unarchived: it reads nothing again.
        let upgraded = try await ingestor.run(now: start.addingTimeInterval(3600))
        #expect(upgraded.objectsIngested == 0 && upgraded.lateFiles == 0, "\(upgraded.lateFileKeys)")
        table = try await catalog.loadTable(configuration.table)
        let saved = try await store.load(version: try #require(ingestor.committedCheckpoint(table)).version)
        #expect(saved.version > committed.version && saved.unarchivedThroughHour == unarchived)
        #expect(try await ingestor.status(now: start.addingTimeInterval(3600)).unarchivedThrough == IngestStatus.hourText(unarchived))
        let refused = await #expect(throws: IngestError.self) { _ = try await ingestor.backfill(from: nowHour - 20, to: nowHour - 17) }
        #expect(refused?.message.contains("kept no archive") == true, "\(refused?.message ?? "")")

        // A file landing late in an hour folded after the upgrade is found and read once.
        _ = try await PipelineSupport.generate(into: input, firstHour: nowHour - 3, hours: 1, files: 1, records: 3, firstID: 1001)
        let late = try await ingestor.run(now: start.addingTimeInterval(3660), reconcile: true)
        #expect(late.lateFiles == 1 && late.objectsIngested == 1, "\(late.lateFileKeys)")
        #expect(try await ingestor.backfill(from: nowHour - 3, to: nowHour - 3).objectsIngested == 0)
        let (ids, problems) = try await Self.tableIDs(warehouse: warehouse, catalog: .sqlite)
        #expect(problems.isEmpty)
        #expect(ids == Array(1...24) + [1001, 1002, 1003])
    }

    /// Makes `ingestor`'s committed checkpoint what the release before the archive left: the same checkpoint
    /// in that format (no folded hour), and no archive. Returns the commit and how many archive segments
    /// were deleted.
    static func previousRelease(_ ingestor: Ingestor, table: Table) async throws -> (CheckpointCommit, Int) {
        let store = ingestor.checkpointStore(for: table)
        let committed = try #require(ingestor.committedCheckpoint(table))
        let current = try await store.load(version: committed.version)
        let previous = SourceCheckpoint(
            source: current.source, shard: current.shard, lateArrivalHours: current.lateArrivalHours, version: current.version,
            watermarkHour: current.watermarkHour, foldedThroughHour: nil, pendingDataFiles: [], objects: current.objects)
        try await table.io.delete(committed.location)
        try await table.io.write(committed.location, bytes: try CheckpointCodec.encode(previous))
        let segments = try await table.io.list(prefix: store.archiveDirectory)
        for segment in segments { try await table.io.delete(segment.location) }
        return (committed, segments.count)
    }

    /// A checkpoint written before the folded hour was recorded (the previous release) still loads: its
    /// horizon is its watermark minus the window it was saved with, and a wider window does not move it back.
    @Test func checkpointsOfThePreviousFormatKeepTheirHorizon() throws {
        let old = SourceCheckpoint(
            source: "s3://raw/events/|firehose", shard: .single, lateArrivalHours: 12, version: 7, watermarkHour: 494_000,
            foldedThroughHour: nil, pendingDataFiles: [], objects: ObjectIndex())
        let bytes = try CheckpointCodec.encode(old)
        #expect(!String(decoding: bytes.prefix(400), as: UTF8.self).contains("foldedThroughHour"), "the old header has no folded hour")
        var loaded = try CheckpointCodec.decode(bytes, location: "v7.ckpt")
        let savedHorizon: Int32 = 494_000 - 12
        #expect(loaded.foldedThroughHour == savedHorizon)
        loaded.lateArrivalHours = 240
        #expect(loaded.horizonHour == savedHorizon)
        #expect(loaded.status(of: ObjectVersion(key: "k", size: 1, etag: "e", lastModifiedMillis: 0), hour: 493_900) == .belowHorizon)
        loaded.lateArrivalHours = 2
        let narrowed: Int32 = 494_000 - 2
        #expect(loaded.horizonHour == narrowed)
    }
}

/// A value shared with a `@Sendable` clock in tests.
final class Mutex2<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
