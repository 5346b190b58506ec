import Foundation
import IcebergCore
import S3Reader

/// Job settings from the environment, the way Terraform outputs reach a pod (a `.env` file, a ConfigMap):
/// every key of a job file has one variable, `ICEBERG_INGEST_<SECTION>_<KEY>` in capitals
/// (`source.uri` is `ICEBERG_INGEST_SOURCE_URI`, `ingest.bad_records` is `ICEBERG_INGEST_INGEST_BAD_RECORDS`;
/// `catalog.properties` and `table.properties` take a JSON object). Precedence, highest first: flags,
/// `ICEBERG_INGEST_*` variables, the job file, defaults. An `ICEBERG_INGEST_*` variable that names no key is an
/// error naming the nearest one, like an unknown key in a file (except Kubernetes' service links, see
/// ``isServiceLink(_:value:)``). No variable can turn TLS verification off (`ICEBERG_INGEST_S3_VERIFY_TLS=false` is an
/// error): only the job file can. A variable's value is taken as it is: `${VAR}` is expanded in the job file
/// only (a secret may hold `$$` or `${`). An empty value is the same as none: `ICEBERG_INGEST_S3_ENDPOINT=` leaves the
/// endpoint unset, also over the job file's.
///
/// ```swift
/// var environment = ProcessInfo.processInfo.environment
/// for (name, value) in try IngestJob.readEnvironmentFile(".env") where environment[name] == nil { environment[name] = value }
/// let job = try IngestJob(file: "job.json", environment: environment)
/// for setting in job.effectiveSettings() { print(setting.key, setting.value, setting.origin) }
/// ```
extension IngestJob {
    static let environmentPrefix = "ICEBERG_INGEST_"
    /// Variables with the prefix that are not job settings.
    static let otherVariables: Set<String> = ["ICEBERG_INGEST_FAIL_POINT", "ICEBERG_INGEST_SHARD_COUNT"]

    /// The variable that sets `section.key`.
    public static func environmentVariable(section: String, key: String) -> String {
        environmentPrefix + (section + "_" + key).uppercased()
    }

    /// Every setting as `section.key` with its variable, in the order of the job file's sections.
    public static var settingNames: [(key: String, variable: String)] {
        ["source", "catalog", "table", "ingest", "s3"].flatMap { section in
            knownKeys[section]!.map { ("\(section).\($0)", environmentVariable(section: section, key: $0)) }
        }
    }

    /// Reads a `.env` file: `NAME=value` lines (ending in `\n` or `\r\n`), `#` comments, blank lines, an optional
    /// `export `, values in single or double quotes (double quotes take `\n`, `\"` and `\\`), a quoted value
    /// optionally followed by whitespace and a `#` comment. Errors name the file and line.
    public static func readEnvironmentFile(_ path: String) throws -> [String: String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw IngestError(.invalidConfiguration, "cannot read environment file \(path): \(error.localizedDescription)")
        }
        var out: [String: String] = [:]
        // `"\r\n"` is one Character in Swift: splitting on `"\n"` would leave a Windows file one line.
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if index == 0, line.hasPrefix("\u{FEFF}") { line = String(line.dropFirst()).trimmingCharacters(in: .whitespaces) }  // a byte-order mark
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "=") else {
                throw IngestError(.invalidConfiguration, "\(path) line \(index + 1): expected NAME=value, found '\(line.prefix(40))'")
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !(name.first?.isNumber ?? true) else {
                throw IngestError(.invalidConfiguration, "\(path) line \(index + 1): '\(name)' is not a variable name")
            }
            out[name] = environmentFileValue(line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces))
        }
        return out
    }

    /// A `.env` line's value (trimmed): in single quotes (literal) or double quotes (`\n`, `\"` and `\\`
    /// unescaped), alone or followed by whitespace and a `#` comment; else plain text up to a ` #` comment.
    static func environmentFileValue(_ value: String) -> String {
        if let quote = value.first, quote == "'" || quote == "\"" {
            // The closing quote: the first one after the opening quote (in double quotes, not one escaped).
            var index = value.index(after: value.startIndex)
            var close: String.Index?
            while index < value.endIndex {
                if value[index] == quote {
                    close = index
                    break
                }
                if quote == "\"", value[index] == "\\" { index = value.index(after: index) }
                if index < value.endIndex { index = value.index(after: index) }
            }
            if let close {
                let after = value[value.index(after: close)...]
                let rest = after.trimmingCharacters(in: .whitespaces)
                if rest.isEmpty || (rest.hasPrefix("#") && after.first?.isWhitespace == true) {
                    let inner = String(value[value.index(after: value.startIndex)..<close])
                    guard quote == "\"" else { return inner }
                    return inner.replacingOccurrences(of: "\\\\", with: "\u{0}").replacingOccurrences(of: "\\n", with: "\n")
                        .replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\u{0}", with: "\\")
                }
            }
        }
        if let comment = value.range(of: " #") { return value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces) }
        return value
    }

    /// The job JSON with each `ICEBERG_INGEST_*` variable of `environment` put over its key, and where each
    /// key came from (`environment <VARIABLE>` for the variables' keys, whose values are not expanded).
    static func overlayingEnvironment(
        _ json: JSONValue, path: String, environment: [String: String]
    ) throws -> (JSONValue, [String: String]) {
        guard case .object(var sections) = json else { return (json, [:]) }
        var origins: [String: String] = [:]
        for (section, members) in sections {
            if case .object(let keys) = members { for (key, _) in keys { origins["\(section).\(key)"] = "file \(path)" } }
        }
        let byVariable = Dictionary(uniqueKeysWithValues: settingNames.map { ($0.variable, $0.key) })
        for (variable, value) in environment.sorted(by: { $0.key < $1.key }) where variable.hasPrefix(environmentPrefix) {
            guard !otherVariables.contains(variable) else { continue }
            guard let setting = byVariable[variable] else {
                if isServiceLink(variable, value: value) { continue }
                let nearest = byVariable.keys.map { ($0, editDistance($0, variable)) }.min { $0.1 < $1.1 }
                let hint = nearest.map { $0.1 <= 4 ? "; did you mean \($0.0)?" : "" } ?? ""
                throw IngestError(.invalidConfiguration, "environment variable \(variable) names no job setting\(hint)")
            }
            let parts = setting.split(separator: ".", maxSplits: 1).map(String.init)
            let (section, key) = (parts[0], parts[1])
            var member: JSONValue = .string(value)
            if key == "route", value.trimmingCharacters(in: .whitespaces).hasPrefix("{") {
                // A route object (`{"field": "event_type"}`); a plain value is the key pattern.
                member = try JSONValue.parse(Array(value.utf8), source: variable)
            } else if key == "properties", !value.allSatisfy(\.isWhitespace) {  // an empty value: none
                guard case .object? = try? JSONValue.parse(Array(value.utf8), source: variable) else {
                    throw IngestError(.invalidConfiguration, "\(variable) must be a JSON object of strings, such as {\"credential\": \"id:secret\"}")
                }
                member = try JSONValue.parse(Array(value.utf8), source: variable)
            }
            try checkDuplicates(member, path: variable, key: setting)
            var keys: [(String, JSONValue)] = []
            if let index = sections.firstIndex(where: { $0.0 == section }), case .object(let existing) = sections[index].1 {
                keys = existing.filter { $0.0 != key }
                sections.remove(at: index)
            }
            sections.append((section, .object(keys + [(key, member)])))
            origins[setting] = "environment \(variable)"
        }
        return (.object(sections), origins)
    }

    /// Whether `variable` has the shape of a Kubernetes service link, which no setting has. Unless a pod sets
    /// `enableServiceLinks: false`, Kubernetes gives it, for every Service in its namespace, `<SERVICE>_SERVICE_HOST`,
    /// `<SERVICE>_SERVICE_PORT`, `<SERVICE>_SERVICE_PORT_<PORT NAME>`, `<SERVICE>_PORT` and
    /// `<SERVICE>_PORT_<n>_<TCP|UDP|SCTP>` with `_PROTO`, `_PORT` and `_ADDR` (the Service's name in capitals, `-`
    /// as `_`): a Service named `iceberg-ingest-metrics` gives `ICEBERG_INGEST_METRICS_SERVICE_HOST` and
    /// `ICEBERG_INGEST_METRICS_PORT_9090_TCP_ADDR`. These are ignored rather than taken for misspelled settings, which
    /// would make every pod in the namespace exit with code 2.
    static func isServiceLink(_ variable: String, value: String) -> Bool {
        if variable.hasSuffix("_SERVICE_HOST") || variable.hasSuffix("_SERVICE_PORT") || variable.contains("_SERVICE_PORT_") {
            return true
        }
        let parts = variable.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard let last = parts.last, last == "PORT" || last == "TCP" || last == "UDP" || last == "SCTP" || last == "PROTO" || last == "ADDR" else {
            return false
        }
        // `<SERVICE>_PORT`, whose value is the Service's address (`tcp://10.0.0.11:9090`): a mistyped setting that
        // happens to end in `_PORT` (`ICEBERG_INGEST_S3_PORT=9000`) is still an error.
        if last == "PORT", parts.count > 1, ["tcp://", "udp://", "sctp://"].contains(where: { value.hasPrefix($0) }) { return true }
        // `<SERVICE>_PORT_<n>_<PROTOCOL>`, then nothing or one of `_PROTO`, `_PORT` and `_ADDR`.
        for start in parts.indices.dropFirst() where parts[start] == "PORT" && start + 2 < parts.count {
            let number = parts[start + 1], protocolName = parts[start + 2], after = parts.count - (start + 3)
            guard !number.isEmpty, number.allSatisfy(\.isASCII), number.allSatisfy(\.isNumber) else { continue }
            guard ["TCP", "UDP", "SCTP"].contains(protocolName) else { continue }
            if after == 0 || (after == 1 && ["PROTO", "PORT", "ADDR"].contains(parts[start + 3])) { return true }
        }
        return false
    }

    /// Every setting's effective value, with where it came from (``origins``, else `default`). Secrets are
    /// redacted: credentials, tokens, secrets and passwords in properties, and `user:password@` in URIs.
    public func effectiveSettings() -> [(key: String, value: String, origin: String)] {
        func text(_ key: String) -> String? {
            switch key {
            case "source.uri": sourceURI
            case "source.layout": layout
            case "source.format": format
            case "source.late_arrival_hours": String(lateArrivalHours)
            case "source.reconcile_hours": String(reconcileHours)
            // As a whole number of seconds when it is one that fits (no trap on a huge or infinite value).
            case "source.reconcile_every":
                reconcileEverySeconds.map { abs($0) < 1e15 ? "\(Int($0))s" : "\($0)s" } ?? "0 (off)"
            case "source.late_files": lateFiles.rawValue
            case "source.start_at": startAt
            case "catalog.uri": CurlTransport.redactingUserInfo(catalogURI)
            case "catalog.warehouse": warehouse
            case "catalog.properties": Self.redacted(catalogProperties)
            case "table.name": tableName
            case "table.schema": schema
            case "table.partition": partition.isEmpty ? "(unpartitioned)" : partition
            case "table.properties": Self.redacted(tableProperties)
            case "table.route": routeKeyPattern.map { "key_pattern \($0)" } ?? routeField.map { "field \($0)" } ?? "(one table)"
            case "table.schemas": schemaRegistry ?? "(none)"
            case "table.allow": allowTables?.joined(separator: ",") ?? "(any)"
            case "table.max_tables": maxTables.map(String.init) ?? "(no cap)"
            case "ingest.bad_records": badRecords.rawValue
            case "ingest.drift": drift.rawValue
            case "ingest.changed_objects": changedObjects.rawValue
            case "ingest.epoch_unit": epochUnit.rawValue
            case "ingest.dead_letter": deadLetter
            case "ingest.shard": shard
            case "ingest.commit_every_objects": String(commitEveryObjects)
            case "ingest.commit_every_bytes": String(commitEveryBytes)
            case "ingest.target_file_size_mb": String(targetFileSizeMB)
            case "ingest.max_record_bytes": String(maxRecordBytes)
            case "ingest.numbers_from_strings": String(numbersFromStrings)
            case "ingest.lease_seconds": String(leaseSeconds)
            case "ingest.lease_wait_seconds": leaseWaitSeconds.map { String($0) }
            case "ingest.rescale": String(rescale)
            case "ingest.threads": threads.map { String($0) } ?? "\(ProcessInfo.processInfo.activeProcessorCount) (the cores)"
            case "s3.endpoint": s3Endpoint.map(CurlTransport.redactingUserInfo)
            case "s3.region": s3Region
            case "s3.ca_bundle": caBundle
            case "s3.verify_tls": String(verifyTLS)
            default: nil
            }
        }
        return Self.settingNames.map { setting in
            (setting.key, text(setting.key) ?? "(none)", origins[setting.key] ?? "default")
        }
    }

    /// Properties as JSON text, with the values of secret-looking keys replaced by `***`, and of every
    /// `header.*` key: a REST catalog sends those as HTTP headers (`header.Authorization`, `header.X-Api-Key`).
    static func redacted(_ properties: [String: String]) -> String {
        let secret = ["credential", "token", "secret", "password", "key"]
        let members = properties.sorted { $0.key < $1.key }.map { name, value -> (String, JSONValue) in
            let lowered = name.lowercased()
            return (name, .string(lowered.hasPrefix("header.") || secret.contains { lowered.contains($0) } ? "***" : value))
        }
        return JSONValue.object(members).serialized()
    }
}
