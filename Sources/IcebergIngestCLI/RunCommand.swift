import ArgumentParser
import Foundation
import IcebergCore
import IcebergIngest

extension IcebergIngestCommand {
    /// One pass (or a loop with --follow): list, read what is new, write, commit.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest what is new in the source into the table (one pass, or --follow).")

        @OptionGroup var job: JobOptions
        @Flag(name: .long, help: "Keep polling: run again every --interval seconds.")
        var follow = false
        @Option(name: .long, help: "Seconds between passes with --follow (at most 604800, a week).")
        var interval: Double = 60
        @Flag(name: .long, help: "Print one JSON summary line per pass on stdout (no progress bar).")
        var json = false
        @Flag(name: .long, help: "Reconcile now: list the last reconcile_hours closed hours again and read the late files found (runs also do it every reconcile_every, default 24h).")
        var reconcile = false
        // Parsed by `DurationText.parse`, whose error says what a duration is and its range.
        @Option(
            name: .long, help: "With --follow: table upkeep (compact, expire snapshots, remove orphans) between passes at most this often (e.g. 1h).",
            transform: { try DurationText.parse($0) })
        var upkeepEvery: DurationText?
        @Option(
            name: .long, help: "Upkeep: expire snapshots older than this (default: the table's history.expire.max-snapshot-age-ms, 5 days).",
            transform: { try DurationText.parse($0) })
        var expireOlderThan: DurationText?
        @Option(name: .long, help: "Upkeep: keep at least this many snapshots (default: history.expire.min-snapshots-to-keep, 1).")
        var retainLast: Int?
        @Option(name: .long, help: "Serve Prometheus metrics on this port at GET /metrics while the process runs (for --follow; 0: a free port, logged).")
        var metricsPort: Int?
        @Option(name: .long, help: "Write Prometheus metrics (text format) to this file after every pass and at exit, atomically (node_exporter's textfile collector).")
        var metricsFile: String?

        func run() async throws {
            var export: MetricsExport?
            do {
                try JobOptions.check(interval, "--interval", 0...604_800, unit: "seconds")
                // Bootstrapped before the ingestor makes its metrics.
                if metricsPort != nil || metricsFile != nil { export = try MetricsExport(port: metricsPort, file: metricsFile) }
                defer { try? export?.writeFile() }
                let job = try self.job.job()
                if job.isRouted {
                    try await runRouted(try await job.routedIngestor(logger: self.job.logger()), export: export)
                    return
                }
                let ingestor = try await job.ingestor(logger: self.job.logger())
                if let port = export?.port { ingestor.logger.info("serving metrics on port \(port) at /metrics", metadata: ["metrics_port": "\(port)"]) }
                let bar = ProgressBar(enabled: !json)
                var lastUpkeep = ContinuousClock.now
                repeat {
                    let summary = try await ingestor.run(reconcile: reconcile, progress: { bar.update($0) })
                    if json {
                        print(summary.jsonLine)
                    } else {
                        Self.describe(summary)
                    }
                    try export?.writeFile()
                    // SIGTERM: the pass committed what it had read; no upkeep, no next pass.
                    if StopRequest.process.isRequested { break }
                    if follow, let every = upkeepEvery, ContinuousClock.now - lastUpkeep >= .milliseconds(every.millis) {
                        var options = UpkeepOptions()
                        options.expireOlderThanMillis = expireOlderThan?.millis
                        options.retainLast = retainLast
                        let upkeep = try await ingestor.upkeep(options)
                        lastUpkeep = ContinuousClock.now
                        if json {
                            print(upkeep.jsonLine)
                        } else {
                            print("upkeep of \(upkeep.table): compacted \(upkeep.compaction?.inputFiles.count ?? 0) files into \(upkeep.compaction?.outputFiles.count ?? 0), expired \(upkeep.expiry.expiredSnapshotIDs.count) snapshots, removed \(upkeep.orphans?.orphanFiles.count ?? 0) orphans")
                        }
                    }
                    if follow { try await waitForNextPass() }
                } while follow && !StopRequest.process.isRequested
            } catch {
                throw ExitCodes.report(error)
            }
        }

        /// With --follow, between passes: waits in steps, so that a stop request ends the wait at once.
        func waitForNextPass() async throws {
            let until = ContinuousClock.now + .milliseconds(Int64(max(0.1, interval) * 1000))
            while ContinuousClock.now < until, !StopRequest.process.isRequested { try await Task.sleep(for: .milliseconds(100)) }
        }

        /// A routed job: every stream into its table, pass after pass with --follow.
        func runRouted(_ routed: RoutedIngestor, export: MetricsExport?) async throws {
            guard upkeepEvery == nil else {
                throw IngestError(.invalidConfiguration, "--upkeep-every is for a job of one table: run upkeep commands per routed table (--table)")
            }
            repeat {
                let summary = try await routed.run(reconcile: reconcile)
                if json {
                    print(summary.jsonLine)
                } else {
                    for table in summary.tables { Self.describe(table) }
                    if !summary.created.isEmpty { print("tables created: \(summary.created.joined(separator: ", "))") }
                    for route in summary.routes { print("stream '\(route.value)' \(route.failed ? "failed" : "not ingested"): \(route.skipped ?? "")") }
                    if summary.unroutable > 0 {
                        print("unroutable records (no table may have them, left out): \(summary.unroutable)")
                        for example in summary.unroutableExamples.prefix(3) { print("  \(example)") }
                    }
                }
                try export?.writeFile()
                // A stream that failed fails a single pass (after the others ran); --follow goes on to the next.
                if summary.failed, !follow {
                    let streams = summary.routes.filter(\.failed).map { "'\($0.value)'" }.joined(separator: ", ")
                    throw IngestError(.ingestFailed, "streams \(streams) failed (the others ran; see the summary)")
                }
                if follow, !StopRequest.process.isRequested { try await waitForNextPass() }
            } while follow && !StopRequest.process.isRequested
        }

        static func describe(_ s: RunSummary) {
            var lines = [
                "table \(s.table) from \(s.source) (\(s.shard))",
                "  objects: \(s.objectsListed) listed, \(s.objectsIngested) read, \(s.objectsAlreadyIngested) already ingested"
                    + (s.objectsChanged.isEmpty ? "" : ", \(s.objectsChanged.count) changed since ingested")
                    + (s.unmatchedKeys > 0 ? ", \(s.unmatchedKeys) not in the layout" : ""),
                "  input: \(s.bytesRead) bytes (\(s.bytesDecompressed) decompressed), \(s.lines) lines: \(s.rows) rows, \(s.badRecords) bad"
                    + (s.headerLines > 0 ? ", \(s.headerLines) header lines" : "") + (s.deadLettered > 0 ? " (\(s.deadLettered) dead-lettered)" : ""),
                "  output: \(s.dataFiles) data files, \(s.dataBytes) bytes, \(s.snapshotIDs.count) commits \(s.snapshotIDs)"
                    + (s.dataFilesReplaced > 0 ? "; \(s.dataFilesReplaced) data files replaced" : ""),
                "  checkpoint v\(s.checkpointVersion), watermark hour \(s.watermarkHour.map(String.init) ?? "none")"
                    + (s.closedHoursListed > 0 ? "; \(s.closedHoursListed) closed hours listed again, \(s.lateFiles) late files" : ""),
                String(
                    format: "  time: %.2fs (read %.2f, parse %.2f, encode %.2f, upload %.2f, commit %.2f)", s.totalSeconds, s.readSeconds,
                    s.parseSeconds, s.encodeSeconds, s.uploadSeconds, s.commitSeconds),
            ]
            for finding in s.drift.sorted(by: { $0.field < $1.field }) {
                lines.append("  drift: \(finding.kind.rawValue) '\(finding.field)' x\(finding.count)" + (finding.examples.first.map { ", e.g. \($0)" } ?? "")
                    + (finding.detail.map { " (\($0))" } ?? ""))
            }
            for change in s.schemaChanges { lines.append("  schema: \(change)") }
            for example in s.badRecordExamples.prefix(5) { lines.append("  bad: \(example)") }
            if s.damagedObjects > 0 { lines.append("  damaged objects left out whole: \(s.damagedObjects)") }
            for example in s.damagedObjectExamples.prefix(5) { lines.append("  damaged: \(example)") }
            print(lines.joined(separator: "\n"))
        }
    }

    /// What a run would read, without reading it.
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show what a run would read (lists the source, reads nothing).")

        @OptionGroup var job: JobOptions
        @Flag(name: .long, help: "Print JSON on stdout.")
        var json = false
        @Flag(name: .long, help: "Include a reconciliation: the late files in the last reconcile_hours closed hours.")
        var reconcile = false

        func run() async throws {
            do {
                let job = try self.job.job()
                if job.isRouted {
                    let routed = try await job.routedIngestor(logger: self.job.logger(), readOnly: true)
                    let plans = try await routed.plan(reconcile: reconcile)
                    if plans.isEmpty, !json, let field = job.routeField {
                        print("no table routed by '\(field)' yet: a run reads records until one names a table, makes it, and goes on from there")
                    }
                    for (route, plan) in plans {
                        if json {
                            print(JSONValue.object([
                                ("stream", .string(route.value)), ("table", route.table.map { .string($0) } ?? .null), ("exists", .bool(route.exists)),
                                ("skipped", route.skipped.map { .string($0) } ?? .null),
                                ("plan", plan.map { (try? JSONValue.parse($0.jsonLine)) ?? .null } ?? .null),
                            ]).serialized())
                        } else if let skipped = route.skipped {
                            print("stream '\(route.value)': not ingested: \(skipped)")
                        } else if let plan, route.value == route.table {
                            // Routing by a field: each table reads the whole source for its records.
                            print("table \(route.value): \(plan.toRead.count) objects to read (\(plan.toRead.reduce(0) { $0 + $1.size }) bytes), \(plan.alreadyIngested) already ingested")
                        } else if let plan {
                            print("stream '\(route.value)' -> \(route.table ?? ""): \(plan.toRead.count) objects to read (\(plan.toRead.reduce(0) { $0 + $1.size }) bytes), \(plan.alreadyIngested) already ingested")
                        } else {
                            print("stream '\(route.value)' -> \(route.table ?? ""): new table, created on the first run")
                        }
                    }
                    return
                }
                let plan = try await job.ingestor(logger: self.job.logger(), readOnly: true).plan(reconcile: reconcile)
                if json {
                    print(plan.jsonLine)
                } else {
                    print("\(plan.listedPrefixes.count) prefixes listed, \(plan.objectsListed) objects: \(plan.toRead.count) to read (\(plan.toRead.reduce(0) { $0 + $1.size }) bytes), \(plan.alreadyIngested) already ingested, \(plan.changed.count) changed, \(plan.unmatchedKeys.count) not in the layout")
                    if plan.closedHoursListed > 0 { print("\(plan.closedHoursListed) closed hours listed again: \(plan.lateFiles.count) late files") }
                    for object in plan.toRead { print("  \(object.location)  \(object.size) bytes") }
                }
            } catch {
                throw ExitCodes.report(error)
            }
        }
    }

    /// Where ingestion stands.
    struct Status: AsyncParsableCommand {
        static func time(_ millis: Int64?) -> String {
            guard let millis else { return "none" }
            return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
        }

        static let configuration = CommandConfiguration(
            abstract: "Show the watermark, what is pending (a listing, no reads), how far the table is behind the source, the lease holder and the last snapshot.")

        @OptionGroup var job: JobOptions
        @Flag(name: .long, help: "Print JSON on stdout.")
        var json = false

        func run() async throws {
            do {
                let job = try self.job.job()
                let statuses =
                    job.isRouted
                    ? try await job.routedIngestor(logger: self.job.logger(), readOnly: true).status()
                    : [try await job.ingestor(logger: self.job.logger(), readOnly: true).status()]
                for status in statuses { describe(status) }
            } catch {
                throw ExitCodes.report(error)
            }
        }

        func describe(_ status: IngestStatus) {
            if json {
                print(status.jsonLine)
            } else {
                print("""
                    table \(status.table) at \(status.tableLocation)
                      metadata: \(status.metadataLocation)
                      snapshots: \(status.snapshots), current \(status.currentSnapshotID.map(String.init) ?? "none"); \(status.totalRecords) records in \(status.totalDataFiles) data files
                      source \(status.source) (\(status.shard)): checkpoint v\(status.checkpointVersion), watermark \(status.watermark ?? "none"), \(status.trackedObjects) objects in the open window
                      pending: \(status.pendingObjects) objects, \(status.pendingBytes) bytes; behind the source by \(String(format: "%.0f", status.lagSeconds)) s (newest ingested \(Self.time(status.newestIngestedMillis)), newest listed \(Self.time(status.newestListedMillis)))
                      reconciled: \(Self.time(status.lastReconciledMillis))\(status.lateFilesAtLastReconciliation.map { ", \($0) late files found" } ?? "")
                      lease: \(status.leaseHolder ?? "free")
                    """)
            }
        }
    }
}

extension IcebergIngestCommand {
    /// Ingests the objects of given hours that the table lacks, whatever the watermark.
    struct Backfill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest every object of the given hours that is not in the table yet, exactly once (the watermark stays).",
            discussion: """
                For hours a start_at skipped, files that landed in closed hours, or a replay. Open hours are \
                judged by the checkpoint, closed ones by the archive of what was ingested; nothing is read twice.
                """)

        @OptionGroup var job: JobOptions
        @Option(name: .long, help: "First hour, UTC: 2026-11-01T00.")
        var from: String
        @Option(name: .long, help: "Last hour, UTC, included: 2026-11-07T23.")
        var to: String
        @Flag(name: .long, help: "Print one JSON summary line on stdout (no progress bar).")
        var json = false

        func run() async throws {
            do {
                let ingestor = try await job.job().ingestor(logger: job.logger())
                let bar = ProgressBar(enabled: !json)
                let summary = try await ingestor.backfill(
                    from: try IngestJob.hour(from), to: try IngestJob.hour(to), progress: { bar.update($0) })
                if json { print(summary.jsonLine) } else { Run.describe(summary) }
            } catch {
                throw ExitCodes.report(error)
            }
        }
    }
}
