import Foundation

/// A table's name: a namespace (one or more levels) and a table name.
public struct TableIdentifier: Sendable, Hashable, CustomStringConvertible {
    public var namespace: [String]
    public var name: String

    public init(namespace: [String], name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Parses `db.events` or `a.b.events` (the last part is the table).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }) else {
            throw IcebergError(.invalidArgument, "'\(text)' is not a table name of the form namespace.table")
        }
        self.init(namespace: Array(parts.dropLast()), name: parts[parts.count - 1])
    }

    public var description: String { (namespace + [name]).joined(separator: ".") }
}

/// A loaded table: its metadata, where that metadata is, and the FileIO to reach its files.
public struct Table: Sendable {
    public var identifier: TableIdentifier
    public var metadata: TableMetadata
    /// The metadata file the catalog points at.
    public var metadataLocation: String
    public var io: any FileIO

    public init(identifier: TableIdentifier, metadata: TableMetadata, metadataLocation: String, io: any FileIO) {
        self.identifier = identifier
        self.metadata = metadata
        self.metadataLocation = metadataLocation
        self.io = io
    }
}

/// Where tables are found and how their metadata pointer is swapped atomically.
///
/// A commit sends requirements and updates; the catalog checks the requirements against the table's
/// current metadata, writes the new metadata file and swaps the pointer only if it still points at the
/// metadata the requirements were checked against. Otherwise it throws `.commitConflict` and the caller
/// rebuilds on the new state (see ``TableCommitter``).
///
/// ```swift
/// let catalog = try SQLiteCatalog(path: "/tmp/wh/catalog.db", warehouse: "/tmp/wh")
/// try await catalog.createNamespace(["db"])
/// let table = try await catalog.createTable(TableIdentifier(namespace: ["db"], name: "events"), schema: schema)
/// let changed = try await catalog.commit(table.identifier, requirements: [.assertCurrentSchemaID(0)],
///                                        updates: [.setProperties(["owner": "ingest"])])
/// ```
public protocol Catalog: Sendable {
    /// The catalog's name (PyIceberg and Java find tables under it).
    var name: String { get }
    /// The FileIO this catalog's tables use.
    var io: any FileIO { get }

    func createNamespace(_ namespace: [String], properties: [String: String]) async throws
    func listNamespaces() async throws -> [[String]]
    func namespaceProperties(_ namespace: [String]) async throws -> [String: String]
    func dropNamespace(_ namespace: [String]) async throws

    func createTable(
        _ identifier: TableIdentifier, schema: Schema, spec: PartitionSpec, sortOrder: SortOrder,
        properties: [String: String], location: String?
    ) async throws -> Table
    func loadTable(_ identifier: TableIdentifier) async throws -> Table
    func tableExists(_ identifier: TableIdentifier) async throws -> Bool
    func listTables(_ namespace: [String]) async throws -> [TableIdentifier]
    /// Removes the table from the catalog (its files stay unless `purge`).
    func dropTable(_ identifier: TableIdentifier, purge: Bool) async throws
    /// Applies `updates` if `requirements` hold; returns the table as committed.
    func commit(_ identifier: TableIdentifier, requirements: [TableRequirement], updates: [TableUpdate]) async throws -> Table
}

extension Catalog {
    public func createNamespace(_ namespace: [String]) async throws { try await createNamespace(namespace, properties: [:]) }

    public func createTable(
        _ identifier: TableIdentifier, schema: Schema, spec: PartitionSpec = .unpartitioned,
        sortOrder: SortOrder = .unsorted, properties: [String: String] = [:], location: String? = nil
    ) async throws -> Table {
        try await createTable(identifier, schema: schema, spec: spec, sortOrder: sortOrder, properties: properties, location: location)
    }
}

/// What catalogs that keep a pointer to a metadata file share: staging a commit, naming and writing files.
package enum MetadataFiles {
    /// `<table>/metadata/<5-digit version>-<uuid>.metadata.json`, the version one past the current file's.
    package static func nextLocation(tableLocation: String, current: String?) -> String {
        var version = 0
        if let current {
            let name = (current as NSString).lastPathComponent
            version = (Int(name.prefix { $0.isNumber }) ?? -1) + 1
        }
        let digits = String(version)
        let padded = String(repeating: "0", count: max(0, 5 - digits.count)) + digits
        return "\(tableLocation)/metadata/\(padded)-\(UUID().uuidString.lowercased()).metadata.json"
    }

    /// Checks `requirements` against `current`, applies `updates`, and returns the metadata to write with
    /// its location. Throws `.commitConflict` when a requirement fails.
    package static func stage(
        identifier: TableIdentifier, current: Table?, requirements: [TableRequirement], updates: [TableUpdate],
        nowMillis: Int64
    ) throws -> (metadata: TableMetadata, location: String) {
        for requirement in requirements { try requirement.check(current?.metadata, table: identifier.description) }
        guard let current else { throw IcebergError(.notFound, "table \(identifier) does not exist") }
        var builder = TableMetadataBuilder(base: current.metadata)
        for update in updates { try builder.apply(update) }
        let metadata = builder.build(nowMillis: nowMillis, previousMetadataLocation: current.metadataLocation)
        return (metadata, nextLocation(tableLocation: metadata.location, current: current.metadataLocation))
    }

    /// Writes a metadata file; it must not exist.
    package static func write(_ metadata: TableMetadata, to location: String, io: any FileIO) async throws {
        try await io.writeIfAbsent(location, bytes: Array(metadata.jsonText().utf8))
    }

    /// Reads and parses a metadata file.
    package static func read(_ location: String, io: any FileIO) async throws -> TableMetadata {
        try TableMetadata(json: try await io.read(location), location: location)
    }
}
