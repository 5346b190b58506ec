import IcebergCore

/// Tables: create, load, exists, list, drop, and commit (`POST /namespaces/{namespace}/tables/{table}` with
/// the spec's `CommitTableRequest`).
extension RESTCatalog {
    static func describe(_ identifier: TableIdentifier) -> String { "table \(identifier)" }

    /// The delegated access this client can use: credentials vended in the table's `config`.
    static let accessDelegation = ("X-Iceberg-Access-Delegation", "vended-credentials")

    /// Creates the table (`stage-create` false). The server assigns fresh field ids, as Iceberg's catalogs
    /// do; the returned table has the metadata the server wrote. Throws `.alreadyExists` or `.notFound`
    /// (namespace).
    public func createTable(
        _ identifier: TableIdentifier, schema: Schema, spec: PartitionSpec, sortOrder: SortOrder,
        properties: [String: String], location: String?
    ) async throws -> Table {
        var pairs: [(String, JSONValue)] = [("name", .string(identifier.name))]
        if let location { pairs.append(("location", .string(location))) }
        pairs += [
            ("schema", schema.json), ("partition-spec", spec.jsonValue), ("write-order", sortOrder.jsonValue),
            ("stage-create", .bool(false)), ("properties", RESTJSON.object(properties)),
        ]
        let subject = Self.describe(identifier)
        let response = try await client.send(
            "POST", paths.tables(identifier.namespace), body: .json(.object(pairs)), headers: [Self.accessDelegation], subject: subject,
            unknownOutcome: true)
        guard response.status == 200 else { throw RESTErrorModel(response).error(route: .createTable, subject: subject) }
        return try await table(fromLoadResult: response.body, identifier: identifier, route: "create")
    }

    /// Loads the table's current metadata (and its FileIO settings from the response's `config`).
    /// Throws `.notFound` when it does not exist.
    public func loadTable(_ identifier: TableIdentifier) async throws -> Table {
        let subject = Self.describe(identifier)
        let token = await tables.context(identifier)?.token
        let response = try await client.send("GET", paths.table(identifier), headers: [Self.accessDelegation], token: token, subject: subject)
        guard response.status == 200 else { throw RESTErrorModel(response).error(route: .read, subject: subject) }
        return try await table(fromLoadResult: response.body, identifier: identifier, route: "load")
    }

    /// Whether the table exists: `HEAD` when the server lists that endpoint, else a load.
    public func tableExists(_ identifier: TableIdentifier) async throws -> Bool {
        let subject = Self.describe(identifier)
        let method = supports("HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}") ? "HEAD" : "GET"
        let response = try await client.send(method, paths.table(identifier), subject: subject)
        switch response.status {
        case 200, 204: return true
        case 404: return false
        default: throw RESTErrorModel(response).error(route: .read, subject: subject)
        }
    }

    /// The tables in `namespace`, all pages of them.
    public func listTables(_ namespace: [String]) async throws -> [TableIdentifier] {
        var identifiers: [TableIdentifier] = []
        for page in try await pages(paths.tables(namespace), query: [], subject: "tables of \(Self.describe(namespace))") {
            guard case .array(let items)? = page["identifiers"] else { continue }
            for item in items {
                guard let itemNamespace = RESTJSON.stringArray(item["namespace"]), let name = RESTJSON.string(item["name"]) else {
                    throw IcebergError(.catalog, "REST catalog listed a table identifier without namespace and name: \(item.serialized())")
                }
                identifiers.append(TableIdentifier(namespace: itemNamespace, name: name))
            }
        }
        return identifiers
    }

    /// Drops the table; `purge` asks the server to delete its data and metadata files too (`purgeRequested`).
    public func dropTable(_ identifier: TableIdentifier, purge: Bool) async throws {
        let subject = Self.describe(identifier)
        let token = await tables.context(identifier)?.token
        let response = try await client.send(
            "DELETE", paths.table(identifier), query: [("purgeRequested", purge ? "true" : "false")], token: token, subject: subject)
        guard response.status == 204 || response.status == 200 else {
            throw RESTErrorModel(response).error(route: .dropTable, subject: subject)
        }
        await tables.remove(identifier)
    }

    /// Sends the requirements and updates; the server checks the requirements against the table's current
    /// metadata and applies the updates atomically. Throws `.commitConflict` on 409 (a requirement failed:
    /// rebuild on the new metadata and retry), `.notFound` on 404, and `.commitStateUnknown` (retryable, after
    /// a reload shows whether it landed) on 500, 502, 504 or a lost connection.
    public func commit(_ identifier: TableIdentifier, requirements: [TableRequirement], updates: [TableUpdate]) async throws -> Table {
        let body = JSONValue.object([
            ("identifier", RESTJSON.identifier(identifier)), ("requirements", .array(requirements.map(\.json))),
            ("updates", .array(updates.map(\.json))),
        ])
        let subject = Self.describe(identifier)
        let context = await tables.context(identifier)
        let response = try await client.send(
            "POST", paths.table(identifier), body: .json(body), token: context?.token, subject: subject, unknownOutcome: true)
        guard response.status == 200 else { throw RESTErrorModel(response).error(route: .commit, subject: subject) }
        let json: JSONValue
        let metadata: TableMetadata
        do {
            json = try RESTJSON.parse(response.body, source: "commit response for \(identifier)")
            guard let metadataJSON = json["metadata"] else {
                throw IcebergError(.invalidMetadata, "commit response for \(identifier) has no metadata")
            }
            metadata = try TableMetadata(json: metadataJSON, source: "commit response for \(identifier)")
        } catch let error as IcebergError {
            // The server said 200, so the commit landed; only its answer is unreadable.
            throw IcebergError(
                .commitStateUnknown, "commit to \(identifier) returned 200 with a body that cannot be read: \(error.message)", cause: error)
        }
        let location = RESTJSON.string(json["metadata-location"]) ?? ""
        return Table(identifier: identifier, metadata: metadata, metadataLocation: location, io: context?.io ?? io)
    }

    /// A table from a `LoadTableResult` body: its metadata, and a FileIO configured by the catalog's
    /// properties with the table's `config` and the `storage-credentials` whose prefix matches its location
    /// on top. Remembers the table's FileIO and token for its later commits.
    func table(fromLoadResult body: [UInt8], identifier: TableIdentifier, route: String) async throws -> Table {
        let source = "\(route) response for \(identifier)"
        let json = try RESTJSON.parse(body, source: source)
        guard let metadataJSON = json["metadata"] else { throw IcebergError(.invalidMetadata, "\(source) has no metadata") }
        let metadata = try TableMetadata(json: metadataJSON, source: source)
        let config = RESTJSON.stringMap(json["config"]) ?? [:]
        var tableProperties = allProperties
        tableProperties.merge(config) { _, table in table }
        if case .array(let credentials)? = json["storage-credentials"] {
            let matching = credentials.compactMap { credential -> (String, [String: String])? in
                guard let prefix = RESTJSON.string(credential["prefix"]), metadata.location.hasPrefix(prefix) else { return nil }
                return (prefix, RESTJSON.stringMap(credential["config"]) ?? [:])
            }
            if let best = matching.max(by: { $0.0.count < $1.0.count }) { tableProperties.merge(best.1) { _, vended in vended } }
        }
        let tableIO = RESTFileIO(properties: tableProperties, credentials: credentials, transport: transport)
        await tables.set(identifier, RESTTableContexts.Context(io: tableIO, token: config[RESTProperties.token]))
        return Table(
            identifier: identifier, metadata: metadata, metadataLocation: RESTJSON.string(json["metadata-location"]) ?? "", io: tableIO)
    }
}
