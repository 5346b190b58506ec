/// A catalog that keeps its pointers in memory (metadata files still go through its FileIO). For tests
/// and for single-process tools.
public actor InMemoryCatalog: Catalog {
    public nonisolated let name: String
    public nonisolated let io: any FileIO
    public nonisolated let warehouse: String
    private let clock: MillisecondClock
    private var namespaces: [[String]: [String: String]] = [:]
    private var pointers: [TableIdentifier: String] = [:]
    /// The metadata each pointer names, as this catalog wrote it (loads need not parse the file again).
    private var cached: [TableIdentifier: TableMetadata] = [:]

    public init(name: String = "memory", warehouse: String, io: any FileIO = LocalFileIO(), clock: @escaping MillisecondClock = WallClock.nowMillis) {
        self.name = name
        self.io = io
        self.warehouse = warehouse.hasSuffix("/") ? String(warehouse.dropLast()) : warehouse
        self.clock = clock
    }

    public func createNamespace(_ namespace: [String], properties: [String: String]) throws {
        guard namespaces[namespace] == nil else {
            throw IcebergError(.alreadyExists, "namespace \(namespace.joined(separator: ".")) already exists")
        }
        namespaces[namespace] = properties
    }

    public func listNamespaces() -> [[String]] { namespaces.keys.sorted { $0.joined(separator: ".") < $1.joined(separator: ".") } }

    public func namespaceProperties(_ namespace: [String]) throws -> [String: String] {
        guard let properties = namespaces[namespace] else {
            throw IcebergError(.notFound, "namespace \(namespace.joined(separator: ".")) does not exist")
        }
        return properties
    }

    public func dropNamespace(_ namespace: [String]) throws {
        guard namespaces[namespace] != nil else { throw IcebergError(.notFound, "namespace \(namespace.joined(separator: ".")) does not exist") }
        guard !pointers.keys.contains(where: { $0.namespace == namespace }) else {
            throw IcebergError(.invalidArgument, "namespace \(namespace.joined(separator: ".")) is not empty")
        }
        namespaces[namespace] = nil
    }

    public func createTable(
        _ identifier: TableIdentifier, schema: Schema, spec: PartitionSpec, sortOrder: SortOrder,
        properties: [String: String], location: String?
    ) async throws -> Table {
        guard namespaces[identifier.namespace] != nil else {
            throw IcebergError(.notFound, "namespace \(identifier.namespace.joined(separator: ".")) does not exist")
        }
        guard pointers[identifier] == nil else { throw IcebergError(.alreadyExists, "table \(identifier) already exists") }
        let tableLocation = location ?? "\(warehouse)/\(identifier.namespace.joined(separator: "."))/\(identifier.name)"
        let metadata = try TableMetadataBuilder.newTable(
            location: tableLocation, schema: schema, spec: spec, sortOrder: sortOrder, properties: properties, nowMillis: clock())
        let metadataLocation = MetadataFiles.nextLocation(tableLocation: metadata.location, current: nil)
        try await MetadataFiles.write(metadata, to: metadataLocation, io: io)
        guard pointers[identifier] == nil else { throw IcebergError(.alreadyExists, "table \(identifier) already exists") }
        pointers[identifier] = metadataLocation
        cached[identifier] = metadata
        return Table(identifier: identifier, metadata: metadata, metadataLocation: metadataLocation, io: io)
    }

    public func loadTable(_ identifier: TableIdentifier) async throws -> Table {
        guard let location = pointers[identifier] else { throw IcebergError(.notFound, "table \(identifier) does not exist") }
        if let metadata = cached[identifier] { return Table(identifier: identifier, metadata: metadata, metadataLocation: location, io: io) }
        return Table(identifier: identifier, metadata: try await MetadataFiles.read(location, io: io), metadataLocation: location, io: io)
    }

    public func tableExists(_ identifier: TableIdentifier) -> Bool { pointers[identifier] != nil }

    public func listTables(_ namespace: [String]) -> [TableIdentifier] {
        pointers.keys.filter { $0.namespace == namespace }.sorted { $0.name < $1.name }
    }

    public func dropTable(_ identifier: TableIdentifier, purge: Bool) throws {
        guard pointers.removeValue(forKey: identifier) != nil else { throw IcebergError(.notFound, "table \(identifier) does not exist") }
        cached[identifier] = nil
    }

    public func commit(_ identifier: TableIdentifier, requirements: [TableRequirement], updates: [TableUpdate]) async throws -> Table {
        let current = try await loadTable(identifier)
        let staged = try MetadataFiles.stage(
            identifier: identifier, current: current, requirements: requirements, updates: updates, nowMillis: clock())
        try await MetadataFiles.write(staged.metadata, to: staged.location, io: io)
        // The actor was free while writing: swap only if nobody moved the pointer meanwhile.
        guard pointers[identifier] == current.metadataLocation else {
            try? await io.delete(staged.location)
            throw IcebergError(.commitConflict, "commit to \(identifier) conflicts: another commit landed first")
        }
        pointers[identifier] = staged.location
        cached[identifier] = staged.metadata
        return Table(identifier: identifier, metadata: staged.metadata, metadataLocation: staged.location, io: io)
    }
}
