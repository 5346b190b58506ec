/// A catalog in a SQLite file with the same tables and columns as Iceberg's JDBC catalog and PyIceberg's
/// `SqlCatalog` (`iceberg_tables`, `iceberg_namespace_properties`), so PyIceberg and Spark open the same
/// file. Commits swap `metadata_location` with a compare-and-swap `UPDATE ... WHERE metadata_location = ?`.
///
/// ```swift
/// let catalog = try SQLiteCatalog(name: "default", path: "/tmp/wh/catalog.db", warehouse: "/tmp/wh")
/// // PyIceberg: SqlCatalog("default", uri="sqlite:////tmp/wh/catalog.db", warehouse="file:///tmp/wh")
/// ```
/// Default table locations follow PyIceberg: `<warehouse>/<namespace>.db/<table>`.
public struct SQLiteCatalog: Catalog {
    public let name: String
    public let io: any FileIO
    public let warehouse: String
    private let connection: SQLiteConnection
    private let clock: MillisecondClock
    /// Metadata files this catalog wrote or read (a metadata file never changes once written).
    private let metadataCache = MetadataCache()

    public init(
        name: String = "default", path: String, warehouse: String, io: any FileIO = LocalFileIO(),
        clock: @escaping MillisecondClock = WallClock.nowMillis
    ) throws {
        self.name = name
        self.io = io
        self.warehouse = warehouse.hasSuffix("/") ? String(warehouse.dropLast()) : warehouse
        self.clock = clock
        connection = try SQLiteConnection(path: path)
        // The schema Java's JdbcCatalog (V1, with iceberg_type) and PyIceberg's SqlCatalog create.
        _ = try connection.runNow(
            """
            CREATE TABLE IF NOT EXISTS iceberg_tables (
              catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL,
              table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000),
              previous_metadata_location VARCHAR(1000), iceberg_type VARCHAR(5),
              PRIMARY KEY (catalog_name, table_namespace, table_name))
            """, [])
        _ = try connection.runNow(
            """
            CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
              catalog_name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL,
              property_key VARCHAR(255) NOT NULL, property_value VARCHAR(1000) NOT NULL,
              PRIMARY KEY (catalog_name, namespace, property_key))
            """, [])
    }

    private static func key(_ namespace: [String]) -> String { namespace.joined(separator: ".") }

    // MARK: Namespaces

    public func createNamespace(_ namespace: [String], properties: [String: String]) async throws {
        let ns = Self.key(namespace), catalogName = name
        let rows = properties.isEmpty ? ["exists": "true"] : properties
        try await connection.transaction { db in
            let existing = try db.runNow(
                "SELECT 1 FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ? LIMIT 1",
                [.text(catalogName), .text(ns)])
            guard existing.rows.isEmpty else { throw IcebergError(.alreadyExists, "namespace \(ns) already exists") }
            for (key, value) in rows {
                _ = try db.runNow(
                    "INSERT INTO iceberg_namespace_properties VALUES (?, ?, ?, ?)",
                    [.text(catalogName), .text(ns), .text(key), .text(value)])
            }
        }
    }

    public func listNamespaces() async throws -> [[String]] {
        let result = try await connection.run(
            """
            SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name = ?
            UNION SELECT table_namespace FROM iceberg_tables WHERE catalog_name = ? ORDER BY 1
            """, [.text(name), .text(name)])
        return result.rows.compactMap { $0[0]?.split(separator: ".").map(String.init) }
    }

    public func namespaceProperties(_ namespace: [String]) async throws -> [String: String] {
        let result = try await connection.run(
            "SELECT property_key, property_value FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ?",
            [.text(name), .text(Self.key(namespace))])
        guard !result.rows.isEmpty else { throw IcebergError(.notFound, "namespace \(Self.key(namespace)) does not exist") }
        var properties: [String: String] = [:]
        for row in result.rows { properties[row[0] ?? ""] = row[1] ?? "" }
        return properties
    }

    public func dropNamespace(_ namespace: [String]) async throws {
        guard try await listTables(namespace).isEmpty else {
            throw IcebergError(.invalidArgument, "namespace \(Self.key(namespace)) is not empty")
        }
        let result = try await connection.run(
            "DELETE FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ?", [.text(name), .text(Self.key(namespace))])
        guard result.changes > 0 else { throw IcebergError(.notFound, "namespace \(Self.key(namespace)) does not exist") }
    }

    // MARK: Tables

    public func createTable(
        _ identifier: TableIdentifier, schema: Schema, spec: PartitionSpec, sortOrder: SortOrder,
        properties: [String: String], location: String?
    ) async throws -> Table {
        let namespaceProperties = try await self.namespaceProperties(identifier.namespace)
        let tableLocation =
            location
            ?? namespaceProperties["location"].map { "\($0.hasSuffix("/") ? String($0.dropLast()) : $0)/\(identifier.name)" }
            ?? "\(warehouse)/\(Self.key(identifier.namespace)).db/\(identifier.name)"
        let metadata = try TableMetadataBuilder.newTable(
            location: tableLocation, schema: schema, spec: spec, sortOrder: sortOrder, properties: properties, nowMillis: clock())
        let metadataLocation = MetadataFiles.nextLocation(tableLocation: metadata.location, current: nil)
        try await MetadataFiles.write(metadata, to: metadataLocation, io: io)
        do {
            _ = try await connection.run(
                "INSERT INTO iceberg_tables VALUES (?, ?, ?, ?, NULL, 'TABLE')",
                [.text(name), .text(Self.key(identifier.namespace)), .text(identifier.name), .text(metadataLocation)])
        } catch let error as IcebergError where error.code == .alreadyExists {
            try? await io.delete(metadataLocation)
            throw IcebergError(.alreadyExists, "table \(identifier) already exists")
        }
        metadataCache.remember(metadata, at: metadataLocation)
        return Table(identifier: identifier, metadata: metadata, metadataLocation: metadataLocation, io: io)
    }

    private func pointer(_ identifier: TableIdentifier) async throws -> String? {
        let result = try await connection.run(
            """
            SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?
              AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)
            """, [.text(name), .text(Self.key(identifier.namespace)), .text(identifier.name)])
        return result.rows.first?[0]
    }

    public func loadTable(_ identifier: TableIdentifier) async throws -> Table {
        guard let location = try await pointer(identifier) else {
            throw IcebergError(.notFound, "table \(identifier) does not exist in catalog '\(name)'")
        }
        return Table(identifier: identifier, metadata: try await metadataCache.metadata(at: location, io: io), metadataLocation: location, io: io)
    }

    public func tableExists(_ identifier: TableIdentifier) async throws -> Bool { try await pointer(identifier) != nil }

    public func listTables(_ namespace: [String]) async throws -> [TableIdentifier] {
        let result = try await connection.run(
            "SELECT table_name FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? ORDER BY table_name",
            [.text(name), .text(Self.key(namespace))])
        return result.rows.compactMap { $0[0].map { TableIdentifier(namespace: namespace, name: $0) } }
    }

    public func dropTable(_ identifier: TableIdentifier, purge: Bool) async throws {
        let table = purge ? try? await loadTable(identifier) : nil
        let result = try await connection.run(
            "DELETE FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?",
            [.text(name), .text(Self.key(identifier.namespace)), .text(identifier.name)])
        guard result.changes > 0 else { throw IcebergError(.notFound, "table \(identifier) does not exist") }
        if let table {
            for file in try await io.list(prefix: table.metadata.location + "/") { try await io.delete(file.location) }
        }
    }

    public func commit(_ identifier: TableIdentifier, requirements: [TableRequirement], updates: [TableUpdate]) async throws -> Table {
        let current = try await loadTable(identifier)
        let staged = try MetadataFiles.stage(
            identifier: identifier, current: current, requirements: requirements, updates: updates, nowMillis: clock())
        try await MetadataFiles.write(staged.metadata, to: staged.location, io: io)
        let swap = try await connection.run(
            """
            UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ?
            WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?
            """,
            [.text(staged.location), .text(current.metadataLocation), .text(name), .text(Self.key(identifier.namespace)),
             .text(identifier.name), .text(current.metadataLocation)])
        guard swap.changes == 1 else {
            try? await io.delete(staged.location)
            throw IcebergError(.commitConflict, "commit to \(identifier) conflicts: its metadata moved past \(current.metadataLocation)")
        }
        metadataCache.remember(staged.metadata, at: staged.location)
        return Table(identifier: identifier, metadata: staged.metadata, metadataLocation: staged.location, io: io)
    }
}
