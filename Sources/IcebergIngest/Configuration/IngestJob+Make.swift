import Catalogs
import Checkpoint
import Foundation
import IcebergCore
import Logging
import IcebergS3
import S3Reader

/// What a job makes: the run configuration, the S3 client and HTTP transport, the catalog, the source and the
/// ingestor.
extension IngestJob {
    /// The run configuration this job describes.
    public func configuration() throws -> IngestConfiguration {
        // A routed job's configuration is the template of its tables: the name and schema are placeholders.
        let identifier = try TableIdentifier(parsing: isRouted ? "routed.template" : tableName)
        let placeholder = isRouted && (schema.isEmpty || schema == "infer")
        let parsedSchema = try Self.parseSchema(placeholder ? "line string" : schema, key: "table.schema")
        var configuration = IngestConfiguration(table: identifier, schema: parsedSchema)
        if !placeholder { configuration.partitionSpec = try SchemaText.partitionSpec(partition, schema: parsedSchema) }
        configuration.tableProperties = tableProperties
        configuration.format = try InputFormat(parsing: format)
        configuration.conversion = ConversionOptions(epochUnit: epochUnit, numbersFromStrings: numbersFromStrings)
        configuration.badRecordPolicy = badRecords
        configuration.driftPolicy = drift
        configuration.deadLetterLocation = Self.nonEmpty(deadLetter)
        configuration.changedObjectPolicy = changedObjects
        configuration.lateArrivalHours = lateArrivalHours
        configuration.reconcileHours = reconcileHours
        configuration.reconcileEverySeconds = reconcileEverySeconds
        configuration.lateFiles = lateFiles
        // `now`: the hours still in the late-arrival window are read too.
        if let startAt { configuration.startAtHour = try Self.hour(startAt) - (startAt == "now" ? lateArrivalHours : 0) }
        let parts = shard.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(index) else {
            throw IngestError(.invalidConfiguration, "shard '\(shard)' is not i/n with 0 <= i < n")
        }
        configuration.shard = ShardID(index: index, count: count)
        configuration.commitEveryObjects = commitEveryObjects
        configuration.commitEveryBytes = commitEveryBytes
        configuration.targetFileSizeBytes = targetFileSizeMB << 20
        configuration.maxRecordBytes = maxRecordBytes
        if let threads { configuration.threads = threads }
        configuration.leaseSeconds = leaseSeconds
        configuration.leaseWaitSeconds = leaseWaitSeconds
        configuration.rescale = rescale
        try configuration.validate()
        return configuration
    }

    /// A schema as `table.schema` gives it: the short column list of ``SchemaText`` or Iceberg schema JSON.
    /// `key` names it in errors.
    public static func parseSchema(_ text: String, key: String) throws -> Schema {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.hasPrefix("{") ? try Schema(json: try JSONValue.parse(trimmed, source: key), source: key) : try SchemaText.schema(trimmed)
    }

    /// `text` unless it is empty (or only spaces): an empty setting or variable is the same as none, so that
    /// the next fallback applies rather than an empty host or region.
    static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.allSatisfy(\.isWhitespace) else { return nil }
        return text
    }

    /// The S3 client for `s3://` sources and warehouses: endpoint and region from the job, else from
    /// `S3_ENDPOINT`/`AWS_ENDPOINT_URL` and `AWS_REGION` (an empty one is skipped); credentials from the AWS
    /// default chain (environment, profiles, IRSA web identity, EKS Pod Identity / ECS, IMDSv2).
    public func s3Client(environment: [String: String] = ProcessInfo.processInfo.environment) -> S3Client {
        let endpoint = [s3Endpoint, environment["S3_ENDPOINT"], environment["AWS_ENDPOINT_URL_S3"], environment["AWS_ENDPOINT_URL"]]
            .lazy.compactMap(Self.nonEmpty).first
        let region = [s3Region, environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]].lazy.compactMap(Self.nonEmpty).first ?? "us-east-1"
        let transport = transport()
        var retryPolicy = RetryPolicy()
        retryPolicy.onRetry = { error in IngestMetrics.s3Retry(code: error.code, status: error.status) }
        return S3Client(
            configuration: S3Configuration(region: region, endpoint: endpoint),
            credentials: DefaultCredentialsChain(environment: environment, transport: transport), transport: transport, retryPolicy: retryPolicy)
    }

    /// The HTTP transport of the job's clients (S3, Glue, REST, the credential endpoints): the shared one,
    /// unless the job names a CA bundle or turns verification off.
    public func transport() -> any HTTPTransport {
        guard caBundle != nil || !verifyTLS else { return CurlTransport.shared }
        var configuration = CurlTransport.Configuration()
        if let caBundle { configuration.caBundle = caBundle }
        configuration.verifyTLS = verifyTLS
        return CurlTransport(configuration: configuration)
    }

    /// Opens the catalog the job names (see ``CatalogURI``). The SQLite catalog keeps tables under the job's
    /// warehouse, and so does Glue for databases without a location (region from the URI, else the job's
    /// S3 region, `AWS_REGION`; endpoint from the URI, else `AWS_ENDPOINT_URL_GLUE`; credentials from the
    /// AWS default chain); an object-store catalog's URI is its warehouse; a REST catalog says where its tables are
    /// (`catalogProperties` are passed to it: `warehouse`, `credential`, `token`, `scope`, `rest.sigv4-enabled` ...).
    ///
    /// `readOnly` (for `plan` and `status`) creates nothing: a SQLite catalog or a local warehouse that does not
    /// exist yet is an empty catalog in memory, so the table is simply not there.
    public func catalog(readOnly: Bool = false) async throws -> any Catalog {
        switch try CatalogURI(parsing: catalogURI) {
        case .sqlite(let path) where readOnly && !FileManager.default.fileExists(atPath: path):
            return InMemoryCatalog(warehouse: warehouse)
        case .objectStore(let location) where readOnly && !location.hasPrefix("s3://") && !FileManager.default.fileExists(atPath: location):
            return InMemoryCatalog(warehouse: location)
        case .sqlite(let path):
            let io: any FileIO = warehouse.hasPrefix("s3://") ? S3FileIO(client: s3Client()) : LocalFileIO()
            var warehouseLocation = warehouse
            if !warehouse.hasPrefix("s3://") {
                warehouseLocation = URL(fileURLWithPath: warehouse).standardizedFileURL.path
                try FileManager.default.createDirectory(atPath: warehouseLocation, withIntermediateDirectories: true)
            }
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return try SQLiteCatalog(name: "default", path: path, warehouse: warehouseLocation, io: io)
        case .objectStore(let location):
            if location.hasPrefix("s3://") { return ObjectStoreCatalog(warehouse: location, io: S3FileIO(client: s3Client())) }
            try FileManager.default.createDirectory(atPath: location, withIntermediateDirectories: true)
            return ObjectStoreCatalog(warehouse: location, io: LocalFileIO())
        case .glue(let region, let endpoint, let catalogID):
            let environment = ProcessInfo.processInfo.environment
            guard let region = region ?? [s3Region, environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]].lazy.compactMap(Self.nonEmpty).first else {
                throw IngestError(.invalidConfiguration, "catalog '\(catalogURI)': no Glue region (add ?region=..., or set s3.region or AWS_REGION)")
            }
            let io: any FileIO = warehouse.hasPrefix("s3://") ? S3FileIO(client: s3Client()) : LocalFileIO()
            var warehouseLocation = warehouse
            if !warehouse.hasPrefix("s3://") {
                warehouseLocation = URL(fileURLWithPath: warehouse).standardizedFileURL.path
                try FileManager.default.createDirectory(atPath: warehouseLocation, withIntermediateDirectories: true)
            }
            let transport = transport()
            return GlueCatalog(
                region: region, endpoint: endpoint ?? environment["AWS_ENDPOINT_URL_GLUE"], catalogID: catalogID, warehouse: warehouseLocation,
                io: io, credentials: DefaultCredentialsChain(environment: environment, transport: transport), transport: transport)
        case .rest(let url):
            var properties = catalogProperties
            if properties["s3.endpoint"] == nil, let endpoint = Self.nonEmpty(s3Endpoint) { properties["s3.endpoint"] = endpoint }
            if properties["s3.region"] == nil, let region = Self.nonEmpty(s3Region) { properties["s3.region"] = region }
            return try await RESTCatalog(uri: url, properties: properties, transport: transport())
        }
    }

    /// The time layout of the source's keys (`source.layout`).
    func prefixLayout() throws -> PrefixLayout {
        switch layout {
        case "firehose": .firehose
        case "hive": .hive
        case "dt", "daily": .daily
        default: try PrefixLayout(pattern: layout)
        }
    }

    /// The source the job names: `s3://bucket/prefix/` or a local folder.
    public func source() throws -> any IngestSource {
        let layout = try prefixLayout()
        if sourceURI.hasPrefix("s3://") {
            let rest = sourceURI.dropFirst(5)
            let bucket = String(rest.prefix { $0 != "/" })
            var root = String(rest.dropFirst(bucket.count + 1))
            if !root.isEmpty, !root.hasSuffix("/") { root += "/" }
            guard !bucket.isEmpty else { throw IngestError(.invalidConfiguration, "source '\(sourceURI)' names no bucket") }
            return S3Source(client: s3Client(), bucket: bucket, root: root, layout: layout)
        }
        let root = sourceURI.hasPrefix("file://") ? String(sourceURI.dropFirst(7)) : sourceURI
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue else {
            throw IngestError(.invalidConfiguration, "source folder '\(root)' does not exist (or is not a folder)")
        }
        return LocalFolderSource(root: root, layout: layout)
    }

    /// The routing of a routed job (nil for a job of one table).
    public func routing() throws -> TableRouting? {
        var routing: TableRouting
        if let routeField {
            guard format == "json" else {
                throw IngestError(
                    .invalidConfiguration,
                    "'table.route.field' routes JSON records (format 'json'), not '\(format)': route by 'key_pattern', or run one job per table")
            }
            routing = try TableRouting(nameTemplate: tableName, field: routeField, layout: try prefixLayout())
        } else if let routeKeyPattern {
            routing = try TableRouting(nameTemplate: tableName, keyPattern: routeKeyPattern)
        } else {
            return nil
        }
        routing.schemaRegistry = schemaRegistry
        routing.defaultSchema = schema.isEmpty ? nil : schema
        routing.partition = partition
        routing.allow = allowTables.map { Set($0.compactMap(TableRouting.sanitize)) }
        routing.maxTables = maxTables
        return routing
    }

    /// The routed ingestor of a routed job (``isRouted``).
    public func routedIngestor(
        logger: Logger = Logger(label: "iceberg-ingest", factory: { _ in SwiftLogNoOpLogHandler() }), readOnly: Bool = false
    ) async throws -> RoutedIngestor {
        guard let routing = try routing() else { throw IngestError(.invalidConfiguration, "the job has no 'table.route'") }
        guard let source = try source() as? any RoutableSource else {
            throw IngestError(.invalidConfiguration, "source '\(sourceURI)' cannot be split by stream")
        }
        var template = try configuration()
        template.tableLocation = nil
        return RoutedIngestor(template: template, routing: routing, catalog: try await catalog(readOnly: readOnly), source: source, logger: logger)
    }

    /// The ingestor for this job.
    /// `readOnly`: see ``catalog(readOnly:)``.
    public func ingestor(
        logger: Logger = Logger(label: "iceberg-ingest", factory: { _ in SwiftLogNoOpLogHandler() }), readOnly: Bool = false
    ) async throws -> Ingestor {
        if isRouted {
            throw IngestError(
                .invalidConfiguration,
                "the job routes to many tables ('table.route'): run, plan and status take it whole; for one table's upkeep or evolution give --table and --schema without the route")
        }
        return Ingestor(configuration: try configuration(), catalog: try await catalog(readOnly: readOnly), source: try source(), logger: logger)
    }
}
