import Checkpoint
import Foundation
import IcebergCore
import Synchronization

/// What a field-routed run knows while its tables' passes read: the tables it routes to, the new tables its
/// records named (created before the batch that holds their first records commits anywhere), and the
/// unroutable records seen. Shared by the passes' parsers (any thread), hence the lock.
final class RouteBook: Sendable {
    struct NewTable {
        /// The route value that named it first.
        var value: String
        /// Its first records' JSON text (a schema `infer` reads them).
        var samples: [[UInt8]]
    }

    private struct State {
        var known: Set<String>
        var new: [String: NewTable] = [:]
        /// Route value → its table, or why it has none.
        var targets: [String: Result<String, Reason>] = [:]
        /// `source line` of the unroutable records counted (several passes read one object).
        var unroutableSeen: Set<String> = []
        var unroutable: [BadRecord] = []
        var unroutableCount = 0
        /// Under the policy `dead-letter`: the unroutable records found since the last commit, by input.
        var deadLetters: [String: [BadRecord]] = [:]
    }

    struct Reason: Error { var text: String }

    let routing: TableRouting
    /// Bad-record policy `fail`: an unroutable record stops the run.
    let failsOnUnroutable: Bool
    /// Bad-record policy `dead-letter`: unroutable records are written to the dead-letter location.
    let deadLettersUnroutable: Bool
    private let state: Mutex<State>
    /// How many records of a new table are kept for inference.
    static let samplesPerTable = 1_000

    init(routing: TableRouting, known: Set<String>, policy: BadRecordPolicy) {
        self.routing = routing
        failsOnUnroutable = policy == .fail
        deadLettersUnroutable = policy == .deadLetter
        state = Mutex(State(known: known))
    }

    var known: Set<String> { state.withLock { $0.known } }
    var unroutableCount: Int { state.withLock { $0.unroutableCount } }
    var unroutableExamples: [BadRecord] { state.withLock { $0.unroutable } }

    /// The filter of `table`'s pass.
    func filter(for table: String) -> RouteFilter {
        RouteFilter(
            path: routing.field ?? [], decide: { [self] value, record in decide(value, record: record, pass: table) },
            unroutable: { [self] bad in unroutable(bad) })
    }

    /// Where a record with route value `value` goes, seen by the pass of `pass` ("" for the first look).
    /// Cacheable: every answer but "a new table", whose records are kept as samples until it is made.
    func decide(_ value: String, record: UnsafeBufferPointer<UInt8>, pass: String) -> (RouteFilter.Decision, cacheable: Bool) {
        state.withLock { state in
            let target: Result<String, Reason>
            if let known = state.targets[value] {
                target = known
            } else {
                do {
                    let table = try routing.table(for: value).description
                    target = routing.allows(value) ? .success(table) : .failure(Reason(text: "route value '\(value.prefix(200))' is not in table.allow"))
                } catch let error as IngestError {
                    target = .failure(Reason(text: error.message))
                } catch {
                    target = .failure(Reason(text: "\(error)"))
                }
                if state.targets.count < 100_000 { state.targets[value] = target }
            }
            switch target {
            case .failure(let reason): return (.unroutable(reason.text), true)
            case .success(let table):
                if table == pass { return (.keep, true) }
                if state.known.contains(table) { return (.elsewhere, true) }
                if state.new[table] != nil {
                    if state.new[table]!.samples.count < Self.samplesPerTable { state.new[table]!.samples.append(Array(record)) }
                    return (.elsewhere, false)
                }
                if let cap = routing.maxTables, state.known.count + state.new.count >= cap {
                    // Not kept: a table being made frees no place, but the answer names the cap of this moment.
                    return (.unroutable("table.max_tables (\(cap)) reached: table \(table) is not created"), false)
                }
                state.new[table] = NewTable(value: value, samples: [Array(record)])
                return (.elsewhere, false)
            }
        }
    }

    /// Counts an unroutable record once per run (whichever pass saw it); true under the policy `fail`.
    func unroutable(_ bad: BadRecord) -> Bool {
        state.withLock { state in
            if state.unroutableSeen.insert("\(bad.source) \(bad.line) \(bad.byteOffset)").inserted {
                state.unroutableCount += 1
                if state.unroutable.count < 10 { state.unroutable.append(bad) }
                if deadLettersUnroutable { state.deadLetters[bad.source, default: []].append(bad) }
            }
        }
        return failsOnUnroutable
    }

    /// The dead letters of the unroutable records found since the last call, by input.
    func takeDeadLetters() -> [String: [BadRecord]] {
        state.withLock { state in
            defer { state.deadLetters = [:] }
            return state.deadLetters
        }
    }

    /// The new tables named so far and not yet made.
    var newTables: [(table: String, new: NewTable)] {
        state.withLock { $0.new.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }

    /// `table` exists now: its records go to it.
    func made(_ table: String) {
        state.withLock { state in
            state.new[table] = nil
            state.known.insert(table)
        }
    }
}

extension RoutedIngestor {
    /// The table property marking the tables a field-routed job made, with the route field's path: the job
    /// finds them there on its next run (a table of that namespace without it is routed to only when a record
    /// names it).
    public static let routeFieldProperty = "iceberg-ingest.route-field"

    /// The routed tables of this job: those of the namespace marked with its route field.
    func fieldRoutedTables() async throws -> Set<String> {
        guard let namespace = routing.fixedNamespace, let field = routing.field else { return [] }
        guard try await catalog.listNamespaces().contains(namespace) else { return [] }
        var tables: Set<String> = []
        for identifier in try await catalog.listTables(namespace) {
            guard let table = try? await catalog.loadTable(identifier) else { continue }  // dropped meanwhile
            if table.metadata.properties[Self.routeFieldProperty] == field.joined(separator: ".") { tables.insert(identifier.description) }
        }
        return tables
    }

    /// The ingestor of one field-routed table: the whole source, keeping the table's records.
    func fieldIngestor(for table: String, book: RouteBook, schema: Schema, partition: PartitionSpec) throws -> Ingestor {
        var configuration = template
        configuration.table = try TableIdentifier(parsing: table)
        configuration.schema = schema
        configuration.partitionSpec = partition
        configuration.tableProperties[Self.routeFieldProperty] = routing.field?.joined(separator: ".")
        configuration.conversion.route = book.filter(for: table)
        configuration.deadLetterLocation = template.deadLetterLocation.map { $0 + "/" + table }
        var ingestor = Ingestor(configuration: configuration, catalog: catalog, source: source, logger: logger)
        ingestor.stop = stop
        ingestor.createsTable = false
        let routed = self
        ingestor.beforeCommit = { table in
            try await routed.makeNewTables(book)
            try await routed.writeUnroutable(book, table: table)
        }
        return ingestor
    }

    /// Writes the unroutable records found so far (policy `dead-letter`) before the batch holding them commits,
    /// one file per input under `<dead-letter location>/_unroutable/` (else the committing table's
    /// `dead-letter/_unroutable/`). An input's unroutable records are the same whichever pass reads it, so a
    /// pass reading it again after a crash writes the same file.
    func writeUnroutable(_ book: RouteBook, table: Table) async throws {
        let base = template.deadLetterLocation.map { $0 + "/_unroutable" } ?? table.metadata.location + "/dead-letter/_unroutable"
        for (source, records) in book.takeDeadLetters() {
            try await table.io.write(base + "/" + DeadLetters.safeRelativePath(forKey: source) + ".bad.jsonl", bytes: DeadLetters.lines(records))
        }
    }

    /// Creates the tables the records read so far named (schema from the registry, the default, or inferred
    /// from their first records), with the catalog's atomic create: a racing worker's table is loaded instead.
    func makeNewTables(_ book: RouteBook) async throws {
        for (table, new) in book.newTables {
            let (schema, partition) = try await startingSchema(for: try TableIdentifier(parsing: table), what: "route value '\(new.value)'") {
                var inference = SchemaInference()
                for record in new.samples {
                    if let value = try? JSONValue.parse(record, source: table) { inference.add(json: value) }
                }
                return (inference, "its first \(new.samples.count) records")
            }
            var maker = try fieldIngestor(for: table, book: book, schema: schema, partition: partition)
            maker.createsTable = true
            _ = try await maker.loadOrCreateTable()
            logger.notice("table \(table) made for route value '\(new.value)'", metadata: ["table": "\(table)"])
            book.made(table)
        }
    }

    /// Before any table exists: reads the source's objects, oldest first, until a record names a table, and
    /// makes it (its pass then finds the others).
    func firstFieldTable(_ book: RouteBook, now: Date) async throws {
        let listing = try await source.list(firstOpenHour: template.startAtHour, now: now)
        let path = routing.field ?? []
        var objects = 0, records = 0
        var firstReason: String?
        for object in listing.objects where object.size > 0 && template.shard.owns(key: object.key) {
            let whole = object.size <= 16 << 20
            let bytes = try await source.read(object, range: 0..<min(object.size, 16 << 20))
            let (texts, damage) = try await BlockingExecutor.run { try SchemaInference.texts(of: bytes, whole: whole, location: object.location) }
            // Its records before the damage may name the first table; its pass then leaves it out or stops on it.
            if let damage { logger.warning("\(object.location) is damaged (read up to the damage to find a table): \(damage)") }
            objects += 1
            for text in texts {
                text.withUnsafeBufferPointer { b in
                    var i = 0
                    while i < b.count {
                        while i < b.count, b[i] <= 0x20 { i += 1 }
                        guard i < b.count else { break }
                        records += 1
                        do throws(JSONRecordParser.Stop) {
                            let (value, end) = try JSONRecordParser.routeValue(b, from: i, path: path)
                            if let value {
                                if case .unroutable(let why) = book.decide(value, record: UnsafeBufferPointer(rebasing: b[i..<end]), pass: "").0 {
                                    firstReason = firstReason ?? "\(object.location): \(why)"
                                }
                            } else {
                                firstReason = firstReason ?? "\(object.location): a record has no value at the route field '\(path.joined(separator: "."))'"
                            }
                            i = end
                        } catch {
                            firstReason = firstReason ?? "\(object.location): a record is not valid JSON"
                            guard let next = JSONRecordParser.resync(b, from: i + 1) else { return }
                            i = next
                        }
                    }
                }
            }
            if !book.newTables.isEmpty { break }
        }
        if book.newTables.isEmpty, book.failsOnUnroutable, let firstReason {
            throw IngestError(.badRecord, "unroutable record: \(firstReason) (bad-record policy 'fail')")
        }
        if book.newTables.isEmpty, records > 0 {
            logger.warning(
                "no table made: none of the \(records) records in \(objects) objects names a table by '\(path.joined(separator: "."))'\(firstReason.map { " (first: \($0))" } ?? "")")
        }
        try await makeNewTables(book)
    }

    /// A field-routed run: every table this job routes to reads the whole source and keeps its own records
    /// (its own checkpoint, lease and exactly-once commit), in name order; the tables records name for the
    /// first time are made before the batch holding those records commits, and read in the same run.
    func runByField(now: Date, reconcile: Bool) async throws -> Summary {
        var summary = Summary()
        let book = RouteBook(routing: routing, known: try await fieldRoutedTables(), policy: template.badRecordPolicy)
        let before = book.known
        if before.isEmpty { try await firstFieldTable(book, now: now) }
        var done: Set<String> = []
        while let table = book.known.subtracting(done).sorted().first {
            done.insert(table)
            if stop.isRequested {
                summary.stopped = true
                break
            }
            var route = Route(value: table, table: table, exists: true, skipped: nil)
            do {
                let result = try await fieldIngestor(for: table, book: book, schema: template.schema, partition: template.partitionSpec).run(now: now, reconcile: reconcile)
                summary.tables.append(result)
                if result.stopped {
                    summary.stopped = true
                    break
                }
            } catch let error as CheckpointError where error.code == .leaseHeld {
                route.skipped = "another runner holds the lease: \(error.message)"
                summary.routes.append(route)
            } catch {
                if StopRequest.process.isRequested || stop.isRequested { throw error }
                if let error = error as? IngestError, error.code == .badRecord, template.badRecordPolicy == .fail { throw error }
                logger.error("table \(table): \(error)")
                route.skipped = "\(error)"
                route.failed = true
                summary.routes.append(route)
            }
        }
        summary.created = book.known.subtracting(before).sorted()
        summary.unroutable = book.unroutableCount
        summary.unroutableExamples = book.unroutableExamples.map(\.description)
        for bad in book.unroutableExamples.prefix(3) { logger.warning("unroutable record: \(bad.description)") }
        if summary.unroutable > 0 { logger.warning("\(summary.unroutable) records had no table (unroutable), left out of every table") }
        return summary
    }
}
