import ArgumentParser

/// `iceberg-bench NAME`: each hot path timed against its peer (pyarrow, PyIceberg, boto3, DuckDB) on the
/// same input in the same run; prints medians and the ratio. Timings on small machines are noisy: compare
/// within one run, never across runs.
@main
struct BenchmarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iceberg-bench",
        abstract: "Benchmarks of IcebergIngest's hot paths against their peers, in one run.",
        subcommands: [
            // One line per benchmark; each lives in its own file.
            CheckpointBenchmark.self,
            CommitScalingBenchmark.self,
            ShardScalingBenchmark.self,
            LocalIngestBenchmark.self,
            CompareBenchmark.self,
            JSONParseBenchmark.self,
            InflateBenchmark.self,
            AvroInputBenchmark.self,
            FieldRoutingBenchmark.self,
            ReconcileBenchmark.self,
            EvolveBenchmark.self,
            ManifestMergeBenchmark.self,
            IngestBenchmark.self,
            IngestMemoryBenchmark.self,
            ParquetWriteBenchmark.self,
            S3ListingBenchmark.self,
        ])
}
