import Foundation
import IcebergCore
import Synchronization
import Testing
import TestSupport

@testable import Checkpoint
@testable import IcebergIngest

/// A run whose data commit got no clear answer from the catalog (`commit-state-unknown`) ends without
/// knowing whether the table took it, and a catalog server that goes on after its gateway timed out may
/// land it after that run is gone. The next run's recovery must neither delete that commit's files nor
/// read its objects again while it may still land.
@Suite(.withinOneHour) struct UnsettledCommitTests {
    typealias Setup = ExactlyOnceTimingTests.LocalSetup

    /// Input of two hours, and a first run whose data commit the catalog holds back and reports lost; the
    /// retries are lost too (without landing), so the run ends with the outcome unknown. Returns the held
    /// commit and the ids the input holds.
    static func firstRunLosesItsAnswer(_ setup: inout Setup) async throws -> (HeldCommit, [Int]) {
        let nowHour = PrefixLayout.hour(of: Date())
        let expected = try await PipelineSupport.generate(into: setup.input, firstHour: nowHour - 2, hours: 2, files: 2, records: 5, firstID: 1)
        guard case .array(let rows) = try JSONValue.parse(expected.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestEnvironmentError("the generator returned \(expected)")
        }
        let ids = rows.compactMap { row -> Int? in if case .int(let id)? = row["id"] { Int(id) } else { nil } }.sorted()
        setup.configuration.tableProperties = ["commit.retry.num-retries": "2", "commit.retry.min-wait-ms": "1", "commit.retry.max-wait-ms": "5"]
        let held = HeldCommit(landingIn: setup.catalog)
        let losing = ForwardingCatalog(inner: setup.catalog) { identifier, requirements, updates in
            guard updates.contains(where: { if case .addSnapshot = $0 { true } else { false } }) else { return }
            if held.isHeld { throw IcebergError(.commitStateUnknown, "the answer was lost again") }
            try held.hold(identifier, requirements, updates)
        }
        let first = Ingestor(configuration: setup.configuration, catalog: losing, source: LocalFolderSource(root: setup.input, layout: .firehose))
        let error = await #expect(throws: IcebergError.self) { _ = try await first.run() }
        #expect(error?.code == .commitStateUnknown, "\(error.map { "\($0)" } ?? "no error")")
        #expect(held.isHeld)
        #expect(try Self.unsettledRecords(setup).count == 1, "the run records that its commit's outcome is unknown")
        return (held, ids)
    }

    /// The unknown-outcome records under the warehouse.
    static func unsettledRecords(_ setup: Setup) throws -> [String] {
        let files = FileManager.default.enumerator(atPath: setup.warehouse)?.compactMap { $0 as? String } ?? []
        return files.filter { $0.hasSuffix(".unknown") }
    }

    /// The lost commit lands just before the next run's fence reaches the catalog: the fence's swap
    /// conflicts, its next try finds the commit in the table, and the run recovers from it, deleting nothing
    /// and reading nothing again; the table PyIceberg reads holds every row once, every file it names there.
    /// (Without the fence the next run deleted the commit's files as a crashed run's and read its objects
    /// again, and the commit then landed just before the next run's, naming files that were gone.)
    ///
    /// With `recorded` false the run's record of the unknown outcome is gone, as when a run is killed with its
    /// swap in flight: the commit's manifest list says the same.
    @Test(arguments: [true, false]) func aCommitThatLandsBeforeTheFenceIsKept(recorded: Bool) async throws {
        var setup = try Setup("unsettled-lands", lateArrivalHours: 6)
        defer { TestEnvironment.cleanUp(setup.dir) }
        let (held, ids) = try await Self.firstRunLosesItsAnswer(&setup)
        if !recorded {
            for record in try Self.unsettledRecords(setup) {
                try FileManager.default.removeItem(atPath: setup.warehouse + "/" + record)
            }
        }

        let catalog = ForwardingCatalog(inner: setup.catalog) { _, _, _ in try await held.land() }
        let second = Ingestor(configuration: setup.configuration, catalog: catalog, source: LocalFolderSource(root: setup.input, layout: .firehose))
        let summary = try await second.run()
        #expect(!held.isHeld)
        #expect(summary.objectsIngested == 0, "the landed commit holds every object")
        #expect(summary.orphanFilesDeleted == 0)
        let table = try await setup.catalog.loadTable(setup.configuration.table)
        #expect(table.metadata.snapshots.count == 1, "the fence did not land: the commit it was for is in the table")
        let (read, problems) = try await ExactlyOnceTimingTests.tableIDs(warehouse: setup.warehouse, catalog: .sqlite)
        #expect(problems.isEmpty, "\(problems)")
        #expect(read == ids)
        #expect(try Self.unsettledRecords(setup).isEmpty, "the record goes once the table has the version")
    }

    /// The fence's own answer is lost too, and the held commit lands before the fence's retry: the retry
    /// finds it (an error the commit then reports as an unknown outcome, since its first attempt may still
    /// land), and the run recovers from the landed commit rather than failing.
    @Test func aLandingFoundAfterTheFencesAnswerWasLostIsKept() async throws {
        var setup = try Setup("unsettled-lost-fence", lateArrivalHours: 6)
        defer { TestEnvironment.cleanUp(setup.dir) }
        let (held, ids) = try await Self.firstRunLosesItsAnswer(&setup)

        let fenceAnswers = Mutex(0)
        let catalog = ForwardingCatalog(inner: setup.catalog) { _, _, updates in
            let isFence = updates.contains { if case .addSnapshot(let snapshot) = $0 { snapshot.summary["iceberg-ingest.fence"] != nil } else { false } }
            guard isFence, fenceAnswers.withLock({ count in defer { count += 1 }; return count == 0 }) else { return }
            try await held.land()
            throw IcebergError(.commitStateUnknown, "the fence's answer was lost")
        }
        let second = Ingestor(configuration: setup.configuration, catalog: catalog, source: LocalFolderSource(root: setup.input, layout: .firehose))
        let summary = try await second.run()
        #expect(fenceAnswers.withLock { $0 } == 1, "the fence's first try, lost; its retry found the landing before its swap")
        #expect(summary.objectsIngested == 0 && summary.orphanFilesDeleted == 0)
        let table = try await setup.catalog.loadTable(setup.configuration.table)
        #expect(table.metadata.snapshots.count == 1, "neither fence attempt landed")
        let (read, problems) = try await ExactlyOnceTimingTests.tableIDs(warehouse: setup.warehouse, catalog: .sqlite)
        #expect(problems.isEmpty, "\(problems)")
        #expect(read == ids)
    }

    /// The lost commit has not landed: the next run fences it with an empty snapshot, discards its version,
    /// deletes its files and reads its objects again. The held commit, landing right after the fence (before
    /// anything is discarded), is refused as a conflict, and the table holds every row once.
    @Test func aCommitThatHasNotLandedIsFencedAndDiscarded() async throws {
        var setup = try Setup("unsettled-fenced", lateArrivalHours: 6)
        defer { TestEnvironment.cleanUp(setup.dir) }
        let (held, ids) = try await Self.firstRunLosesItsAnswer(&setup)
        // Until it is settled, remove-orphans with a short grace counts it as a commit in progress.
        let unsettled = try await RemoveOrphanFiles(table: try await setup.catalog.loadTable(setup.configuration.table)).liveIngestLeases()
        #expect(unsettled.count == 1 && unsettled.first?.contains("a commit whose outcome is unknown") == true, "\(unsettled)")

        let lateLanding = Mutex<(any Error)?>(nil)
        var catalog = ForwardingCatalog(inner: setup.catalog)
        catalog.afterCommit = { _, table in
            guard table.metadata.currentSnapshot?.summary["iceberg-ingest.fence"] != nil, held.isHeld else { return }
            do { try await held.land() } catch { lateLanding.withLock { $0 = error } }
        }
        let second = Ingestor(configuration: setup.configuration, catalog: catalog, source: LocalFolderSource(root: setup.input, layout: .firehose))
        let summary = try await second.run()
        #expect(summary.rows == ids.count)
        #expect(summary.orphanFilesDeleted > 0, "the discarded commit's data files and manifests")
        #expect(try Self.unsettledRecords(setup).isEmpty)
        let refused = lateLanding.withLock { $0 } as? IcebergError
        #expect(refused?.code == .commitConflict, "the lost attempt must not land after the fence: \(refused.map { "\($0)" } ?? "it landed")")
        let table = try await setup.catalog.loadTable(setup.configuration.table)
        let fence = try #require(table.metadata.snapshots.first)
        #expect(fence.summary["iceberg-ingest.fence"]?.contains("whose commits may still have landed") == true, "\(fence.summary)")
        #expect(table.metadata.snapshots.count == 2, "the fence, then the run's data")
        let (read, problems) = try await ExactlyOnceTimingTests.tableIDs(warehouse: setup.warehouse, catalog: .sqlite)
        #expect(problems.isEmpty, "\(problems)")
        #expect(read == ids)
    }
}
