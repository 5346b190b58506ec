import ArgumentParser
import Foundation
import IcebergCore
import IcebergIngest

extension IcebergIngestCommand {
    /// The README's first command: the bundled Fixtures into a local warehouse with the SQLite catalog.
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest the bundled demo files (local folder, Firehose layout) into a local warehouse with the SQLite catalog, then print the table's snapshots and row count.",
            discussion: "Run it twice: the second run reads nothing, because the checkpoint in the table says every file is in.")

        @Option(name: .long, help: "The demo input folder.")
        var input = "Fixtures/demo/events"
        @Option(name: .long, help: "The local warehouse (created if missing; the SQLite catalog is <warehouse>/catalog.db).")
        var warehouse = "demo-warehouse"
        @Flag(name: .long, help: "Print the run summary as one JSON line.")
        var json = false
        @Flag(name: .long, help: "Print debug logs on stderr (otherwise only warnings and errors: the demo prints its own summary).")
        var verbose = false

        static let schema = """
            id long not null, event_time timestamptz, user struct<name string, country string>, amount decimal(10,2), \
            tags list<string>, attributes map<string, string>, ok boolean
            """

        func run() async throws {
            do {
                guard FileManager.default.fileExists(atPath: input) else {
                    throw IngestError(.invalidConfiguration, "demo input \(input) not found: run from the repository's root, or give --input")
                }
                var job = IngestJob(sourceURI: input, tableName: "demo.clicks", schema: Self.schema)
                job.layout = "firehose"
                job.partition = "hour(event_time)"
                job.warehouse = warehouse
                job.catalogURI = "sqlite:\(warehouse)/catalog.db"
                job.badRecords = .skip
                let catalog = try await job.catalog()
                let ingestor = Ingestor(configuration: try job.configuration(), catalog: catalog, source: try job.source(), logger: JobOptions.logger(level: verbose ? .debug : .warning))
                let bar = ProgressBar(enabled: !json)
                let summary = try await ingestor.run(progress: { bar.update($0) })
                if json {
                    print(summary.jsonLine)
                } else {
                    Run.describe(summary)
                }
                let table = try await catalog.loadTable(try TableIdentifier(parsing: "demo.clicks"))
                print("\nsnapshots of demo.clicks (\(table.metadata.location)):")
                for snapshot in table.metadata.snapshots {
                    let s = snapshot.summary
                    print("  \(snapshot.id)  \(Date(timeIntervalSince1970: Double(snapshot.timestampMillis) / 1000))  \(s["operation"] ?? "?")  +\(s["added-records"] ?? "0") rows in \(s["added-data-files"] ?? "0") files  (total \(s["total-records"] ?? "0"))")
                }
                print("row count: \(table.metadata.currentSnapshot?.summary["total-records"] ?? "0")")
                print("""

                    Read it with PyIceberg (from any folder):
                      python3 -c 'from pyiceberg.catalog.sql import SqlCatalog; print(SqlCatalog("default", uri="sqlite:///\(URL(fileURLWithPath: warehouse).standardizedFileURL.path)/catalog.db", warehouse="file://\(URL(fileURLWithPath: warehouse).standardizedFileURL.path)").load_table("demo.clicks").scan().to_arrow().num_rows)'
                    """)
            } catch {
                throw ExitCodes.report(error)
            }
        }
    }
}
