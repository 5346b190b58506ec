import Checkpoint
import Foundation
import IcebergCore
import Logging

/// One job feeding many tables (``TableRouting``): finds the streams under the source, creates the table of
/// a stream seen for the first time (its schema from the schema registry, the default schema, or inferred
/// from the stream's own objects; partitioned by the template), and runs each stream into its table with the
/// single-table ``Ingestor``: its own checkpoint, lease, exactly-once commit, metrics and summary.
///
/// A new table is created with the catalog's atomic create, so two workers that see a new stream at once
/// create it once (the other loads it). A stream whose lease another runner holds is skipped with that
/// reason and the other streams go on; a stream that cannot have a table (a name that cannot be made valid,
/// not in the allow-list, past the cap) is reported with its reason and its objects stay unread; a stream
/// whose run fails (no schema for its new table, a bad record under `fail`) is reported with its error
/// (``Summary/failed``) after the other streams ran.
///
/// ```swift
/// var routing = try TableRouting(nameTemplate: "analytics.{stream}", keyPattern: "raw/{stream}/{yyyy}/{MM}/{dd}/{HH}/")
/// routing.defaultSchema = "infer"
/// let routed = RoutedIngestor(template: configuration, routing: routing, catalog: catalog, source: source)
/// let summary = try await routed.run()
/// for table in summary.tables { print(table.table, table.rows) }
/// ```
public struct RoutedIngestor: Sendable {
    /// The policies every routed table runs with (its table and schema are replaced per stream).
    public let template: IngestConfiguration
    public let routing: TableRouting
    public let catalog: any Catalog
    /// The source above the streams (the key pattern's root).
    public let source: any RoutableSource
    public var logger: Logger
    public var stop: StopRequest = .process

    public init(
        template: IngestConfiguration, routing: TableRouting, catalog: any Catalog, source: any RoutableSource,
        logger: Logger = Logger(label: "iceberg-ingest", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.template = template
        self.routing = routing
        self.catalog = catalog
        self.source = source
        self.logger = logger
    }

    /// A stream under the source and where it goes.
    public struct Route: Sendable, Codable, Equatable {
        /// The folder's name (the route value).
        public var value: String
        /// The table it goes to (nil when it cannot have one).
        public var table: String?
        /// Whether the table exists already (a run creates it otherwise).
        public var exists: Bool
        /// Why the stream has no table, was skipped or failed (nil: it runs).
        public var skipped: String?
        /// Whether its run failed (an error, not a policy: the executable exits 1 after the other streams ran).
        public var failed = false
    }

    /// What a routed run did: one ``RunSummary`` per table that ran, the tables created, the streams skipped.
    public struct Summary: Sendable, Codable, Equatable {
        public var tables: [RunSummary] = []
        /// Tables missing when the streams were listed that exist now (created by this run, or by a worker
        /// racing it: the catalog's create is atomic, so it was created once), as `namespace.name`.
        public var created: [String] = []
        /// Streams that did not run or failed, with the reason.
        public var routes: [Route] = []
        /// Whether a stop request (SIGTERM) ended the run before every stream ran.
        public var stopped = false
        /// Routing by a field: records no table may have (no route value, a value that cannot be a table's
        /// name, not allowed, past the cap), left out of every table; counted once per run.
        public var unroutable = 0
        /// The first unroutable records: object, line, byte and reason.
        public var unroutableExamples: [String] = []
        public var rows: Int { tables.reduce(0) { $0 + $1.rows } }
        public var badRecords: Int { tables.reduce(0) { $0 + $1.badRecords } }
        /// Whether a stream's run failed.
        public var failed: Bool { routes.contains(where: \.failed) }
        public var jsonLine: String { JSONLine.encode(self) }
    }

    /// The streams under the source and their tables, without creating or reading anything. The allow-list
    /// applies to every stream (a folder cannot feed a table it does not name, existing or not); the cap
    /// counts distinct tables (two folders whose names sanitise alike feed one table).
    public func routes() async throws -> [Route] {
        if routing.field != nil {
            // Routing by a field: the tables this job made (the records name the new ones as they are read).
            return try await fieldRoutedTables().sorted().map { Route(value: $0, table: $0, exists: true, skipped: nil) }
        }
        var routes: [Route] = []
        for value in try await source.folders(under: routing.prefix) {
            var route = Route(value: value, table: nil, exists: false, skipped: nil)
            do {
                let table = try routing.table(for: value)
                route.table = table.description
                if !routing.allows(value) {
                    route.skipped = "not in table.allow"
                } else {
                    route.exists = try await catalog.tableExists(table)
                }
            } catch let error as IngestError {
                route.skipped = error.message
            }
            routes.append(route)
        }
        var tables = Set(routes.filter { $0.skipped == nil && $0.exists }.compactMap(\.table))
        for i in routes.indices where routes[i].skipped == nil && !routes[i].exists {
            guard let table = routes[i].table, !tables.contains(table) else { continue }
            if let cap = routing.maxTables, tables.count >= cap {
                routes[i].skipped = "table.max_tables (\(cap)) reached: the table is not created"
            } else {
                tables.insert(table)
            }
        }
        return routes
    }

    /// The ingestor of one stream into its table (the configuration's schema is the new table's).
    func ingestor(for route: Route, schema: Schema, partition: PartitionSpec) throws -> Ingestor {
        var configuration = template
        configuration.table = try TableIdentifier(parsing: route.table ?? "")
        configuration.schema = schema
        configuration.partitionSpec = partition
        // One dead-letter folder per table: the streams' object keys may repeat under a shared location.
        configuration.deadLetterLocation = template.deadLetterLocation.map { $0 + "/" + configuration.table.description }
        var ingestor = Ingestor(configuration: configuration, catalog: catalog, source: stream(route), logger: logger)
        ingestor.stop = stop
        return ingestor
    }

    /// A stream's objects: the source narrowed to its folder, with the time layout under it.
    func stream(_ route: Route) -> any IngestSource {
        source.narrowed(to: routing.prefix + route.value + "/", layout: routing.layout)
    }

    /// The schema and partition spec a new stream's table starts with.
    func startingSchema(for route: Route) async throws -> (Schema, PartitionSpec) {
        try await startingSchema(for: try TableIdentifier(parsing: route.table ?? ""), what: "stream '\(route.value)'") {
            let sample = try await SchemaInference.sample(source: stream(route), format: template.format)
            return (sample.inference, "its newest objects")
        }
    }

    /// The schema and partition spec a new table starts with: its file in the schema registry, else the
    /// default schema, which may be `infer`: then `inferred` gives the inference (and says from what), and its
    /// partition proposal stands in for a missing template. `what` names the records (for messages).
    func startingSchema(
        for table: TableIdentifier, what: String, inferred: () async throws -> (SchemaInference, from: String)
    ) async throws -> (Schema, PartitionSpec) {
        guard let text = try routing.schemaText(for: table) else {
            throw IngestError(
                .invalidConfiguration,
                "no schema for the new table \(table) (\(what)): add \(routing.schemaRegistry.map { "\($0)/\(table).schema" } ?? "a schema file (table.schemas)") or set table.schema (schema text or 'infer')")
        }
        var partition = routing.partition
        let schema: Schema
        if text == "infer" {
            let (inference, from) = try await inferred()
            guard inference.records > 0 || template.format == .text else {
                throw IngestError(.invalidConfiguration, "no records to infer the schema of the new table \(table) from (\(what))")
            }
            schema = inference.schema
            if partition.isEmpty { partition = inference.partition(layout: routing.layout) ?? "" }
            logger.notice("inferred the schema of new table \(table) from \(from): \(inference.schemaText)", metadata: ["table": "\(table)"])
        } else {
            schema = try IngestJob.parseSchema(text, key: "the schema of \(table)")
        }
        return (schema, try SchemaText.partitionSpec(partition, schema: schema))
    }

    /// Runs every stream into its table, creating the tables seen for the first time. A stream that fails (no
    /// schema for its new table, a bad record under `fail`, an unreadable object) is reported with its error
    /// and the others still run.
    public func run(now: Date = Date(), reconcile: Bool = false) async throws -> Summary {
        if routing.field != nil { return try await runByField(now: now, reconcile: reconcile) }
        var summary = Summary()
        var missing: [String] = []
        for route in try await routes() {
            guard route.skipped == nil else {
                logger.warning("stream '\(route.value)' not ingested: \(route.skipped ?? "")")
                summary.routes.append(route)
                continue
            }
            if stop.isRequested {
                summary.stopped = true
                break
            }
            if !route.exists, let table = route.table, !missing.contains(table) { missing.append(table) }
            do {
                let (schema, partition) = route.exists ? (template.schema, template.partitionSpec) : try await startingSchema(for: route)
                var ingestor = try ingestor(for: route, schema: schema, partition: partition)
                ingestor.createsTable = !route.exists
                let result = try await ingestor.run(now: now, reconcile: reconcile)
                summary.tables.append(result)
                if result.stopped {
                    summary.stopped = true
                    break
                }
            } catch let error as CheckpointError where error.code == .leaseHeld {
                // Another runner has this stream now: the others still run.
                var skipped = route
                skipped.skipped = "another runner holds the lease: \(error.message)"
                summary.routes.append(skipped)
            } catch {
                if StopRequest.process.isRequested || stop.isRequested { throw error }
                logger.error("stream '\(route.value)' into \(route.table ?? ""): \(error)")
                var failed = route
                failed.skipped = "\(error)"
                failed.failed = true
                summary.routes.append(failed)
            }
        }
        for table in missing where (try? await catalog.tableExists(try TableIdentifier(parsing: table))) == true {
            summary.created.append(table)
        }
        return summary
    }

    /// What a run would do: per stream, its table, whether it would be created, and its plan.
    public func plan(now: Date = Date(), reconcile: Bool = false) async throws -> [(route: Route, plan: IngestPlan?)] {
        var out: [(Route, IngestPlan?)] = []
        for route in try await routes() {
            guard route.skipped == nil, route.exists else {
                out.append((route, nil))
                continue
            }
            out.append((route, try await existing(route).plan(now: now, reconcile: reconcile)))
        }
        return out
    }

    /// The ingestor of a routed table that exists: its stream's, or, routing by a field, the whole source's.
    func existing(_ route: Route) throws -> Ingestor {
        guard routing.field != nil else { return try ingestor(for: route, schema: template.schema, partition: template.partitionSpec) }
        let table = route.table ?? ""
        return try fieldIngestor(
            for: table, book: RouteBook(routing: routing, known: [table], policy: .skip), schema: template.schema,
            partition: template.partitionSpec)
    }

    /// Where each existing routed table stands.
    public func status(now: Date = Date()) async throws -> [IngestStatus] {
        var out: [IngestStatus] = []
        for route in try await routes() where route.exists {
            out.append(try await existing(route).status(now: now))
        }
        return out
    }
}
