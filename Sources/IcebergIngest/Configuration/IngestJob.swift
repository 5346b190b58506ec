import Catalogs
import Checkpoint
import Foundation
import IcebergCore
import Logging
import IcebergS3
import S3Reader

/// A whole job as a configuration file describes it: where the input is, which catalog and table, the
/// schema and partitioning, and the run's policies. The example executable reads it from a JSON file and
/// lets flags override any key.
///
/// ```json
/// {
///   "source":  {"uri": "s3://raw/events/", "layout": "firehose", "format": "json", "late_arrival_hours": 2},
///   "catalog": {"uri": "sqlite:/var/lib/ingest/catalog.db", "warehouse": "s3://lake/warehouse"},
///   "table":   {"name": "analytics.events", "schema": "id long not null, event_time timestamptz, name string",
///               "partition": "hour(event_time)"},
///   "ingest":  {"bad_records": "dead-letter", "drift": "add-columns", "epoch_unit": "milliseconds", "shard": "0/3"},
///   "s3":      {"endpoint": "http://127.0.0.1:9000", "region": "us-east-1"}
/// }
/// ```
///
/// `schema` is the short column list of ``SchemaText`` or an Iceberg schema JSON object.
public struct IngestJob: Sendable {
    public var sourceURI: String
    public var layout = "firehose"
    public var format = "json"
    public var lateArrivalHours: Int32 = 2
    /// Closed hours a reconciliation lists again, how often (seconds; nil: only `run --reconcile`), what to
    /// do with the late files found, and the first hour a new source reads (see ``IngestConfiguration``).
    public var reconcileHours: Int32 = 168
    public var reconcileEverySeconds: Double? = 86_400
    public var lateFiles: LateFilePolicy = .ingest
    public var startAt: String?
    /// `sqlite:<path>` (the embedded default), `rest+http(s)://...`, `glue:?region=...`, `s3://bucket/prefix` or
    /// `file:<folder>` (see ``CatalogURI``).
    public var catalogURI = "sqlite:warehouse/catalog.db"
    /// Properties for a REST catalog (`warehouse`, `credential`, `token`, `scope`, `rest.sigv4-enabled` ...).
    public var catalogProperties: [String: String] = [:]
    public var warehouse = "warehouse"
    public var tableName: String
    /// Short column list or Iceberg schema JSON text.
    public var schema: String
    public var partition = ""
    public var tableProperties: [String: String] = [:]
    public var badRecords: BadRecordPolicy = .fail
    public var drift: DriftPolicy = .ignore
    public var deadLetter: String?
    public var changedObjects: ChangedObjectPolicy = .skip
    public var epochUnit: ConversionOptions.EpochUnit = .auto
    public var numbersFromStrings = true
    /// `i/n`: this worker is shard i of n.
    public var shard = "0/1"
    public var commitEveryObjects = 1_000
    public var commitEveryBytes: Int64 = 2 << 30
    public var targetFileSizeMB = 128
    /// The longest record accepted, in decompressed bytes (`ingest.max_record_bytes`); longer ones are bad records.
    public var maxRecordBytes = IngestConfiguration.defaultMaxRecordBytes
    /// Objects parsed at once (``IngestConfiguration/threads``); nil: the machine's cores.
    public var threads: Int?
    /// How long this runner's lease of the shard lasts without renewal (``IngestConfiguration/leaseSeconds``).
    public var leaseSeconds = 60.0
    /// How long to wait for another runner's lease of the shard (nil: fail at once).
    public var leaseWaitSeconds: Double?
    /// Whether a run whose shard count differs from the source's current layout rescales the source
    /// (``IngestConfiguration/rescale``) instead of failing.
    public var rescale = false
    public var s3Endpoint: String?
    public var s3Region: String?
    /// A CA bundle (PEM) for TLS to S3, the catalogs and the credential endpoints (`s3.ca_bundle`); nil: the
    /// transport's default, `AWS_CA_BUNDLE`, else the system's.
    public var caBundle: String?
    /// Whether TLS certificates are verified (`s3.verify_tls`). On unless a job file turns it off: no flag
    /// or environment variable can.
    public var verifyTLS = true
    /// Where each setting given came from, by `section.key`: `file <path>`, `environment <VARIABLE>` or
    /// `flag --<name>` (a flag sets it). Settings not here have their defaults.
    public var origins: [String: String] = [:]

    public init(sourceURI: String, tableName: String, schema: String) {
        self.sourceURI = sourceURI
        self.tableName = tableName
        self.schema = schema
    }

    /// The keys a job file may have, by section (a key not here is an error naming the nearest one).
    static let knownKeys: [String: [String]] = [
        "": ["source", "catalog", "table", "ingest", "s3"],
        "source": ["uri", "layout", "format", "late_arrival_hours", "reconcile_hours", "reconcile_every", "late_files", "start_at"],
        "catalog": ["uri", "warehouse", "properties"],
        "table": ["name", "schema", "partition", "properties"],
        "ingest": [
            "bad_records", "drift", "changed_objects", "epoch_unit", "dead_letter", "shard", "commit_every_objects", "commit_every_bytes",
            "target_file_size_mb", "max_record_bytes", "numbers_from_strings", "lease_seconds", "lease_wait_seconds",
            "rescale", "threads",
        ],
        "s3": ["endpoint", "region", "ca_bundle", "verify_tls"],
    ]

    /// Reads a job file (JSON, see the type's documentation), validated whole before anything runs: errors
    /// name the file and key. String values may name environment variables, `${VAR}` or `${VAR:-default}`
    /// (Terraform outputs injected as a `.env`); an unset variable without a default is an error. Numbers
    /// may be given as strings (so that they can come from the environment too).
    ///
    /// `ICEBERG_INGEST_<SECTION>_<KEY>` variables of `environment` override the file's keys (see
    /// ``environmentVariable(section:key:)``); ``origins`` says where each setting came from.
    public init(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw IngestError(.invalidConfiguration, "cannot read configuration file \(path): \(error.localizedDescription)")
        }
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(bytes, source: path)
        } catch {
            throw IngestError(.invalidConfiguration, "\(path) is not valid JSON: \(error)")
        }
        try self.init(json: parsed, path: path, environment: environment)
    }

    /// A job from `ICEBERG_INGEST_*` environment variables alone (no file): `ICEBERG_INGEST_SOURCE_URI`,
    /// `ICEBERG_INGEST_TABLE_NAME` and `ICEBERG_INGEST_TABLE_SCHEMA` at least.
    ///
    /// ```swift
    /// let job = try IngestJob(environment: ["ICEBERG_INGEST_SOURCE_URI": "s3://raw/events/",
    ///     "ICEBERG_INGEST_TABLE_NAME": "analytics.clicks", "ICEBERG_INGEST_TABLE_SCHEMA": "id long not null"])
    /// ```
    public init(environment: [String: String]) throws {
        try self.init(json: .object([]), path: "the environment", environment: environment)
    }

    private init(json parsed: JSONValue, path: String, environment: [String: String]) throws {
        try Self.checkKeys(parsed, path: path)
        let (merged, origins) = try Self.overlayingEnvironment(parsed, path: path, environment: environment)
        let file = JobFileReader(json: try Self.expandingVariables(merged, path: path, key: "", environment: environment), path: path)
        func required(_ section: String, _ key: String) throws -> String {
            guard let value = try file.string(section, key) else {
                throw file.error("'\(section).\(key)' is required (or \(Self.environmentVariable(section: section, key: key)))")
            }
            return value
        }
        self.init(sourceURI: try required("source", "uri"), tableName: try required("table", "name"), schema: try required("table", "schema"))
        self.origins = origins
        try readSource(file)
        if let v = try file.string("catalog", "uri") { catalogURI = v }
        if let v = try file.string("catalog", "warehouse") { warehouse = v }
        catalogProperties = try file.properties("catalog")
        if let v = try file.string("table", "partition") { partition = v }
        tableProperties = try file.properties("table")
        try readIngest(file)
        s3Endpoint = try file.string("s3", "endpoint")
        s3Region = try file.string("s3", "region")
        caBundle = try file.string("s3", "ca_bundle")
        if let bundle = caBundle, !FileManager.default.isReadableFile(atPath: bundle) {
            throw file.error("'s3.ca_bundle': cannot read \(bundle)")
        }
        if let verify = try file.bool("s3", "verify_tls") { verifyTLS = verify }
    }

    private mutating func readSource(_ file: JobFileReader) throws {
        if let v = try file.string("source", "layout") { layout = v }
        if let v = try file.string("source", "format") { format = v }
        if let v = try file.int("source", "late_arrival_hours", 0...8_760) { lateArrivalHours = Int32(v) }
        if let v = try file.int("source", "reconcile_hours", 0...87_600) { reconcileHours = Int32(v) }
        if let text = try file.string("source", "reconcile_every") {
            guard let seconds = Self.seconds(text) else {
                throw file.error("'source.reconcile_every' must be a duration such as 24h, 90m or 0 (off), not '\(text)'")
            }
            reconcileEverySeconds = seconds > 0 ? seconds : nil
        }
        if let v = try file.choice("source", "late_files", LateFilePolicy.self) { lateFiles = v }
        startAt = try file.string("source", "start_at")
    }

    private mutating func readIngest(_ file: JobFileReader) throws {
        if let v = try file.choice("ingest", "bad_records", BadRecordPolicy.self) { badRecords = v }
        if let v = try file.choice("ingest", "drift", DriftPolicy.self) { drift = v }
        if let v = try file.choice("ingest", "changed_objects", ChangedObjectPolicy.self) { changedObjects = v }
        if let v = try file.choice("ingest", "epoch_unit", ConversionOptions.EpochUnit.self) { epochUnit = v }
        deadLetter = try file.string("ingest", "dead_letter")
        if let v = try file.string("ingest", "shard") { shard = v }
        if let v = try file.int("ingest", "commit_every_objects", 1...100_000_000) { commitEveryObjects = Int(v) }
        if let v = try file.int("ingest", "commit_every_bytes", 1...(1 << 40)) { commitEveryBytes = v }
        if let v = try file.int("ingest", "target_file_size_mb", 0...65_536) { targetFileSizeMB = Int(v) }
        if let v = try file.int("ingest", "max_record_bytes", 1024...(1 << 30)) { maxRecordBytes = Int(v) }
        if let v = try file.int("ingest", "threads", 1...256) { threads = Int(v) }
        if let v = try file.bool("ingest", "numbers_from_strings") { numbersFromStrings = v }
        if let v = try file.number("ingest", "lease_seconds") { leaseSeconds = v }
        leaseWaitSeconds = try file.number("ingest", "lease_wait_seconds")
        if let v = try file.bool("ingest", "rescale") { rescale = v }
    }

    /// `90s`, `30m`, `24h`, `7d`, or a plain number of seconds; nil when it is none of these.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let plain = Double(trimmed) { return plain >= 0 ? plain : nil }
        guard let unit = trimmed.last, let number = Double(trimmed.dropLast()), number >= 0 else { return nil }
        switch unit {
        case "s": return number
        case "m": return number * 60
        case "h": return number * 3600
        case "d": return number * 86_400
        default: return nil
        }
    }

    /// An hour as `2026-11-01T00` (also with `:00`, `:00:00` and `Z`), or `now`, as hours since the epoch.
    public static func hour(_ text: String, now: Date = Date()) throws -> Int32 {
        if text == "now" { return PrefixLayout.hour(of: now) }
        var t = text.hasSuffix("Z") ? String(text.dropLast()) : text
        if t.count == 13 { t += ":00:00" } else if t.count == 16 { t += ":00" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
        formatter.timeZone = TimeZone(identifier: "UTC")
        guard let date = formatter.date(from: t) else {
            throw IngestError(.invalidConfiguration, "'\(text)' is not an hour such as 2026-11-01T00 (UTC) or 'now'")
        }
        return PrefixLayout.hour(of: date)
    }

    /// Checks every section and key against ``knownKeys``; an unknown one is an error naming the nearest
    /// known key (`"ingets"`: did you mean `ingest`?), so a typo never silently changes what a job does.
    static func checkKeys(_ json: JSONValue, path: String) throws {
        guard case .object(let top) = json else { throw IngestError(.invalidConfiguration, "\(path): a job file is a JSON object") }
        for (name, value) in top {
            let known = knownKeys[""]!
            guard known.contains(name) else { throw unknownKey(name, in: "", known: known, path: path) }
            guard case .object(let members) = value else { throw IngestError(.invalidConfiguration, "\(path): '\(name)' must be an object") }
            let keys = knownKeys[name]!
            for (key, _) in members where !keys.contains(key) { throw unknownKey(key, in: name, known: keys, path: path) }
        }
    }

    static func unknownKey(_ key: String, in section: String, known: [String], path: String) -> IngestError {
        let place = section.isEmpty ? "'\(key)'" : "'\(section).\(key)'"
        let nearest = known.map { ($0, editDistance($0, key)) }.min { $0.1 < $1.1 }
        let hint = nearest.map { $0.1 <= max(2, key.count / 3) ? "; did you mean '\($0.0)'?" : "" } ?? ""
        return IngestError(.invalidConfiguration, "\(path): unknown key \(place)\(hint) (known: \(known.joined(separator: ", ")))")
    }

    /// Levenshtein distance (for suggestions).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }

    /// Expands `${VAR}` and `${VAR:-default}` in every string of `value`.
    static func expandingVariables(_ value: JSONValue, path: String, key: String, environment: [String: String]) throws -> JSONValue {
        switch value {
        case .string(let text): return .string(try expand(text, path: path, key: key, environment: environment))
        case .array(let items):
            return .array(try items.map { try expandingVariables($0, path: path, key: key, environment: environment) })
        case .object(let members):
            return .object(try members.map { name, member in
                (name, try expandingVariables(member, path: path, key: key.isEmpty ? name : key + "." + name, environment: environment))
            })
        default: return value
        }
    }

    /// `text` with `${VAR}` and `${VAR:-default}` replaced from `environment` (`$$` is a literal `$`).
    static func expand(_ text: String, path: String, key: String, environment: [String: String]) throws -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("$") {
                out += "$"
                rest = after.dropFirst()
                continue
            }
            guard after.hasPrefix("{"), let close = after.firstIndex(of: "}") else {
                out += "$"
                rest = after
                continue
            }
            let body = after[after.index(after: after.startIndex)..<close]
            let (name, fallback): (Substring, Substring?) =
                if let range = body.range(of: ":-") { (body[..<range.lowerBound], body[range.upperBound...]) } else { (body, nil) }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw IngestError(.invalidConfiguration, "\(path): '\(key)': '${\(body)}' is not a variable reference (use ${NAME} or ${NAME:-default})")
            }
            if let value = environment[String(name)], !(value.isEmpty && fallback != nil) {
                out += value
            } else if let fallback {
                out += fallback
            } else {
                throw IngestError(.invalidConfiguration, "\(path): '\(key)' uses ${\(name)}, which is not set in the environment (give a default with ${\(name):-value})")
            }
            rest = after[after.index(after: close)...]
        }
        return out + rest
    }

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
