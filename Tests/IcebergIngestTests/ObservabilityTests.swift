import Foundation
import IcebergCore
import Logging
import Prometheus
import S3Reader
import Testing
import TestSupport

@testable import IcebergIngest

/// Metrics and logs an on-call engineer reads: the counters agree with what was committed, the Prometheus
/// endpoint and text file serve them, JSON logs are one parseable object per line with the run's fields.
@Suite(.withinOneHour) struct ObservabilityTests {
    /// The value of one series in Prometheus' text format (`name{labels} value`).
    static func value(_ name: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    @Test func countersAgreeWithTheCommittedTable() async throws {
        let dir = try TestEnvironment.temporaryDirectory("metrics")
        defer { TestEnvironment.cleanUp(dir) }
        let input = TestEnvironment.fixtures.appendingPathComponent("demo/events").path
        let warehouse = dir.appendingPathComponent("wh").path
        var job = IngestJob(sourceURI: input, tableName: "demo.clicks", schema: "id long not null, event_time timestamptz, user struct<name string, country string>, amount decimal(10,2), tags list<string>, attributes map<string, string>, ok boolean")
        job.layout = "firehose"
        job.warehouse = warehouse
        job.catalogURI = "sqlite:\(warehouse)/catalog.db"
        job.badRecords = .skip
        job.commitEveryObjects = 4
        let registry = PrometheusCollectorRegistry()
        var ingestor = try await job.ingestor()
        ingestor.metrics = IngestMetrics(
            table: job.tableName, shard: ingestor.configuration.shard.description, factory: PrometheusMetricsFactory(registry: registry))
        ingestor.stop = StopRequest()
        let before = registry.emitToString()
        #expect(Self.value("iceberg_ingest_rows_total", in: before) == 0, "every series exists before the first commit:\n\(before)")
        let summary = try await ingestor.run()
        let text = registry.emitToString()  // Prometheus' text format

        // Independent of the run: the files' sizes on disk, the table's own row count and snapshot count.
        let files = FileManager.default.enumerator(atPath: input)!.compactMap { $0 as? String }.filter { name in
            [".gz", ".json", ".zst"].contains { name.hasSuffix($0) }
        }
        let bytes = try files.reduce(Int64(0)) { sum, file in
            sum + ((try FileManager.default.attributesOfItem(atPath: input + "/" + file)[.size] as? NSNumber)?.int64Value ?? 0)
        }
        let table = try await ingestor.catalog.loadTable(try TableIdentifier(parsing: "demo.clicks"))
        let records = Double(table.metadata.currentSnapshot?.summary["total-records"] ?? "")
        #expect(Self.value("iceberg_ingest_objects_read_total", in: text) == Double(files.count))
        #expect(Self.value("iceberg_ingest_bytes_read_total", in: text) == Double(bytes))
        #expect(Self.value("iceberg_ingest_rows_total", in: text) == records)
        #expect(Self.value("iceberg_ingest_bad_records_total", in: text) == Double(summary.badRecords))
        #expect(summary.badRecords == 2)
        #expect(Self.value("iceberg_ingest_commits_total", in: text) == Double(table.metadata.snapshots.count))
        #expect(table.metadata.snapshots.count == 3, "9 objects, 4 per commit")
        #expect(Self.value("iceberg_ingest_commit_conflicts_total", in: text) == 0)
        #expect(Self.value("iceberg_ingest_pending_objects", in: text) == 0)
        #expect(Self.value("iceberg_ingest_lag_seconds", in: text) == 0)
        #expect(Self.value("iceberg_ingest_run_duration_seconds_count", in: text) == 1)
        let lastCommit = try #require(Self.value("iceberg_ingest_last_commit_timestamp_seconds", in: text))
        #expect(abs(lastCommit - Date().timeIntervalSince1970) < 600)
        #expect(text.contains(#"table="demo.clicks""#) && text.contains(#"shard="shard-0-of-1""#))
    }

    @Test func s3RetryReasonsAreBounded() {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        IngestMetrics.s3Retry(code: "SlowDown", status: 503, factory: factory)
        IngestMetrics.s3Retry(code: "SlowDown", status: 503, factory: factory)
        IngestMetrics.s3Retry(code: "", status: 0, factory: factory)
        IngestMetrics.s3Retry(code: "Evil\"} 1\nfake_metric", status: 500, factory: factory)
        let text = registry.emitToString()
        #expect(text.contains(#"iceberg_ingest_s3_retries_total{reason="SlowDown"} 2"#), "\(text)")
        #expect(text.contains(#"iceberg_ingest_s3_retries_total{reason="connection"} 1"#), "\(text)")
        #expect(text.contains(#"iceberg_ingest_s3_retries_total{reason="other"} 1"#), "\(text)")
        #expect(!text.contains("fake_metric"))
    }

    /// The S3 client calls the retry hook once per retry, with the error that caused it.
    @Test func s3ClientReportsEachRetry() async throws {
        final class Flaky: HTTPTransport, @unchecked Sendable {
            let lock = NSLock()
            var calls = 0
            func send(_ request: HTTPRequest) async throws -> HTTPResponse {
                let n = lock.withLock { calls += 1; return calls }
                if n <= 2 {
                    return HTTPResponse(status: 503, headers: [:], body: Array("<Error><Code>SlowDown</Code><Message>reduce</Message></Error>".utf8))
                }
                return HTTPResponse(status: 200, headers: [:], body: [])
            }
        }
        let seen = Mutex2<[String]>([])
        var policy = RetryPolicy()
        policy.baseDelay = .milliseconds(1)
        policy.onRetry = { error in seen.value.append("\(error.status) \(error.code)") }
        let client = S3Client(
            configuration: S3Configuration(region: "us-east-1", endpoint: "http://127.0.0.1:1"),
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "a", secretAccessKey: "b")), transport: Flaky(), retryPolicy: policy)
        _ = try await client.putObject(bucket: "b", key: "k", body: [1, 2, 3])
        #expect(seen.value == ["503 SlowDown", "503 SlowDown"])
    }

    @Test func jsonLogLinesStayOneLineAndParse() throws {
        let line = JSONLogHandler.line(
            time: Date(timeIntervalSince1970: 1_795_999_687.25), level: .warning, message: "bad \"key\"\nnext line", label: "iceberg-ingest",
            metadata: ["object": "s3://b/raw/2026/11/30/00/x\ny.gz", "message": "shadowed", "rows": "5"])
        #expect(!line.contains("\n"))
        let value = try JSONValue.parse(line)
        #expect(value["time"] == .string("2026-11-30T00:48:07.250Z"))
        #expect(value["level"] == .string("warning"))
        #expect(value["message"] == .string("bad \"key\"\nnext line"))
        #expect(value["object"] == .string("s3://b/raw/2026/11/30/00/x\ny.gz"))
        #expect(value["meta_message"] == .string("shadowed"))
        #expect(value["rows"] == .string("5"))
    }

    /// `run --follow` with `--metrics-port`, `--metrics-file` and `--log-format json`, as a Deployment runs it:
    /// the endpoint answers while the process runs, the file is there at exit, every stderr line is JSON.
    @Test func followServesMetricsAndLogsJSON() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("metrics-follow")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("in").path
        _ = try await PipelineSupport.generate(into: input, firstHour: PrefixLayout.hour(of: Date()) - 2, hours: 1, files: 2, records: 10, firstID: 1)
        let warehouse = dir.appendingPathComponent("wh").path
        let metricsFile = dir.appendingPathComponent("iceberg.prom").path
        let logFile = dir.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "run", "--source", input, "--layout", "firehose", "--catalog", "sqlite:\(warehouse)/catalog.db", "--warehouse", warehouse,
            "--table", "db.events", "--schema", "id long not null, event_time timestamptz", "--follow", "--interval", "1", "--json",
            "--metrics-port", "0", "--metrics-file", metricsFile, "--log-format", "json", "--commit-every-objects", "1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: logFile)
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // The port the system chose is in the log line that announces it.
        var port: Int?
        var metrics = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let lines = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            if port == nil, let line = lines.split(separator: "\n").first(where: { $0.contains("metrics_port") }),
                case .string(let text)? = try JSONValue.parse(String(line))["metrics_port"]
            {
                port = Int(text)
            }
            if let port {
                let response = try? await CurlTransport.shared.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/metrics", headers: [], body: nil))
                metrics = response.map { String(decoding: $0.body, as: UTF8.self) } ?? ""
                if Self.value("iceberg_ingest_rows_total", in: metrics) == 20, Self.value("iceberg_ingest_run_duration_seconds_count", in: metrics) != nil { break }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let served = try #require(port, "no metrics_port in the log")
        #expect(process.isRunning, "served while the process runs")
        #expect(Self.value("iceberg_ingest_rows_total", in: metrics) == 20, "\(metrics)")
        #expect(Self.value("iceberg_ingest_commits_total", in: metrics) == 2)
        #expect(Self.value("iceberg_ingest_objects_read_total", in: metrics) == 2)
        // Every documented series is served once a pass has ended (the S3 retries appear with the first retry).
        for name in [
            "bytes_read_total", "bad_records_total", "damaged_objects_total", "commit_conflicts_total", "run_duration_seconds_count", "pending_objects", "pending_bytes",
            "lag_seconds", "last_commit_timestamp_seconds",
        ] {
            #expect(Self.value("iceberg_ingest_" + name, in: metrics) != nil, "iceberg_ingest_\(name) is not served: \(metrics)")
        }
        #expect(Self.value("iceberg_ingest_pending_objects", in: metrics) == 0 && Self.value("iceberg_ingest_bad_records_total", in: metrics) == 0)
        #expect((Self.value("iceberg_ingest_last_commit_timestamp_seconds", in: metrics) ?? 0) > Date().timeIntervalSince1970 - 600)
        let missing = try await CurlTransport.shared.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(served)/other", headers: [], body: nil))
        #expect(missing.status == 404)

        process.terminate()
        try await TestProcesses.detached { process.waitUntilExit() }
        #expect(process.terminationStatus == 143)
        let file = try String(contentsOfFile: metricsFile, encoding: .utf8)
        #expect(Self.value("iceberg_ingest_rows_total", in: file) == 20, "\(file)")
        #expect((Self.value("iceberg_ingest_run_duration_seconds_count", in: file) ?? 0) >= 1)

        let lines = try String(contentsOf: logFile, encoding: .utf8).split(separator: "\n")
        var messages: [String] = []
        for line in lines {
            let object = try JSONValue.parse(String(line))
            #expect(object["time"] != nil && object["level"] != nil && object["message"] != nil, "\(line)")
            if case .string(let message)? = object["message"] {
                messages.append(message)
                // The run's lines carry its fields.
                if message.hasPrefix("run ") || message.hasPrefix("committed ") || message.hasPrefix("serving ") {
                    #expect(object["table"] == .string("db.events") && object["shard"] != nil && object["source"] != nil, "\(line)")
                }
            }
            if case .string(let message)? = object["message"], message.hasPrefix("committed snapshot") {
                #expect(object["snapshot"] != nil && object["rows"] == .string("10"), "\(line)")
            }
        }
        #expect(messages.contains("run started"), "\(messages)")
        #expect(messages.contains { $0.hasPrefix("SIGTERM received") }, "the process's own lines are JSON too: \(messages)")
        #expect(messages.filter { $0.hasPrefix("committed snapshot") }.count == 2, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("run finished: 2 objects, 20 rows") }, "\(messages)")
    }

    /// Without flags, a run says at info level on stderr what it did; a typo in a log flag is an error.
    @Test func textLogsSayWhatARunDid() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("text-logs")
        defer { TestEnvironment.cleanUp(dir) }
        let warehouse = dir.appendingPathComponent("wh").path
        let arguments = [
            "run", "--source", TestEnvironment.fixtures.appendingPathComponent("demo/events").path, "--layout", "firehose",
            "--catalog", "sqlite:\(warehouse)/catalog.db", "--warehouse", warehouse, "--table", "demo.clicks", "--bad-records", "skip",
            "--schema", "id long not null, event_time timestamptz",
        ]
        let run = try await TestProcesses.run(executable, arguments: arguments + ["--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("info iceberg-ingest"), "\(run.stderr)")
        #expect(run.stderr.contains("committed snapshot") && run.stderr.contains("with 900 rows"), "\(run.stderr)")
        #expect(run.stderr.contains("run finished: 9 objects, 900 rows, 2 bad records"), "\(run.stderr)")
        #expect(run.stderr.contains("table=demo.clicks"), "\(run.stderr)")
        let typo = try await TestProcesses.run(executable, arguments: arguments + ["--log-format", "jsn"])
        #expect(typo.status != 0 && typo.stderr.contains("--log-format must be text or json, not 'jsn'"), "\(typo.stderr)")
        let quiet = try await TestProcesses.run(executable, arguments: arguments + ["--log-level", "warning"])
        #expect(quiet.status == 0 && !quiet.stderr.contains("run finished"), "\(quiet.stderr)")
    }
}
