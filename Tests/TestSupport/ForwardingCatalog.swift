import IcebergCore
import Synchronization

/// A catalog that forwards every call to `inner`, with hooks where tests step in: a namespace create that
/// fails, a table read that fails, another writer's change just before a commit, a commit that is held back
/// (its hook throws before it reaches `inner`) or whose answer is lost after it landed (`afterCommit` throws).
public struct ForwardingCatalog: Catalog {
    public let inner: any Catalog
    public var beforeCreateNamespace: @Sendable ([String]) async throws -> Void = { _ in }
    public var beforeLoadTable: @Sendable (TableIdentifier) async throws -> Void = { _ in }
    /// Runs before a commit reaches `inner`; a throw keeps it from reaching it.
    public var beforeCommit: @Sendable (TableIdentifier, [TableRequirement], [TableUpdate]) async throws -> Void
    /// Runs after `inner` took a commit, with the table it returned; a throw replaces the answer.
    public var afterCommit: @Sendable (TableIdentifier, Table) async throws -> Void = { _, _ in }

    public init(
        inner: any Catalog,
        beforeCommit: @escaping @Sendable (TableIdentifier, [TableRequirement], [TableUpdate]) async throws -> Void = { _, _, _ in }
    ) {
        self.inner = inner
        self.beforeCommit = beforeCommit
    }

    public var name: String { inner.name }
    public var io: any FileIO { inner.io }
    public func createNamespace(_ namespace: [String], properties: [String: String]) async throws {
        try await beforeCreateNamespace(namespace)
        try await inner.createNamespace(namespace, properties: properties)
    }
    public func listNamespaces() async throws -> [[String]] { try await inner.listNamespaces() }
    public func namespaceProperties(_ namespace: [String]) async throws -> [String: String] { try await inner.namespaceProperties(namespace) }
    public func dropNamespace(_ namespace: [String]) async throws { try await inner.dropNamespace(namespace) }
    public func createTable(
        _ identifier: TableIdentifier, schema: Schema, spec: PartitionSpec, sortOrder: SortOrder, properties: [String: String], location: String?
    ) async throws -> Table {
        try await inner.createTable(identifier, schema: schema, spec: spec, sortOrder: sortOrder, properties: properties, location: location)
    }
    public func loadTable(_ identifier: TableIdentifier) async throws -> Table {
        try await beforeLoadTable(identifier)
        return try await inner.loadTable(identifier)
    }
    public func tableExists(_ identifier: TableIdentifier) async throws -> Bool { try await inner.tableExists(identifier) }
    public func listTables(_ namespace: [String]) async throws -> [TableIdentifier] { try await inner.listTables(namespace) }
    public func dropTable(_ identifier: TableIdentifier, purge: Bool) async throws { try await inner.dropTable(identifier, purge: purge) }
    public func commit(_ identifier: TableIdentifier, requirements: [TableRequirement], updates: [TableUpdate]) async throws -> Table {
        try await beforeCommit(identifier, requirements, updates)
        let table = try await inner.commit(identifier, requirements: requirements, updates: updates)
        try await afterCommit(identifier, table)
        return table
    }
}

/// One commit held back as a catalog whose gateway timed out while its server went on would: the caller is
/// told the outcome is unknown, and the commit takes effect later, at ``land()``.
public final class HeldCommit: Sendable {
    private let inner: any Catalog
    private let held = Mutex<(TableIdentifier, [TableRequirement], [TableUpdate])?>(nil)

    /// Commits that land go to `inner`.
    public init(landingIn inner: any Catalog) { self.inner = inner }

    /// Keeps this commit back and throws commit-state-unknown.
    public func hold(_ identifier: TableIdentifier, _ requirements: [TableRequirement], _ updates: [TableUpdate]) throws -> Never {
        held.withLock { $0 = (identifier, requirements, updates) }
        throw IcebergError(.commitStateUnknown, "the gateway timed out; the server goes on")
    }

    /// Whether a commit is held back now.
    public var isHeld: Bool { held.withLock { $0 != nil } }

    /// The held commit takes effect now (nothing when none is held).
    public func land() async throws {
        guard let (identifier, requirements, updates) = held.withLock({ held in defer { held = nil }; return held }) else { return }
        _ = try await inner.commit(identifier, requirements: requirements, updates: updates)
    }
}
