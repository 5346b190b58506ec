import Foundation
import Synchronization
import Testing
import TestSupport

@testable import IcebergCore

/// A commit whose answer is lost, when the table cannot be read afterwards to see whether it landed.
@Suite struct LostCommitAnswerTests {
    /// How a scripted catalog loses its commits' answers.
    enum Script {
        /// A commit lands and then reports its answer lost, and every table read after that fails (the
        /// network went down).
        case landsThenUnreachable
        /// The first commit does not take effect at once and reports its answer lost; it lands later: just
        /// before the next commit reaches the catalog, or at ``HeldCommit/land()``.
        case landsLate
    }

    /// A catalog over `inner` that loses its commits' answers as `script` says, and the first commit it holds
    /// back (for ``Script/landsLate``).
    static func scripted(_ inner: SQLiteCatalog, _ script: Script) -> (ForwardingCatalog, HeldCommit) {
        let held = HeldCommit(landingIn: inner)
        var catalog = ForwardingCatalog(inner: inner)
        switch script {
        case .landsThenUnreachable:
            let committed = Atomic<Bool>(false)
            catalog.beforeLoadTable = { _ in
                if committed.load(ordering: .relaxed) { throw IcebergError(.io, "the catalog cannot be reached") }
            }
            catalog.afterCommit = { _, _ in
                committed.store(true, ordering: .relaxed)
                throw IcebergError(.commitStateUnknown, "the answer to the commit was lost")
            }
        case .landsLate:
            let first = Atomic<Bool>(true)
            catalog.beforeCommit = { identifier, requirements, updates in
                if first.exchange(false, ordering: .relaxed) { try held.hold(identifier, requirements, updates) }
                try await held.land()
            }
        }
        return (catalog, held)
    }

    /// The swap landed but its answer was lost, and the lookup that would tell failed: the commit says its
    /// outcome is unknown and deletes nothing it wrote, so the snapshot that did land keeps its manifest list
    /// and manifests (it used to delete them, leaving the table naming files that no longer exist).
    @Test func aLandedSwapKeepsItsManifestsWhenTheLookupFails() async throws {
        let dir = try TestEnvironment.temporaryDirectory("lost-answer")
        defer { TestEnvironment.cleanUp(dir) }
        let (sqlite, _, append) = try await Self.append(in: dir, script: .landsThenUnreachable)

        let error = await #expect(throws: IcebergError.self) { _ = try await append.commit() }
        #expect(error?.code == .commitStateUnknown, "\(error.map { "\($0)" } ?? "")")
        #expect(error?.message.contains("the catalog cannot be reached") == true, "\(error?.message ?? "")")

        let landed = try await sqlite.loadTable(AppendInteropTests.table)
        let snapshot = try #require(landed.metadata.currentSnapshot)
        #expect(snapshot.id == append.snapshotID)
        let manifests = try ManifestCodec.readManifestList(try await landed.io.read(snapshot.manifestList), location: snapshot.manifestList)
        #expect(!manifests.isEmpty)
        for manifest in manifests {
            #expect(try await landed.io.exists(manifest.path), "\(manifest.path) was deleted")
        }
    }

    /// A new table in a SQLite catalog under `dir`, and an append of two data files to it through a catalog
    /// playing `script` over that one, with the commit it holds back.
    static func append(in dir: URL, script: Script) async throws -> (SQLiteCatalog, HeldCommit, FastAppend) {
        let sqlite = try SQLiteCatalog(name: "ingest", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await sqlite.createNamespace(["db"])
        let created = try await sqlite.createTable(AppendInteropTests.table, schema: AppendInteropTests.schema, spec: AppendInteropTests.spec)
        let (catalog, held) = Self.scripted(sqlite, script)
        var append = FastAppend(table: created, catalog: catalog)
        append.add(contentsOf: try await AppendInteropTests.dataFiles(at: created.metadata.location, files: 2, rows: 5, start: 0))
        return (sqlite, held, append)
    }

    /// Every manifest list and manifest the table's snapshots name is there.
    static func expectEveryManifestThere(_ table: Table) async throws {
        for snapshot in table.metadata.snapshots {
            #expect(try await table.io.exists(snapshot.manifestList), "\(snapshot.manifestList) was deleted")
            guard try await table.io.exists(snapshot.manifestList) else { continue }
            for manifest in try ManifestCodec.readManifestList(try await table.io.read(snapshot.manifestList), location: snapshot.manifestList) {
                #expect(try await table.io.exists(manifest.path), "\(manifest.path) was deleted")
            }
        }
    }

    /// The first attempt's answer is lost and the table does not have it when read, so the commit retries;
    /// the first attempt lands before the retry does. The retry finds its snapshot in the table, and what the
    /// first attempt wrote (its manifest list) is still there: it used to be deleted as a conflict's.
    @Test func anAttemptThatLandsLateKeepsItsManifests() async throws {
        let dir = try TestEnvironment.temporaryDirectory("late-landing")
        defer { TestEnvironment.cleanUp(dir) }
        let (sqlite, _, append) = try await Self.append(in: dir, script: .landsLate)
        let committed = try await append.commit()
        #expect(committed.metadata.currentSnapshot?.id == append.snapshotID)
        let table = try await sqlite.loadTable(AppendInteropTests.table)
        #expect(table.metadata.snapshots.count == 1)
        try await Self.expectEveryManifestThere(table)
    }

    /// The same lost answer with no retry left: the commit says its outcome is unknown and deletes nothing,
    /// so when the attempt lands afterwards the table it makes is whole.
    @Test func aCommitThatMayStillLandDeletesNothing() async throws {
        let dir = try TestEnvironment.temporaryDirectory("late-landing-no-retry")
        defer { TestEnvironment.cleanUp(dir) }
        let (sqlite, held, scripted) = try await Self.append(in: dir, script: .landsLate)
        var append = scripted
        append.retryDefaults = ["commit.retry.num-retries": "0"]
        let error = await #expect(throws: IcebergError.self) { _ = try await append.commit() }
        #expect(error?.code == .commitStateUnknown, "\(error.map { "\($0)" } ?? "")")
        try await held.land()
        let table = try await sqlite.loadTable(AppendInteropTests.table)
        #expect(table.metadata.currentSnapshot?.id == append.snapshotID)
        try await Self.expectEveryManifestThere(table)
    }
}
