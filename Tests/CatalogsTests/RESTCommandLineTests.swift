import Foundation
import IcebergCore
import IcebergIngest
import S3Reader
import Testing
import TestSupport

@testable import Catalogs

/// The example executable with `"catalog": {"uri": "rest+http://..."}` and OAuth2 client credentials from
/// `catalog.properties`: it creates the table through the REST catalog, ingests, and a second run reads
/// nothing; PyIceberg's RestCatalog reads the rows.
@Suite(.withinOneHour) struct RESTCommandLineTests {
    @Test func ingestThroughARESTCatalog() async throws {
        let executable = try TestEnvironment.executable("iceberg-ingest")
        let dir = try TestEnvironment.temporaryDirectory("rest-cli")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 2
        let folder = dir.appendingPathComponent("in/" + PrefixLayout.firehose.prefix(forHour: hour))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lines = (1...30).map { "{\"id\": \($0), \"event_time\": \(Int64(hour) * 3600 + Int64($0))}" }.joined(separator: "\n") + "\n"
        try lines.write(to: folder.appendingPathComponent("a.json"), atomically: true, encoding: .utf8)
        let server = try RESTTestServer(auth: .oauth2(clientID: "ingest", secret: "s3cr3t", scope: "catalog", expiresIn: 600))
        try await server.run { server in
            let config = """
                {
                  "source": {"uri": "\(dir.appendingPathComponent("in").path)", "layout": "firehose"},
                  "catalog": {"uri": "rest+\(server.url)", "properties": {"credential": "ingest:s3cr3t"}},
                  "table": {"name": "db.events", "schema": "id long not null, event_time timestamptz", "partition": "hour(event_time)"}
                }
                """
            let configPath = dir.appendingPathComponent("job.json").path
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
            let first = try await TestProcesses.run(executable, arguments: ["run", "--config", configPath, "--json"])
            #expect(first.status == 0, "\(first.stderr)")
            let summary = try JSONValue.parse(first.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(summary["rows"] == .int(30))
            let second = try await TestProcesses.run(executable, arguments: ["run", "--config", configPath, "--json"])
            let again = try JSONValue.parse(second.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(again["objectsIngested"] == .int(0) && again["objectsAlreadyIngested"] == .int(1), "\(second.stdout)\(second.stderr)")
            let output = try await PythonTool.run(
                """
                import sys, json
                from pyiceberg.catalog.rest import RestCatalog
                c = RestCatalog("rest", uri=sys.argv[1], credential="ingest:s3cr3t")
                t = c.load_table("db.events")
                rows = t.scan().to_arrow()
                print(json.dumps({"rows": len(rows), "ids": sum(rows.column("id").to_pylist())}))
                """, arguments: [server.url])
            let json = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(json["rows"] == .int(30) && json["ids"] == .int(465), "\(output)")
        }
    }
}
