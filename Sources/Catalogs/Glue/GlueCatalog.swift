import Foundation
import IcebergCore
import Logging
import IcebergS3
import S3Reader

/// Iceberg tables in the AWS Glue Data Catalog, readable by Athena, EMR, Spark's and PyIceberg's
/// `GlueCatalog`: Glue databases are the namespaces (one level), and a table is a Glue table with the
/// parameters `table_type=ICEBERG`, `metadata_location` and `previous_metadata_location`.
///
/// **Commits** write the new metadata file, then call `UpdateTable` with the `VersionId` of the Glue table as
/// it was read: Glue's compare-and-swap. When Glue answers `ConcurrentModificationException` (or the answer is
/// lost), the catalog reads the table again: if `metadata_location` is the file just written, the commit
/// landed and succeeds; otherwise it deletes that file and throws `.commitConflict`, and the caller rebuilds
/// on the new state (``FastAppend`` does).
///
/// ```swift
/// let glue = GlueCatalog(region: "eu-west-1", warehouse: "s3://lake/warehouse", io: S3FileIO(client: s3))
/// try await glue.createNamespace(["analytics"])
/// let table = try await glue.createTable(TableIdentifier(namespace: ["analytics"], name: "events"), schema: schema)
/// // PyIceberg: GlueCatalog("glue", **{"glue.region": "eu-west-1"}).load_table("analytics.events")
/// ```
public struct GlueCatalog: Catalog {
    public let name: String
    public let io: any FileIO
    /// Where new tables go when their database has no location: `<warehouse>/<database>.db/<table>`.
    public let warehouse: String?
    /// Whether UpdateTable asks Glue not to archive the replaced table version (Glue keeps a bounded number
    /// of versions; the Iceberg catalogs skip archiving by default).
    public let skipArchive: Bool
    let client: GlueClient
    private let clock: MillisecondClock
    private let logger: Logger
    /// Metadata files this catalog wrote or read (a metadata file never changes once written).
    private let metadataCache = MetadataCache()

    /// - Parameters:
    ///   - region: the Glue region (`us-east-1`); the endpoint is `https://glue.<region>.amazonaws.com`
    ///     unless `endpoint` overrides it (`http://127.0.0.1:5000` for moto, a VPC endpoint).
    ///   - catalogID: another account's catalog (its 12-digit id); nil for the caller's own.
    ///   - credentials: the AWS default chain unless given.
    public init(
        name: String = "glue", region: String, endpoint: String? = nil, catalogID: String? = nil, warehouse: String? = nil,
        io: any FileIO, credentials: any CredentialsProvider = DefaultCredentialsChain(), transport: any HTTPTransport = CurlTransport.shared,
        retryPolicy: RetryPolicy = RetryPolicy(), skipArchive: Bool = true, clock: @escaping MillisecondClock = WallClock.nowMillis,
        logger: Logger = Logger(label: "iceberg.catalog.glue", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.name = name
        self.io = io
        self.warehouse = warehouse.map { var w = $0; while w.hasSuffix("/") { w.removeLast() }; return w }
        self.skipArchive = skipArchive
        client = GlueClient(
            region: region, endpoint: endpoint, catalogID: catalogID, credentials: credentials, transport: transport, retryPolicy: retryPolicy)
        self.clock = clock
        self.logger = logger
    }

    /// The Glue endpoint the catalog calls.
    public var endpoint: String { client.endpoint }

    private static func database(_ namespace: [String]) throws -> String {
        guard namespace.count == 1, let database = namespace.first, !database.isEmpty else {
            throw IcebergError(.invalidArgument, "namespace \(namespace.joined(separator: ".")): Glue databases have exactly one level")
        }
        return database
    }

    // MARK: Namespaces

    public func createNamespace(_ namespace: [String], properties: [String: String]) async throws {
        let database = try Self.database(namespace)
        _ = try await client.call("CreateDatabase", [("DatabaseInput", Self.databaseInput(name: database, properties: properties))], object: "database \(database)")
    }

    public func listNamespaces() async throws -> [[String]] {
        var result: [[String]] = []
        var token: String?
        repeat {
            var body: [(String, JSONValue)] = []
            if let token { body.append(("NextToken", .string(token))) }
            let page = try await client.call("GetDatabases", body, object: "the catalog")
            if case .array(let databases)? = page["DatabaseList"] {
                result += databases.compactMap { $0["Name"]?.glueString.map { [$0] } }
            }
            token = page["NextToken"]?.glueString.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return result
    }

    public func namespaceProperties(_ namespace: [String]) async throws -> [String: String] {
        let database = try Self.database(namespace)
        let answer = try await client.call("GetDatabase", [("Name", .string(database))], object: "database \(database)")
        guard let record = answer["Database"] else { throw IcebergError(.catalog, "Glue GetDatabase on \(database) answered without a Database") }
        var properties = record["Parameters"]?.glueParameters ?? [:]
        if let location = record["LocationUri"]?.glueString { properties["location"] = location }
        if let description = record["Description"]?.glueString { properties["Description"] = description }
        return properties
    }

    public func dropNamespace(_ namespace: [String]) async throws {
        let database = try Self.database(namespace)
        let tables = try await client.call("GetTables", [("DatabaseName", .string(database)), ("MaxResults", .int(1))], object: "database \(database)")
        if case .array(let list)? = tables["TableList"], !list.isEmpty {
            throw IcebergError(.invalidArgument, "namespace \(database) is not empty")
        }
        _ = try await client.call("DeleteDatabase", [("Name", .string(database))], object: "database \(database)")
    }

    // MARK: Tables

    /// The Glue table record, its `VersionId` and its metadata location; `.notFound` when it is missing
    /// or is not an Iceberg table.
    private func glueTable(_ identifier: TableIdentifier) async throws -> (record: JSONValue, versionID: String?, metadataLocation: String) {
        let database = try Self.database(identifier.namespace)
        let answer = try await client.call(
            "GetTable", [("DatabaseName", .string(database)), ("Name", .string(identifier.name))], object: "table \(identifier)")
        guard let record = answer["Table"] else { throw IcebergError(.catalog, "Glue GetTable on \(identifier) answered without a Table") }
        let parameters = record["Parameters"]?.glueParameters ?? [:]
        guard parameters[Parameter.tableType]?.uppercased() == Parameter.iceberg else {
            throw IcebergError(.notFound, "table \(identifier) in Glue is not an Iceberg table (table_type is \(parameters[Parameter.tableType] ?? "missing"))")
        }
        guard let location = parameters[Parameter.metadataLocation], !location.isEmpty else {
            throw IcebergError(.invalidMetadata, "Glue table \(identifier) has no metadata_location parameter")
        }
        return (record, record["VersionId"]?.glueString, location)
    }

    public func createTable(
        _ identifier: TableIdentifier, schema: Schema, spec: PartitionSpec, sortOrder: IcebergCore.SortOrder,
        properties: [String: String], location: String?
    ) async throws -> Table {
        let database = try Self.database(identifier.namespace)
        let databaseProperties = try await namespaceProperties(identifier.namespace)
        let trimmedDatabaseLocation = databaseProperties["location"].map { var l = $0; while l.hasSuffix("/") { l.removeLast() }; return l }
        guard let tableLocation = location ?? trimmedDatabaseLocation.map({ "\($0)/\(identifier.name)" }) ?? warehouse.map({ "\($0)/\(database).db/\(identifier.name)" }) else {
            throw IcebergError(.invalidArgument, "table \(identifier): no location given, database \(database) has none and the catalog has no warehouse")
        }
        let metadata = try TableMetadataBuilder.newTable(
            location: tableLocation, schema: schema, spec: spec, sortOrder: sortOrder, properties: properties, nowMillis: clock())
        let metadataLocation = MetadataFiles.nextLocation(tableLocation: metadata.location, current: nil)
        try await MetadataFiles.write(metadata, to: metadataLocation, io: io)
        let input = Self.tableInput(name: identifier.name, metadata: metadata, metadataLocation: metadataLocation, previousMetadataLocation: nil, existing: [:])
        do {
            _ = try await client.call("CreateTable", [("DatabaseName", .string(database)), ("TableInput", input)], object: "table \(identifier)")
        } catch let error as IcebergError where [.alreadyExists, .notFound, .invalidArgument].contains(error.code) {
            // A CreateTable that took effect but whose answer was lost is retried and then finds the table it
            // made: the table pointing at this very file is ours.
            if error.code == .alreadyExists {
                let existing: String?
                do {
                    existing = try await glueTable(identifier).metadataLocation
                } catch let lookup as IcebergError where lookup.code == .notFound {
                    existing = nil  // gone again, or not an Iceberg table: not this call's
                } catch let lookup {
                    // Whether the table is the one this call made is unknown: its metadata file stays.
                    throw IcebergError(
                        .commitStateUnknown,
                        "create of table \(identifier): CreateTable answered that it exists, and the table cannot be read to tell whether it is this call's: \(lookup)",
                        cause: lookup)
                }
                if existing == metadataLocation {
                    logger.info("CreateTable reported the table exists, and it is the one this call created", metadata: ["table": "\(identifier)"])
                    return Table(identifier: identifier, metadata: metadata, metadataLocation: metadataLocation, io: io)
                }
            }
            // Glue refused the table: nothing points at the file. (After an unclear failure it stays.)
            try? await io.delete(metadataLocation)
            throw error
        }
        metadataCache.remember(metadata, at: metadataLocation)
        return Table(identifier: identifier, metadata: metadata, metadataLocation: metadataLocation, io: io)
    }

    public func loadTable(_ identifier: TableIdentifier) async throws -> Table {
        let location = try await glueTable(identifier).metadataLocation
        return Table(identifier: identifier, metadata: try await metadataCache.metadata(at: location, io: io), metadataLocation: location, io: io)
    }

    public func tableExists(_ identifier: TableIdentifier) async throws -> Bool {
        do {
            _ = try await glueTable(identifier)
            return true
        } catch let error as IcebergError where error.code == .notFound {
            return false
        }
    }

    public func listTables(_ namespace: [String]) async throws -> [TableIdentifier] {
        let database = try Self.database(namespace)
        var result: [TableIdentifier] = []
        var token: String?
        repeat {
            var body: [(String, JSONValue)] = [("DatabaseName", .string(database))]
            if let token { body.append(("NextToken", .string(token))) }
            let page = try await client.call("GetTables", body, object: "database \(database)")
            if case .array(let tables)? = page["TableList"] {
                for table in tables where table["Parameters"]?.glueParameters[Parameter.tableType]?.uppercased() == Parameter.iceberg {
                    if let name = table["Name"]?.glueString { result.append(TableIdentifier(namespace: namespace, name: name)) }
                }
            }
            token = page["NextToken"]?.glueString.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return result.sorted { $0.name < $1.name }
    }

    public func dropTable(_ identifier: TableIdentifier, purge: Bool) async throws {
        let database = try Self.database(identifier.namespace)
        let table = purge ? try? await loadTable(identifier) : nil
        _ = try await client.call("DeleteTable", [("DatabaseName", .string(database)), ("Name", .string(identifier.name))], object: "table \(identifier)")
        if let table {
            for file in try await io.list(prefix: table.metadata.location + "/") { try await io.delete(file.location) }
        }
    }

    public func commit(_ identifier: TableIdentifier, requirements: [TableRequirement], updates: [TableUpdate]) async throws -> Table {
        let database = try Self.database(identifier.namespace)
        let current = try await glueTable(identifier)
        guard let versionID = current.versionID else {
            throw IcebergError(.catalog, "Glue table \(identifier) has no VersionId: cannot commit with a compare-and-swap")
        }
        let base = Table(
            identifier: identifier, metadata: try await metadataCache.metadata(at: current.metadataLocation, io: io), metadataLocation: current.metadataLocation,
            io: io)
        let staged = try MetadataFiles.stage(identifier: identifier, current: base, requirements: requirements, updates: updates, nowMillis: clock())
        try await MetadataFiles.write(staged.metadata, to: staged.location, io: io)
        let input = Self.tableInput(
            name: identifier.name, metadata: staged.metadata, metadataLocation: staged.location, previousMetadataLocation: current.metadataLocation,
            existing: current.record["Parameters"]?.glueParameters ?? [:])
        do {
            _ = try await client.call(
                "UpdateTable",
                [("DatabaseName", .string(database)), ("TableInput", input), ("SkipArchive", .bool(skipArchive)), ("VersionId", .string(versionID))],
                object: "table \(identifier)")
        } catch let failure {
            try await settle(identifier, written: staged.location, failure: failure)
        }
        metadataCache.remember(staged.metadata, at: staged.location)
        return Table(identifier: identifier, metadata: staged.metadata, metadataLocation: staged.location, io: io)
    }

    /// After UpdateTable failed (a concurrent modification, or an answer that may hide a success): reads the
    /// table again. Returns when it points at `written`, or at metadata whose log lists `written` (the update
    /// landed after all); otherwise deletes `written` and rethrows, a concurrent modification as
    /// `.commitConflict`. When the table, or the metadata it points at, cannot be read, the outcome is
    /// unknown: `.commitStateUnknown`, and the file stays.
    private func settle(_ identifier: TableIdentifier, written: String, failure: any Error) async throws {
        let now: String
        do {
            now = try await glueTable(identifier).metadataLocation
        } catch {
            throw IcebergError(
                .commitStateUnknown, "commit to \(identifier): UpdateTable failed (\(failure)) and the table cannot be read again to tell",
                cause: error)
        }
        if now == written {
            logger.info("UpdateTable reported a failure but the table points at the new metadata", metadata: ["table": "\(identifier)"])
            return
        }
        // A retried UpdateTable may have landed on its first try and another commit on top of it since: then
        // the current metadata lists ours as a previous file, and the commit happened.
        let current: TableMetadata
        do {
            current = try await MetadataFiles.read(now, io: io)
        } catch {
            // Whether that metadata builds on ours is unknown: ours may be the table's history now, so it stays.
            throw IcebergError(
                .commitStateUnknown,
                "commit to \(identifier): UpdateTable failed (\(failure)) and the table's current metadata \(now) cannot be read to tell whether it builds on this commit",
                cause: error)
        }
        if current.metadataLog.contains(where: { $0.metadataFile == written }) {
            logger.info("UpdateTable reported a failure but a later commit builds on the new metadata", metadata: ["table": "\(identifier)"])
            return
        }
        try? await io.delete(written)
        if let error = failure as? IcebergError, error.code == .commitConflict {
            throw IcebergError(.commitConflict, "commit to \(identifier) conflicts: another commit moved it to \(now)", cause: error)
        }
        throw failure
    }
}
