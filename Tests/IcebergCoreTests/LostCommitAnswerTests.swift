import Foundation
import Synchronization
import Testing
import TestSupport

@testable import IcebergCore

/// A commit whose answer is lost, when the table cannot be read afterwards to see whether it landed.
@Suite struct LostCommitAnswerTests {
    /// Forwards to `inner`; a commit lands and then reports its answer lost, and every table read after that
    /// fails (the network went down).
    final class LostAnswerCatalog: Catalog, Sendable {
        let inner: SQLiteCatalog
        let committed = Atomic<Bool>(false)
        init(inner: SQLiteCatalog) { self.inner = inner }

        var name: String { inner.name }
        var io: any FileIO { inner.io }
        func createNamespace(_ namespace: [String], properties: [String: String]) async throws {
            try await inner.createNamespace(namespace, properties: properties)
        }
        func listNamespaces() async throws -> [[String]] { try await inner.listNamespaces() }
        func namespaceProperties(_ namespace: [String]) async throws -> [String: String] { try await inner.namespaceProperties(namespace) }
        func dropNamespace(_ namespace: [String]) async throws { try await inner.dropNamespace(namespace) }
        func createTable(
            _ identifier: TableIdentifier, schema: Schema, spec: PartitionSpec, sortOrder: IcebergCore.SortOrder, properties: [String: String], location: String?
        ) async throws -> Table {
            try await inner.createTable(identifier, schema: schema, spec: spec, sortOrder: sortOrder, properties: properties, location: location)
        }
        func loadTable(_ identifier: TableIdentifier) async throws -> Table {
            if committed.load(ordering: .relaxed) { throw IcebergError(.io, "the catalog cannot be reached") }
            return try await inner.loadTable(identifier)
        }
        func tableExists(_ identifier: TableIdentifier) async throws -> Bool { try await inner.tableExists(identifier) }
        func listTables(_ namespace: [String]) async throws -> [TableIdentifier] { try await inner.listTables(namespace) }
        func dropTable(_ identifier: TableIdentifier, purge: Bool) async throws { try await inner.dropTable(identifier, purge: purge) }
        func commit(_ identifier: TableIdentifier, requirements: [TableRequirement], updates: [TableUpdate]) async throws -> Table {
            _ = try await inner.commit(identifier, requirements: requirements, updates: updates)
            committed.store(true, ordering: .relaxed)
            throw IcebergError(.commitStateUnknown, "the answer to the commit was lost")
        }
    }

    /// The swap landed but its answer was lost, and the lookup that would tell failed: the commit says its
    /// outcome is unknown and deletes nothing it wrote, so the snapshot that did land keeps its manifest list
    /// and manifests (it used to delete them, leaving the table naming files that no longer exist).
    @Test func aLandedSwapKeepsItsManifestsWhenTheLookupFails() async throws {
        let dir = try TestEnvironment.temporaryDirectory("lost-answer")
        defer { TestEnvironment.cleanUp(dir) }
        let sqlite = try SQLiteCatalog(name: "ingest", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await sqlite.createNamespace(["db"])
        let created = try await sqlite.createTable(AppendInteropTests.table, schema: AppendInteropTests.schema, spec: AppendInteropTests.spec)
        let files = try await AppendInteropTests.dataFiles(at: created.metadata.location, files: 2, rows: 5, start: 0)
        let catalog = LostAnswerCatalog(inner: sqlite)
        var append = FastAppend(table: created, catalog: catalog)
        append.add(contentsOf: files)

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
}
