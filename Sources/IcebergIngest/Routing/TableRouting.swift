import Foundation
import IcebergCore

/// How one job feeds many tables: the table-name template, what names each object's table, which tables may
/// be created, and what a new table starts with.
///
/// Routing by the object's key (`"route": {"key_pattern": "raw/{stream}/{yyyy}/{MM}/{dd}/{HH}/"}`): the
/// folder in the place of `{stream}` names the table (`"name": "analytics.{stream}"`), and the rest of the
/// pattern is the time layout under it. Each stream is a source of its own with its own checkpoint and lease,
/// so the single-table exactly-once protocol holds per table unchanged: every object belongs to exactly one table.
///
/// ```swift
/// var routing = try TableRouting(nameTemplate: "analytics.{stream}", keyPattern: "raw/{stream}/{yyyy}/{MM}/{dd}/{HH}/")
/// routing.defaultSchema = "infer"
/// routing.partition = "hour(event_time)"
/// let table = try routing.table(for: "Click-Events")   // analytics.click_events
/// ```
public struct TableRouting: Sendable {
    /// `namespace.name` with the route's placeholder, such as `analytics.{stream}`.
    public var nameTemplate: String
    /// The placeholder's name in the key pattern and the template (`stream`; the field's path, `event_type`,
    /// when routing by a field).
    public let placeholder: String
    /// The part of the key pattern before the placeholder: fixed folders under the source (`raw/`; empty when
    /// routing by a field).
    public let prefix: String
    /// The time layout under each stream's folder (the source's own when routing by a field).
    public let layout: PrefixLayout
    /// Routing by a field of each record: the field's path (`["event_type"]`, `["meta", "type"]`); nil when
    /// routing by the key.
    public let field: [String]?
    /// The only route values (as sanitised) that may have tables; nil: any.
    public var allow: Set<String>?
    /// The most routed tables this job may have; a new stream past it is reported, not created.
    public var maxTables: Int?
    /// A folder of schema files, one per table: `<namespace>.<name>.schema` or `<name>.schema`, holding the
    /// schema text `table.schema` takes.
    public var schemaRegistry: String?
    /// The schema of a new table without a schema file: schema text, or `infer` (inferred from the table's
    /// own objects); nil: a new table needs a schema file.
    public var defaultSchema: String?
    /// The partition spec of new tables (`hour(event_time)`); empty: the inferred proposal, else unpartitioned.
    public var partition = ""

    /// Routes by the key pattern `<prefix>{placeholder}/<time layout>` under the source.
    public init(nameTemplate: String, keyPattern: String) throws {
        guard let open = keyPattern.range(of: "{"), let close = keyPattern[open.upperBound...].firstIndex(of: "}") else {
            throw IngestError(.invalidConfiguration, "key pattern '\(keyPattern)' has no {placeholder} naming the table, as raw/{stream}/{yyyy}/{MM}/{dd}/{HH}/")
        }
        let name = String(keyPattern[open.upperBound..<close])
        guard !["yyyy", "MM", "dd", "HH", "mm"].contains(name), !name.isEmpty else {
            throw IngestError(.invalidConfiguration, "key pattern '\(keyPattern)': the first placeholder must name the table ({stream}), before the time tokens")
        }
        let before = String(keyPattern[..<open.lowerBound])
        let after = keyPattern[keyPattern.index(after: close)...]
        guard before.isEmpty || before.hasSuffix("/"), after.hasPrefix("/") else {
            throw IngestError(.invalidConfiguration, "key pattern '\(keyPattern)': {\(name)} must be a whole folder, as raw/{\(name)}/{yyyy}/...")
        }
        guard nameTemplate.contains("{\(name)}") else {
            throw IngestError(.invalidConfiguration, "table name '\(nameTemplate)' does not use {\(name)}: every stream would go to one table")
        }
        placeholder = name
        prefix = before
        layout = try PrefixLayout(pattern: String(after.dropFirst()))
        self.nameTemplate = nameTemplate
        field = nil
    }

    /// Routes each record by its field at `field` (a dotted path into nested objects: `meta.type`), whose
    /// value takes the place of `{<field>}` in the template (`analytics.{event_type}`). The namespace must be
    /// fixed: the job finds the tables it made there. `layout` is the source's.
    public init(nameTemplate: String, field: String, layout: PrefixLayout) throws {
        let path = field.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !path.contains(where: \.isEmpty) else {
            throw IngestError(.invalidConfiguration, "route field '\(field)' is not a field path (names joined by '.', as event_type or meta.type)")
        }
        guard nameTemplate.contains("{\(field)}") else {
            throw IngestError(.invalidConfiguration, "table name '\(nameTemplate)' does not use {\(field)}: every record would go to one table")
        }
        let marked = try? TableIdentifier(parsing: nameTemplate.replacingOccurrences(of: "{\(field)}", with: "\u{1}"))
        guard let marked, !marked.namespace.isEmpty, !marked.namespace.contains(where: { $0.contains("\u{1}") }), marked.name.contains("\u{1}") else {
            throw IngestError(
                .invalidConfiguration, "table name '\(nameTemplate)': routing by a field takes a fixed namespace and {\(field)} in the table's name, as analytics.{\(field)}")
        }
        placeholder = field
        prefix = ""
        self.layout = layout
        self.nameTemplate = nameTemplate
        self.field = path
    }

    /// The namespace of the routed tables (fixed when routing by a field).
    var fixedNamespace: [String]? {
        let marker = "\u{1}"
        guard let identifier = try? TableIdentifier(parsing: nameTemplate.replacingOccurrences(of: "{\(placeholder)}", with: marker)),
            !identifier.namespace.contains(where: { $0.contains(marker) })
        else { return nil }
        return identifier.namespace
    }

    /// The longest table name made from a route value.
    public static let maxNameLength = 128

    /// A route value as a table name's part, by the rules Glue, Athena and the other catalogs accept: lower
    /// case; every character but `a-z`, `0-9` and `_` becomes `_`; runs of `_` become one and none leads or
    /// trails; a name starting with a digit gets `t_` in front. Nil when nothing is left, or more than
    /// ``maxNameLength`` characters.
    public static func sanitize(_ value: String) -> String? {
        var out = ""
        for scalar in value.lowercased().unicodeScalars {
            let keep = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
            if keep {
                out.unicodeScalars.append(scalar)
            } else if !out.isEmpty, out.last != "_" {
                out.append("_")
            }
        }
        while out.hasSuffix("_") { out.removeLast() }
        guard let first = out.unicodeScalars.first else { return nil }
        if ("0"..."9").contains(first) { out = "t_" + out }
        return out.count <= maxNameLength ? out : nil
    }

    /// The table a route value goes to; throws when the value cannot become a valid name (saying why).
    public func table(for value: String) throws -> TableIdentifier {
        guard let part = Self.sanitize(value) else {
            throw IngestError(
                .invalidConfiguration,
                "route value '\(value.prefix(200))' cannot become a table name (nothing of a-z, 0-9 left, or longer than \(Self.maxNameLength))")
        }
        return try TableIdentifier(parsing: nameTemplate.replacingOccurrences(of: "{\(placeholder)}", with: part))
    }

    /// Whether a route value may have a table under the allow-list.
    public func allows(_ value: String) -> Bool {
        guard let allow else { return true }
        return Self.sanitize(value).map(allow.contains) ?? false
    }

    /// The schema text for a new table: its schema file, else the default (`infer` included); nil when neither.
    public func schemaText(for table: TableIdentifier) throws -> String? {
        if let registry = schemaRegistry {
            let candidates = [table.description, table.name].map { registry + "/" + $0 + ".schema" }
            for path in candidates where FileManager.default.fileExists(atPath: path) {
                do {
                    return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                } catch {
                    throw IngestError(.invalidConfiguration, "cannot read schema file \(path): \(error.localizedDescription)")
                }
            }
        }
        return defaultSchema
    }
}

/// A source that can be split by the folder under its root: the streams of a key pattern.
public protocol RoutableSource: IngestSource {
    /// The folders directly under `prefix` (relative to the root, empty or ending in `/`), by name.
    func folders(under prefix: String) async throws -> [String]
    /// The same source rooted at `subpath` (relative, ending in `/`) under this one, laid out by `layout`.
    func narrowed(to subpath: String, layout: PrefixLayout) -> any IngestSource
}

extension S3Source: RoutableSource {
    public func folders(under prefix: String) async throws -> [String] {
        var names: [String] = []
        let base = planner.root + prefix
        for try await page in planner.client.listAllPages(bucket: planner.bucket, prefix: base, delimiter: "/") {
            names += page.commonPrefixes.map { String($0.dropFirst(base.count).dropLast()) }
        }
        return names.filter { !$0.isEmpty }.sorted()
    }

    public func narrowed(to subpath: String, layout: PrefixLayout) -> any IngestSource {
        S3Source(client: planner.client, bucket: planner.bucket, root: planner.root + subpath, layout: layout)
    }
}

extension LocalFolderSource: RoutableSource {
    public func folders(under prefix: String) async throws -> [String] {
        let directory = root + "/" + prefix
        return try await BlockingExecutor.run {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            return names.filter { name in
                var isFolder: ObjCBool = false
                return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isFolder) && isFolder.boolValue
            }.sorted()
        }
    }

    public func narrowed(to subpath: String, layout: PrefixLayout) -> any IngestSource {
        LocalFolderSource(root: root + "/" + String(subpath.dropLast()), layout: layout)
    }
}
