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
    /// Routing by the object's key (`table.route.key_pattern`, such as `raw/{stream}/{yyyy}/{MM}/{dd}/{HH}/`):
    /// `tableName` is then a template (`analytics.{stream}`) and tables are created on first sight.
    public var routeKeyPattern: String?
    /// Routing by a field of each record (`table.route.field`, a dotted path such as `event_type` or
    /// `meta.type`; JSON input): see ``TableRouting/init(nameTemplate:field:layout:)``.
    public var routeField: String?
    /// The schema registry of routed tables (`table.schemas`): a folder of `<table>.schema` files.
    public var schemaRegistry: String?
    /// The route values (sanitised) that may have tables (`table.allow`); nil: any.
    public var allowTables: [String]?
    /// The most routed tables the job may have (`table.max_tables`).
    public var maxTables: Int?
    /// Whether the job routes records to many tables.
    public var isRouted: Bool { routeKeyPattern != nil || routeField != nil }
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
    public var leaseSeconds = IngestConfiguration.leaseSecondsDefault
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
    /// or environment variable can (`ICEBERG_INGEST_S3_VERIFY_TLS=false` is an error; `true` is allowed).
    public var verifyTLS = true
    /// Where each setting given came from, by `section.key`: `file <path>`, `environment <VARIABLE>` or
    /// `flag --<name>` (a flag sets it). Settings not here have their defaults.
    public var origins: [String: String] = [:]

    public init(sourceURI: String, tableName: String, schema: String) {
        self.sourceURI = sourceURI
        self.tableName = tableName
        self.schema = schema
    }

    /// The example executable's flags for the settings a job cannot do without (named in the error when one is missing).
    static let requiredFlags = ["source.uri": "--source", "table.name": "--table", "table.schema": "--schema"]

    /// The keys a job file may have, by section (a key not here is an error naming the nearest one).
    static let knownKeys: [String: [String]] = [
        "": ["source", "catalog", "table", "ingest", "s3"],
        "source": ["uri", "layout", "format", "late_arrival_hours", "reconcile_hours", "reconcile_every", "late_files", "start_at"],
        "catalog": ["uri", "warehouse", "properties"],
        "table": ["name", "schema", "partition", "properties", "route", "schemas", "allow", "max_tables"],
        "ingest": [
            "bad_records", "drift", "changed_objects", "epoch_unit", "dead_letter", "shard", "commit_every_objects", "commit_every_bytes",
            "target_file_size_mb", "max_record_bytes", "numbers_from_strings", "lease_seconds", "lease_wait_seconds",
            "rescale", "threads",
        ],
        "s3": ["endpoint", "region", "ca_bundle", "verify_tls"],
    ]

    /// Reads a job file (JSON, see the type's documentation), validated whole before anything runs: errors
    /// name the file and key; a key or section given twice is an error. String values may name environment
    /// variables, `${VAR}` or `${VAR:-default}` (Terraform outputs injected as a `.env`); an unset variable
    /// without a default is an error. Numbers may be given as strings (so that they can come from the
    /// environment too). An empty value is the same as none (see ``JobFileReader``).
    ///
    /// `ICEBERG_INGEST_<SECTION>_<KEY>` variables of `environment` override the file's keys (see
    /// ``environmentVariable(section:key:)``); their values are taken as they are, never expanded (a secret
    /// may hold `$$` or `${`). ``origins`` says where each setting came from.
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
        // `${VAR}` is the job file's: the values of ICEBERG_INGEST_* variables (and of the flags the executable
        // passes as them) are taken as they are.
        let fromEnvironment = Set(origins.filter { $0.value.hasPrefix("environment ") }.keys)
        let expanded = try Self.expandingVariables(merged, path: path, key: "", environment: environment, skipping: fromEnvironment)
        let file = JobFileReader(json: expanded, path: path)
        func required(_ section: String, _ key: String) throws -> String {
            guard let value = try file.string(section, key) else {
                let flag = Self.requiredFlags["\(section).\(key)"].map { ", or the flag \($0)" } ?? ""
                throw file.error("'\(section).\(key)' is required (or \(Self.environmentVariable(section: section, key: key))\(flag))")
            }
            return value
        }
        let route = file.value("table", "route")
        let sourceURI = try required("source", "uri"), tableName = try required("table", "name")
        // A routed job's tables may take their schemas from the registry or inference instead.
        let schema = route != nil && route != .null ? try file.string("table", "schema") ?? "" : try required("table", "schema")
        self.init(sourceURI: sourceURI, tableName: tableName, schema: schema)
        self.origins = origins
        try readRouting(file, route: route)
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
        if let verify = try file.bool("s3", "verify_tls") {
            // Only the job file may turn verification off: the variable may turn it on, never off (even as `${VAR}`).
            let variable = Self.environmentVariable(section: "s3", key: "verify_tls")
            guard verify || self.origins["s3.verify_tls"] != "environment \(variable)" else {
                throw IngestError(
                    .invalidConfiguration,
                    "environment variable \(variable) cannot turn TLS verification off: only the job file can (\"s3\": {\"verify_tls\": false})")
            }
            verifyTLS = verify
        }
    }

    private mutating func readRouting(_ file: JobFileReader, route: JSONValue?) throws {
        switch route {
        case nil, .null?: break
        case .string(let pattern)?: routeKeyPattern = pattern
        case .object(let members)?:
            for (key, value) in members {
                guard case .string(let text) = value else { throw file.error("'table.route.\(key)' must be a string") }
                switch key {
                case "key_pattern": routeKeyPattern = text
                case "field": routeField = text
                default:
                    throw Self.unknownKey(key, in: "table.route", known: ["key_pattern", "field"], path: file.path)
                }
            }
            guard (routeKeyPattern == nil) != (routeField == nil) else {
                throw file.error("'table.route' takes one of key_pattern and field")
            }
        default:
            throw file.error("'table.route' must be an object such as {\"key_pattern\": \"raw/{stream}/{yyyy}/{MM}/{dd}/{HH}/\"}")
        }
        schemaRegistry = try file.string("table", "schemas")
        if let registry = schemaRegistry, registry.contains("://") {
            throw file.error("'table.schemas' must be a local folder (mounted from a ConfigMap, say), not '\(registry)'")
        }
        // Read as given: an empty list allows no table (the empty-means-unset rule would allow every one).
        switch file.json["table"]?["allow"] {
        case nil, .null?: break
        case .string(let list)?: allowTables = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case .array(let items)?:
            allowTables = try items.map { item in
                guard case .string(let name) = item else { throw file.error("'table.allow' must list strings") }
                return name
            }
        default: throw file.error("'table.allow' must be a list of names (or one comma-separated string)")
        }
        if let v = try file.int("table", "max_tables", 1...100_000) { maxTables = v }
        if !isRouted, schemaRegistry != nil || allowTables != nil || maxTables != nil {
            throw file.error("'table.schemas', 'table.allow' and 'table.max_tables' are for routed jobs: set 'table.route' too")
        }
    }

    private mutating func readSource(_ file: JobFileReader) throws {
        if let v = try file.string("source", "layout") { layout = v }
        if let v = try file.string("source", "format") { format = v }
        if let v = try file.int("source", "late_arrival_hours", IngestConfiguration.lateArrivalHoursRange) { lateArrivalHours = v }
        if let v = try file.int("source", "reconcile_hours", IngestConfiguration.reconcileHoursRange) { reconcileHours = v }
        if let text = try file.string("source", "reconcile_every") {
            guard let seconds = Self.seconds(text), seconds <= Self.maxReconcileEverySeconds else {
                throw file.error("'source.reconcile_every' is '\(text)': it must be a duration from 0 (off) to 365d, such as 24h or 90m")
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
        if let v = try file.int("ingest", "commit_every_objects", 1...100_000_000) { commitEveryObjects = v }
        if let v = try file.int("ingest", "commit_every_bytes", Int64(1)...(1 << 40)) { commitEveryBytes = v }
        if let v = try file.int("ingest", "target_file_size_mb", 1...65_536) { targetFileSizeMB = v }
        if let v = try file.int("ingest", "max_record_bytes", 1024...(1 << 30)) { maxRecordBytes = v }
        if let v = try file.int("ingest", "threads", IngestConfiguration.threadsRange) { threads = v }
        if let v = try file.bool("ingest", "numbers_from_strings") { numbersFromStrings = v }
        if let v = try file.number("ingest", "lease_seconds", IngestConfiguration.leaseSecondsRange) { leaseSeconds = v }
        leaseWaitSeconds = try file.number("ingest", "lease_wait_seconds", 0...IngestConfiguration.maxLeaseWaitSeconds)
        if let v = try file.bool("ingest", "rescale") { rescale = v }
    }

    /// The longest `source.reconcile_every`: 365 days.
    static let maxReconcileEverySeconds = 365.0 * 86_400

    /// `90s`, `30m`, `24h`, `7d`, or a plain number of seconds; nil when it is none of these, negative or not
    /// finite (`inf`, `1e400s`).
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let seconds: Double
        if let plain = Double(trimmed) {
            seconds = plain
        } else {
            guard let unit = trimmed.last, let number = Double(trimmed.dropLast()) else { return nil }
            switch unit {
            case "s": seconds = number
            case "m": seconds = number * 60
            case "h": seconds = number * 3600
            case "d": seconds = number * 86_400
            default: return nil
            }
        }
        return seconds.isFinite && seconds >= 0 ? seconds : nil
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
    /// known key (`"ingets"`: did you mean `ingest`?), so a typo never silently changes what a job does. A
    /// section or key given twice is an error too (see ``checkDuplicates(_:path:key:)``).
    static func checkKeys(_ json: JSONValue, path: String) throws {
        guard case .object(let top) = json else { throw IngestError(.invalidConfiguration, "\(path): a job file is a JSON object") }
        try checkDuplicates(json, path: path, key: "")
        for (name, value) in top {
            let known = knownKeys[""]!
            guard known.contains(name) else { throw unknownKey(name, in: "", known: known, path: path) }
            guard case .object(let members) = value else { throw IngestError(.invalidConfiguration, "\(path): '\(name)' must be an object") }
            let keys = knownKeys[name]!
            for (key, _) in members where !keys.contains(key) { throw unknownKey(key, in: name, known: keys, path: path) }
        }
    }

    /// Throws if an object in `value` has a key twice (the parser keeps both, lookups take the first, and an
    /// `ICEBERG_INGEST_*` variable over one of two sections would make the other win): the error names the
    /// key by its dotted path from `key`, and `path`.
    static func checkDuplicates(_ value: JSONValue, path: String, key: String) throws {
        switch value {
        case .object(let members):
            var seen: Set<String> = []
            for (name, member) in members {
                let place = key.isEmpty ? name : key + "." + name
                guard seen.insert(name).inserted else {
                    throw IngestError(.invalidConfiguration, "\(path): '\(place)' is given twice (each key may appear once)")
                }
                try checkDuplicates(member, path: path, key: place)
            }
        case .array(let items):
            for item in items { try checkDuplicates(item, path: path, key: key) }
        default: break
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

    /// Expands `${VAR}` and `${VAR:-default}` in every string of `value`, except under the `section.key`s in
    /// `skipping` (the settings an `ICEBERG_INGEST_*` variable gave, whose values are taken as they are).
    static func expandingVariables(
        _ value: JSONValue, path: String, key: String, environment: [String: String], skipping: Set<String> = []
    ) throws -> JSONValue {
        switch value {
        case .string(let text): return .string(try expand(text, path: path, key: key, environment: environment))
        case .array(let items):
            return .array(try items.map { try expandingVariables($0, path: path, key: key, environment: environment, skipping: skipping) })
        case .object(let members):
            return .object(try members.map { name, member -> (String, JSONValue) in
                let place = key.isEmpty ? name : key + "." + name
                if skipping.contains(place) { return (name, member) }
                return (name, try expandingVariables(member, path: path, key: place, environment: environment, skipping: skipping))
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
}
