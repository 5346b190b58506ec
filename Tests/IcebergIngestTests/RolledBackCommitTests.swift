import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import IcebergIngest

/// A table's branch rolled back past a shard's last commit (Spark's `rollback_to_snapshot`): the commit's
/// checkpoint version is ahead of the branch, like a crashed run's, but its snapshot is still in the table's
/// history and names its files.
@Suite(.withinOneHour) struct RolledBackCommitTests {
    typealias Setup = ExactlyOnceTimingTests.LocalSetup

    /// The ids a PyIceberg scan of snapshot `id` of the table at `metadataLocation` reads, sorted: every file
    /// the snapshot names must exist.
    static func idsAt(snapshot id: Int64, metadataLocation: String) async throws -> [Int] {
        let output = try await PythonTool.run(
            """
            import sys
            from pyiceberg.table import StaticTable
            t = StaticTable.from_metadata(sys.argv[1])
            print(" ".join(str(i) for i in sorted(t.scan(snapshot_id=int(sys.argv[2])).to_arrow().column("id").to_pylist())))
            """, arguments: [metadataLocation, String(id)])
        return output.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Two runs commit two snapshots; the branch is rolled back to the first. The next run reads the second
    /// run's objects again (the branch lacks their rows), fences nothing and deletes nothing: the rolled-back
    /// snapshot still reads whole by time travel, and the table PyIceberg validates (every snapshot's
    /// manifests included) holds every row once on the branch. (Before, recovery discarded the second
    /// version as a crashed run's and deleted its data files, manifests and manifest list from under the
    /// snapshot.)
    @Test func aRolledBackCommitKeepsItsFilesAndItsObjectsAreReadAgain() async throws {
        let setup = try Setup("rolled-back", lateArrivalHours: 6)
        defer { TestEnvironment.cleanUp(setup.dir) }
        let nowHour = PrefixLayout.hour(of: Date())
        let first = try await PipelineSupport.generate(into: setup.input, firstHour: nowHour - 3, hours: 1, files: 2, records: 5, firstID: 1)
        let firstRun = try await setup.ingestor().run()
        #expect(firstRun.objectsIngested == 2)
        let second = try await PipelineSupport.generate(into: setup.input, firstHour: nowHour - 2, hours: 1, files: 2, records: 5, firstID: 1001)
        let secondRun = try await setup.ingestor().run()
        #expect(secondRun.objectsIngested == 2)
        guard case .array(let rows) = try JSONValue.parse(try PipelineSupport.merge([first, second])) else {
            throw TestEnvironmentError("the generator returned \(first) and \(second)")
        }
        let all = rows.compactMap { row -> Int? in if case .int(let id)? = row["id"] { Int(id) } else { nil } }.sorted()
        #expect(all.count == 20)

        var table = try await setup.catalog.loadTable(setup.configuration.table)
        let rolledBack = try #require(table.metadata.currentSnapshot?.id)
        let target = try #require(table.metadata.currentSnapshot?.parentID)
        table = try await setup.catalog.commit(
            setup.configuration.table, requirements: [.assertRefSnapshotID(ref: "main", snapshotID: rolledBack)],
            updates: [.setSnapshotRef(name: "main", ref: SnapshotRef(snapshotID: target, kind: .branch))])
        #expect(table.metadata.currentSnapshot?.id == target)

        let third = try await setup.ingestor().run()
        #expect(third.objectsIngested == 2, "the rolled-back commit's objects are read again")
        #expect(third.orphanFilesDeleted == 0, "the rolled-back snapshot's files are the table's")
        let after = try await setup.catalog.loadTable(setup.configuration.table)
        #expect(!after.metadata.snapshots.contains { $0.summary["iceberg-ingest.fence"] != nil }, "a landed commit needs no fence")
        let (read, problems) = try await ExactlyOnceTimingTests.tableIDs(warehouse: setup.warehouse, catalog: .sqlite)
        #expect(problems.isEmpty, "\(problems)")
        #expect(read == all, "the branch holds every row once")
        #expect(
            try await Self.idsAt(snapshot: rolledBack, metadataLocation: after.metadataLocation) == all,
            "time travel to the rolled-back snapshot reads every file it names")
        let again = try await setup.ingestor().run()
        #expect(again.objectsIngested == 0 && again.orphanFilesDeleted == 0)
    }
}
