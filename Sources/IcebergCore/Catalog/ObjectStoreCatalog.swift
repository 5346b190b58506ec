import Foundation

/// A catalog kept in the warehouse itself: nothing but objects in a bucket (S3, MinIO) or files in a local
/// folder. Commits are atomic through a create-if-absent write of the next metadata version, so exactly one
/// of several racing committers wins and the others see a conflict and retry.
///
/// Layout (the same table layout as Iceberg's Hadoop catalog, so its tables open there too):
/// - table `ns.t`: `<warehouse>/ns/t/metadata/v<N>.metadata.json`, N = 1, 2, 3...; commit N+1 writes
///   `v<N+1>.metadata.json` with `FileIO.writeIfAbsent` (S3 `If-None-Match: *`, `O_EXCL` locally);
/// - the current version is the highest N that exists. `version-hint.text` says where to start looking
///   (an optimization, never the truth): the catalog checks that `v<hint+1>` does not exist, and without a
///   hint it lists `metadata/v`;
/// - namespaces and the table list: `<warehouse>/_catalog/<ns levels>/.namespace.json` (the properties)
///   and `<warehouse>/_catalog/<ns levels>/<table>.table.json` (the table's location). A table the Hadoop
///   catalog created (no marker) is loaded from `<warehouse>/<ns levels>/<table>` all the same, so Spark's
///   tables can be appended to; `listTables` names only the tables with markers.
///
/// ```swift
/// let catalog = ObjectStoreCatalog(warehouse: "s3://lake/warehouse", io: S3FileIO(client: client))
/// try await catalog.createNamespace(["analytics"])
/// let table = try await catalog.createTable(TableIdentifier(namespace: ["analytics"], name: "events"), schema: schema)
/// ```
public struct ObjectStoreCatalog: Catalog {
    public let name: String
    public let io: any FileIO
    /// The warehouse root (`s3://bucket/prefix` or an absolute local path), without a trailing slash.
    public let warehouse: String
    private let clock: MillisecondClock

    public init(name: String = "default", warehouse: String, io: any FileIO, clock: @escaping MillisecondClock = WallClock.nowMillis) {
        self.name = name
        self.io = io
        self.warehouse = warehouse.hasSuffix("/") ? String(warehouse.dropLast()) : warehouse
        self.clock = clock
    }

    // MARK: Names

    private func checked(_ namespace: [String]) throws -> String {
        guard !namespace.isEmpty, namespace.allSatisfy({ !$0.isEmpty && !$0.contains("/") && !$0.hasPrefix(".") && $0 != "_catalog" }) else {
            throw IcebergError(.invalidArgument, "namespace '\(namespace.joined(separator: "."))': levels must be non-empty, without '/', not start with '.', and not be '_catalog'")
        }
        return namespace.joined(separator: "/")
    }

    private func namespaceMarker(_ namespace: [String]) throws -> String {
        "\(warehouse)/_catalog/\(try checked(namespace))/.namespace.json"
    }

    private func tableMarker(_ identifier: TableIdentifier) throws -> String {
        guard !identifier.name.isEmpty, !identifier.name.contains("/"), !identifier.name.hasPrefix(".") else {
            throw IcebergError(.invalidArgument, "table name '\(identifier.name)' must be non-empty, without '/', and not start with '.'")
        }
        return "\(warehouse)/_catalog/\(try checked(identifier.namespace))/\(identifier.name).table.json"
    }

    static func versionLocation(_ tableLocation: String, _ version: Int) -> String { "\(tableLocation)/metadata/v\(version).metadata.json" }
    static func hintLocation(_ tableLocation: String) -> String { "\(tableLocation)/metadata/version-hint.text" }

    // MARK: Namespaces

    public func createNamespace(_ namespace: [String], properties: [String: String]) async throws {
        let marker = try namespaceMarker(namespace)
        do {
            try await io.writeIfAbsent(marker, bytes: Array(properties.jsonObject.serialized().utf8))
        } catch let error as IcebergError where error.code == .alreadyExists {
            throw IcebergError(.alreadyExists, "namespace \(namespace.joined(separator: ".")) already exists", cause: error)
        }
    }

    public func listNamespaces() async throws -> [[String]] {
        let root = "\(warehouse)/_catalog/"
        return try await io.list(prefix: root).compactMap { file in
            guard file.location.hasSuffix("/.namespace.json") else { return nil }
            return file.location.dropFirst(root.count).dropLast("/.namespace.json".count).split(separator: "/").map(String.init)
        }.sorted { $0.joined(separator: ".") < $1.joined(separator: ".") }
    }

    public func namespaceProperties(_ namespace: [String]) async throws -> [String: String] {
        let marker = try namespaceMarker(namespace)
        let bytes: [UInt8]
        do { bytes = try await io.read(marker) } catch let error as IcebergError where error.code == .notFound {
            throw IcebergError(.notFound, "namespace \(namespace.joined(separator: ".")) does not exist", cause: error)
        }
        return try JSONReader(try JSONValue.parse(bytes, source: marker), source: marker).stringMap
    }

    public func dropNamespace(_ namespace: [String]) async throws {
        _ = try await namespaceProperties(namespace)
        guard try await listTables(namespace).isEmpty else {
            throw IcebergError(.invalidArgument, "namespace \(namespace.joined(separator: ".")) is not empty")
        }
        try await io.delete(try namespaceMarker(namespace))
    }

    // MARK: Tables

    public func createTable(
        _ identifier: TableIdentifier, schema: Schema, spec: PartitionSpec, sortOrder: SortOrder,
        properties: [String: String], location: String?
    ) async throws -> Table {
        let namespaceProperties = try await self.namespaceProperties(identifier.namespace)
        let marker = try tableMarker(identifier)
        let namespacePath = try checked(identifier.namespace)
        let tableLocation =
            (location
            ?? namespaceProperties["location"].map { "\($0.hasSuffix("/") ? String($0.dropLast()) : $0)/\(identifier.name)" }
            ?? "\(warehouse)/\(namespacePath)/\(identifier.name)").trimmingTrailingSlash
        let metadata = try TableMetadataBuilder.newTable(
            location: tableLocation, schema: schema, spec: spec, sortOrder: sortOrder, properties: properties, nowMillis: clock())
        let first = Self.versionLocation(tableLocation, 1)
        // The marker makes the name taken; the first version makes the table.
        do {
            try await io.writeIfAbsent(marker, bytes: Array(JSONValue.object([("location", .string(tableLocation))]).serialized().utf8))
        } catch let error as IcebergError where error.code == .alreadyExists {
            throw IcebergError(.alreadyExists, "table \(identifier) already exists", cause: error)
        }
        do {
            try await MetadataFiles.write(metadata, to: first, io: io)
        } catch {
            try? await io.delete(marker)
            if let error = error as? IcebergError, error.code == .alreadyExists {
                throw IcebergError(.alreadyExists, "table \(identifier): \(tableLocation) already holds table metadata (purge it or choose another location)", cause: error)
            }
            throw error
        }
        try? await io.write(Self.hintLocation(tableLocation), bytes: Array("1".utf8))
        return Table(identifier: identifier, metadata: metadata, metadataLocation: first, io: io)
    }

    /// The table's location, from its marker; a table without one that Iceberg's Hadoop catalog (Spark or
    /// any Java engine with `type=hadoop`) created is found at that catalog's location for it.
    private func location(_ identifier: TableIdentifier) async throws -> String {
        let marker = try tableMarker(identifier)
        let bytes: [UInt8]
        do { bytes = try await io.read(marker) } catch let error as IcebergError where error.code == .notFound {
            if let hadoop = try await hadoopTableLocation(identifier) { return hadoop }
            throw IcebergError(.notFound, "table \(identifier) does not exist in catalog '\(name)' (\(warehouse))", cause: error)
        }
        return try JSONReader(try JSONValue.parse(bytes, source: marker), source: marker).required("location").string
    }

    /// `<warehouse>/<namespace levels>/<name>` when a table's metadata versions are there: where the Hadoop
    /// catalog keeps a table (it has no markers).
    private func hadoopTableLocation(_ identifier: TableIdentifier) async throws -> String? {
        let location = "\(warehouse)/\(try checked(identifier.namespace))/\(identifier.name)"
        return try await currentVersion(tableLocation: location) > 0 ? location : nil
    }

    /// The highest metadata version that exists (0 when none).
    func currentVersion(tableLocation: String) async throws -> Int {
        // Start from the hint when there is one, then step over versions written after it.
        if let hint = try? await io.read(Self.hintLocation(tableLocation)),
            var version = Int(String(decoding: hint, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), version > 0,
            try await io.exists(Self.versionLocation(tableLocation, version))
        {
            while try await io.exists(Self.versionLocation(tableLocation, version + 1)) { version += 1 }
            return version
        }
        let prefix = "\(tableLocation)/metadata/v"
        return try await io.list(prefix: prefix).compactMap { file -> Int? in
            guard file.location.hasSuffix(".metadata.json") else { return nil }
            return Int(file.location.dropFirst(prefix.count).dropLast(".metadata.json".count))
        }.max() ?? 0
    }

    public func loadTable(_ identifier: TableIdentifier) async throws -> Table {
        let tableLocation = try await location(identifier)
        var version = try await currentVersion(tableLocation: tableLocation)
        // The name is taken but the first version not written yet: another writer is creating the table
        // (between its two writes). Looked at again for up to 10 s before calling it a creation that died.
        var waited = 0
        while version == 0, waited < 100 {
            try await Task.sleep(for: .milliseconds(100))
            waited += 1
            version = try await currentVersion(tableLocation: tableLocation)
        }
        guard version > 0 else {
            throw IcebergError(
                .notFound, "table \(identifier): no metadata under \(tableLocation)/metadata/ (its creation did not finish; drop the table to free the name)")
        }
        let metadataLocation = Self.versionLocation(tableLocation, version)
        return Table(identifier: identifier, metadata: try await MetadataFiles.read(metadataLocation, io: io), metadataLocation: metadataLocation, io: io)
    }

    public func tableExists(_ identifier: TableIdentifier) async throws -> Bool {
        if try await io.exists(try tableMarker(identifier)) { return true }
        return try await hadoopTableLocation(identifier) != nil
    }

    public func listTables(_ namespace: [String]) async throws -> [TableIdentifier] {
        let prefix = "\(warehouse)/_catalog/\(try checked(namespace))/"
        return try await io.list(prefix: prefix).compactMap { file in
            let rest = file.location.dropFirst(prefix.count)
            guard rest.hasSuffix(".table.json"), !rest.contains("/") else { return nil }
            return TableIdentifier(namespace: namespace, name: String(rest.dropLast(".table.json".count)))
        }.sorted { $0.name < $1.name }
    }

    public func dropTable(_ identifier: TableIdentifier, purge: Bool) async throws {
        let tableLocation = try await location(identifier)
        try await io.delete(try tableMarker(identifier))
        // Without purge the files stay where they are (the location cannot take a new table until purged).
        if purge {
            for file in try await io.list(prefix: tableLocation + "/") { try await io.delete(file.location) }
        }
    }

    /// Writes version N+1 if nothing else did first; a racing committer that got there first makes this a
    /// `.commitConflict`, and the caller retries on the new version. When the create's answer is lost or
    /// ambiguous, the file is read back: the commit succeeded if it holds exactly what was sent.
    public func commit(_ identifier: TableIdentifier, requirements: [TableRequirement], updates: [TableUpdate]) async throws -> Table {
        let current = try await loadTable(identifier)
        let (metadata, _) = try MetadataFiles.stage(
            identifier: identifier, current: current, requirements: requirements, updates: updates, nowMillis: clock())
        let version = (Int(current.metadataLocation.split(separator: "/").last?.dropFirst().prefix { $0.isNumber } ?? "") ?? 0) + 1
        let location = Self.versionLocation(metadata.location.trimmingTrailingSlash, version)
        let bytes = Array(metadata.jsonText().utf8)
        do {
            try await io.writeIfAbsent(location, bytes: bytes)
        } catch {
            // "Already exists" may be our own create answered late (a retried request), and a failed request
            // may have created the file all the same: the file says which. When it cannot be read, nobody
            // can tell: the version may be the table's now, naming this commit's manifests.
            let stored: [UInt8]?
            do {
                stored = try await io.read(location)
            } catch let missing as IcebergError where missing.code == .notFound {
                stored = nil
            } catch let unreadable {
                throw IcebergError(
                    .commitStateUnknown,
                    "table \(identifier): writing version \(version) failed (\(error)) and reading it back to see whether it landed failed too: \(unreadable)",
                    cause: unreadable)
            }
            if stored != bytes {
                if stored != nil || (error as? IcebergError)?.code == .alreadyExists {
                    throw IcebergError(.commitConflict, "table \(identifier): another writer committed version \(version) first", cause: error)
                }
                throw error
            }
        }
        try? await io.write(Self.hintLocation(metadata.location.trimmingTrailingSlash), bytes: Array(String(version).utf8))
        return Table(identifier: identifier, metadata: metadata, metadataLocation: location, io: io)
    }
}

extension String {
    fileprivate var trimmingTrailingSlash: String { hasSuffix("/") ? String(dropLast()) : self }
}
