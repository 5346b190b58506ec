import ArgumentParser
import IcebergIngest

/// `iceberg-ingest`: the example executable over the IcebergIngest library.
@main
struct IcebergIngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iceberg-ingest",
        abstract: "Ingest files landing in S3 or a local folder into Apache Iceberg tables, exactly once.",
        version: IcebergIngestVersion.current,
        subcommands: [Demo.self],
        defaultSubcommand: Demo.self)
}

extension IcebergIngestCommand {
    /// The README's first command. Until the pipeline lands it checks the build and prints the version.
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the embedded default job (local files, local warehouse, SQLite catalog).")

        func run() async throws {
            print("iceberg-ingest \(IcebergIngestVersion.current)")
            print("The ingestion pipeline is not built yet: this build checks the toolchain and system libraries.")
        }
    }
}
