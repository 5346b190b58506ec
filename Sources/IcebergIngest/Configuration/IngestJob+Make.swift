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
        let identifier = try TableIdentifier(parsing: tableName)
        let trimmed = schema.trimmingCharacters(in: .whitespacesAndNewlines)
        let parsedSchema = trimmed.hasPrefix("{") ? try Schema(json: try JSONValue.parse(trimmed, source: "table.schema"), source: "table.schema") : try SchemaText.schema(trimmed)
        var configuration = IngestConfiguration(table: identifier, schema: parsedSchema)
        configuration.partitionSpec = try SchemaText.partitionSpec(partition, schema: parsedSchema)
        configuration.tableProperties = tableProperties
        configuration.format = try InputFormat(parsing: format)
        configuration.conversion = ConversionOptions(epochUnit: epochUnit, numbersFromStrings: numbersFromStrings)
        configuration.badRecordPolicy = badRecords
        configuration.driftPolicy = drift
        configuration.deadLetterLocation = deadLetter
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

    /// The S3 client for `s3://` sources and warehouses: endpoint and region from the job, else from
    /// `S3_ENDPOINT`/`AWS_ENDPOINT_URL` and `AWS_REGION`; credentials from the AWS default chain
    /// (environment, profiles, IRSA web identity, EKS Pod Identity / ECS, IMDSv2).
    public func s3Client(environment: [String: String] = ProcessInfo.processInfo.environment) -> S3Client {
        let endpoint = s3Endpoint ?? environment["S3_ENDPOINT"] ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        let region = s3Region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
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
            guard let region = region ?? s3Region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] else {
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
            if properties["s3.endpoint"] == nil, let endpoint = s3Endpoint { properties["s3.endpoint"] = endpoint }
            if properties["s3.region"] == nil, let region = s3Region { properties["s3.region"] = region }
            return try await RESTCatalog(uri: url, properties: properties, transport: transport())
        }
    }

    /// The source the job names: `s3://bucket/prefix/` or a local folder.
    public func source() throws -> any IngestSource {
        let layout: PrefixLayout
        switch self.layout {
        case "firehose": layout = .firehose
        case "hive": layout = .hive
        case "dt", "daily": layout = .daily
        default: layout = try PrefixLayout(pattern: self.layout)
        }
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

    /// The ingestor for this job.
    /// `readOnly`: see ``catalog(readOnly:)``.
    public func ingestor(
        logger: Logger = Logger(label: "iceberg-ingest", factory: { _ in SwiftLogNoOpLogHandler() }), readOnly: Bool = false
    ) async throws -> Ingestor {
        Ingestor(configuration: try configuration(), catalog: try await catalog(readOnly: readOnly), source: try source(), logger: logger)
    }
}
