import ArgumentParser
import Foundation
import IcebergCore
import IcebergIngest

extension IcebergIngestCommand {
    /// Proposes a schema and a partition spec from a sample of the source.
    struct Infer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Propose a table schema and partition spec from a sample of the source (reads the newest objects, writes nothing).",
            discussion: """
                Types are widened across the sample, ISO-8601 dates and timestamps are recognised, objects become \
                structs and arrays lists, every column is nullable. Prints the schema as the job file's table.schema \
                takes it (the short column list, or Iceberg schema JSON when a name is not a plain word) and a \
                partition spec over the timestamp column that names event time best, at the layout's time unit. \
                Only --source (with --layout, --format and the S3 settings) is needed; no table or catalog.
                """)

        @OptionGroup var job: JobOptions
        @Option(name: .long, help: "Objects to read, the newest of the source.")
        var sampleObjects = 10
        @Option(name: .long, help: "Records to read at most, across the objects.")
        var sampleRecords = 10_000
        @Option(name: .long, help: "Bytes to read at most from each object (Avro files are read whole and must fit).")
        var sampleBytes = 16 << 20
        @Flag(name: .long, help: "Print one JSON line: schema, partition, records, objects, unparseable, damaged, notes.")
        var json = false

        func run() async throws {
            do {
                guard sampleObjects > 0, sampleRecords > 0, sampleBytes > 0 else {
                    throw IngestError(.invalidConfiguration, "--sample-objects, --sample-records and --sample-bytes must be positive")
                }
                let job = try job.job(requiringTable: false)
                let source = try job.source()
                let sample = try await SchemaInference.sample(
                    source: source, format: try InputFormat(parsing: job.format), objects: sampleObjects, records: sampleRecords,
                    bytesPerObject: sampleBytes)
                let inference = sample.inference
                guard inference.records > 0 || !inference.schema.fields.isEmpty else {
                    throw IngestError(.invalidConfiguration, "no records found to infer from in \(sample.objects.count) objects of \(job.sourceURI)")
                }
                let partition = inference.partition(layout: source.layout)
                if json {
                    let line = JSONValue.object([
                        ("schema", .string(inference.schemaText)), ("partition", partition.map { .string($0) } ?? .null),
                        ("records", .int(Int64(inference.records))), ("objects", .array(sample.objects.map { .string($0) })),
                        ("unparseable", .int(Int64(sample.unparseable))), ("damaged", .array(sample.damaged.map { .string($0) })),
                        ("notes", .array(inference.notes.map { .string($0) })),
                    ])
                    print(line.serialized())
                } else {
                    print("# from \(inference.records) records of \(sample.objects.count) objects (\(sample.bytesRead) bytes)\(sample.unparseable > 0 ? ", \(sample.unparseable) unparseable" : "")")
                    print("schema: \(inference.schemaText)")
                    print("partition: \(partition ?? "(none: no timestamp column)")")
                    for note in inference.notes { print("# note: \(note)") }
                    for damage in sample.damaged { print("# damaged (read up to the damage): \(damage)") }
                }
            } catch {
                throw ExitCodes.report(error)
            }
        }
    }
}
