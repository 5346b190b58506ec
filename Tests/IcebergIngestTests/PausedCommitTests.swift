import Checkpoint
import Foundation
import IcebergCore
import Synchronization
import Testing
import TestSupport

@testable import IcebergIngest

/// A runner paused past its lease right after it saved its checkpoint version (a stopped VM, a frozen
/// container): by then another runner may have taken the lease over, discarded that version and saved its
/// own under the same number. The paused runner must not go on to write that version's archive segment and
/// lineage, which would replace or sit beside the new runner's records (evolve and the lost-record check
/// read them); it stops where it resumes, and the next run ingests exactly.
@Suite(.withinOneHour) struct PausedCommitTests {
    /// The warehouse's files, but the process "pauses" for `pause` right after a checkpoint version is saved:
    /// the lease's renewals, which a paused process could not send either, wait until a second after that.
    final class PausingFileIO: FileIO, @unchecked Sendable {
        let inner = LocalFileIO()
        let pause: Duration
        /// When lease writes may go ahead again (nil: no pause so far).
        private let leaseHeldUntil = Mutex<ContinuousClock.Instant?>(nil)
        let pauses = Mutex(0)

        init(pause: Duration) { self.pause = pause }

        static func isVersion(_ location: String) -> Bool {
            location.contains("/ingest-checkpoints/") && location.hasSuffix(".ckpt") && !location.contains("/lease/")
                && !location.contains("/lineage/") && !location.contains("/archive/")
        }

        private func waitIfLease(_ location: String) async throws {
            guard location.contains("/lease/"), let until = leaseHeldUntil.withLock({ $0 }) else { return }
            try await Task.sleep(until: until, clock: .continuous)
        }

        func read(_ location: String) async throws -> [UInt8] { try await inner.read(location) }
        func read(_ location: String, range: Range<Int64>) async throws -> [UInt8] { try await inner.read(location, range: range) }
        func size(_ location: String) async throws -> Int64 { try await inner.size(location) }
        func write(_ location: String, bytes: [UInt8]) async throws {
            try await waitIfLease(location)
            try await inner.write(location, bytes: bytes)
        }
        func writeIfAbsent(_ location: String, bytes: [UInt8]) async throws {
            try await waitIfLease(location)
            try await inner.writeIfAbsent(location, bytes: bytes)
            guard Self.isVersion(location), pauses.withLock({ $0 }) == 0 else { return }
            pauses.withLock { $0 += 1 }
            leaseHeldUntil.withLock { $0 = .now + pause + .seconds(1) }
            try await Task.sleep(for: pause)
        }
        func write(_ location: String, contentsOfFile path: String) async throws { try await inner.write(location, contentsOfFile: path) }
        func delete(_ location: String) async throws { try await inner.delete(location) }
        func exists(_ location: String) async throws -> Bool { try await inner.exists(location) }
        func list(prefix: String) async throws -> [FileInfo] { try await inner.list(prefix: prefix) }
    }

    @Test func aRunnerPausedPastItsLeaseAfterSavingItsVersionWritesNoLineage() async throws {
        let dir = try TestEnvironment.temporaryDirectory("paused-commit")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("in").path
        _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 3, hours: 1, files: 2, records: 50, firstID: 1)
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        var configuration = try PipelineSupport.configuration()
        // A lease long enough that a loaded machine (the whole suite at once) does not lose it before the
        // version is saved (a renewal is due after a third of it), and a pause longer than all of it.
        configuration.leaseSeconds = 6
        let source = LocalFolderSource(root: input, layout: .firehose)

        let io = PausingFileIO(pause: .milliseconds(6_500))
        let paused = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse, io: io)
        do {
            _ = try await Ingestor(configuration: configuration, catalog: paused, source: source).run()
            Issue.record("a runner paused past its lease committed")
        } catch {
            #expect("\(error)".contains("lease"), "\(error)")
        }
        #expect(io.pauses.withLock { $0 } == 1, "the run paused after saving its version")
        let location = try await paused.loadTable(configuration.table).metadata.location
        let checkpoints = (location.hasPrefix("file://") ? String(location.dropFirst("file://".count)) : location) + "/metadata/ingest-checkpoints"
        let written = (try? FileManager.default.subpathsOfDirectory(atPath: checkpoints)) ?? []
        #expect(written.contains { $0.hasSuffix(".ckpt") && !$0.contains("/lease/") }, "the version was saved: \(written)")
        #expect(!written.contains { $0.contains("/lineage/") || $0.contains("/archive/") }, "no lineage or archive after the pause: \(written)")
        #expect(try await paused.loadTable(configuration.table).metadata.currentSnapshot == nil, "nothing committed")

        // The next run, not paused, discards the version and ingests both objects once.
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse)
        configuration.leaseWaitSeconds = 10  // should the paused run's lease still be there, it expires
        let summary = try await Ingestor(configuration: configuration, catalog: catalog, source: source).run()
        #expect(summary.objectsIngested == 2 && summary.rows == 100, "\(summary)")
        let rows = try await catalog.loadTable(configuration.table).liveDataFiles().reduce(0) { $0 + $1.recordCount }
        #expect(rows == 100)
    }
}
