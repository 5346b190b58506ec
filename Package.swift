// swift-tools-version:6.1
// IcebergIngest: ingest files landing in S3 into Apache Iceberg tables, incrementally and exactly once.
import PackageDescription

/// Swift 6 language mode everywhere; complete concurrency checking comes with it.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let coreMetrics = Target.Dependency.product(name: "CoreMetrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")

// The targets, from mechanism up to policy; every arrow points down this list (ARCHITECTURE.md draws it):
//   system shims -> Codecs -> Avro, Parquet (and CPrefetch) -> IcebergCore -> Checkpoint
//   system shims -> S3Reader (AWS: SigV4, credentials, transport, S3; no Iceberg in it)
//   IcebergCore + S3Reader -> IcebergS3 (S3FileIO) -> Catalogs (REST, Glue) -> IcebergIngest -> the executables
let package = Package(
    name: "IcebergIngest",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "IcebergIngest", targets: ["IcebergIngest"]),
        .library(name: "IcebergCore", targets: ["IcebergCore"]),
        .library(name: "IcebergS3", targets: ["IcebergS3"]),
        .library(name: "S3Reader", targets: ["S3Reader"]),
        .library(name: "Checkpoint", targets: ["Checkpoint"]),
        .library(name: "Catalogs", targets: ["Catalogs"]),
        .executable(name: "iceberg-ingest", targets: ["IcebergIngestCLI"]),
        .executable(name: "iceberg-bench", targets: ["Benchmarks"]),
        .executable(name: "iceberg-fuzz", targets: ["IcebergFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System-library shims (Debian -dev packages; scripts/bootstrap.sh installs them).
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "COpenSSL", linkerSettings: [.linkedLibrary("crypto")]),
        .target(name: "CZstd", linkerSettings: [.linkedLibrary("zstd")]),
        .target(name: "CSnappy", linkerSettings: [.linkedLibrary("snappy")]),
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "CLibdeflate", linkerSettings: [.linkedLibrary("deflate")]),
        .target(name: "CSQLite", linkerSettings: [.linkedLibrary("sqlite3")]),
        // C's stdout, which Swift 6 cannot name safely (a mutable global): line buffering for the executable.
        .target(name: "CStandardIO"),
        // glibc's mallopt (<malloc.h> is not in Swift's Glibc module): the malloc arena cap of the executables.
        .target(name: "CMalloc"),
        // A cache prefetch hint (Clang's __builtin_prefetch), which Swift cannot spell: the Parquet dictionary's probes.
        .target(name: "CPrefetch"),

        // Threads for blocking work (transfers, file I/O, parses), started as work arrives: S3Reader's and
        // IcebergCore's blocking calls run there, never on Swift's cooperative pool.
        .target(name: "BlockingThreads", dependencies: ["CMalloc"], swiftSettings: swiftSettings),

        // Compression (deflate, zstd, snappy; whole buffers and streams), checksums and FNV-1a: the only
        // target that touches zlib, zstd and snappy.
        .target(name: "Codecs", dependencies: ["CZlib", "CLibdeflate", "CSnappy", "CZstd"], swiftSettings: swiftSettings),

        // File formats.
        .target(name: "Avro", dependencies: ["Codecs"], swiftSettings: swiftSettings),
        .target(name: "Parquet", dependencies: ["Codecs", "CPrefetch"], swiftSettings: swiftSettings),

        // AWS: SigV4, the credential chain, the libcurl transport with retries, the S3 client.
        .target(name: "S3Reader", dependencies: ["CCurl", "COpenSSL", "BlockingThreads"], swiftSettings: swiftSettings),

        // The table format: spec types, metadata, manifests, transactions, the SQLite, in-memory and
        // object-store catalogs, local FileIO, upkeep.
        .target(name: "IcebergCore", dependencies: ["Avro", "CSQLite", "BlockingThreads", logging], swiftSettings: swiftSettings),
        // IcebergCore's FileIO over S3: the adapter between the table format and the S3 client.
        .target(name: "IcebergS3", dependencies: ["IcebergCore", "S3Reader"], swiftSettings: swiftSettings),
        // What a run has read, versioned beside the table and committed in its snapshots.
        .target(name: "Checkpoint", dependencies: ["IcebergCore", "Codecs"], swiftSettings: swiftSettings),
        // Catalogs that several writers share: Iceberg REST and AWS Glue.
        .target(name: "Catalogs", dependencies: ["IcebergCore", "IcebergS3", "S3Reader", logging], swiftSettings: swiftSettings),
        // The pipeline: sources and layouts, parsing, writing, the checkpointed commit, upkeep.
        .target(
            name: "IcebergIngest",
            dependencies: ["IcebergCore", "IcebergS3", "S3Reader", "Checkpoint", "Catalogs", "Parquet", "Avro", "Codecs", logging, coreMetrics],
            swiftSettings: swiftSettings),

        // The example executable and the benchmarks.
        .executableTarget(
            name: "IcebergIngestCLI", dependencies: ["IcebergIngest", "IcebergCore", "Checkpoint", "CStandardIO", "BlockingThreads", argumentParser, logging, coreMetrics, prometheus], swiftSettings: swiftSettings),
        .executableTarget(
            name: "Benchmarks",
            dependencies: ["IcebergIngest", "IcebergCore", "IcebergS3", "Parquet", "Codecs", "S3Reader", "Checkpoint", "BlockingThreads", argumentParser],
            swiftSettings: swiftSettings),

        // The parsers of untrusted bytes as fuzz targets; the executable is libFuzzer's driver when built by
        // scripts/fuzz.sh and replays saved inputs otherwise.
        .target(name: "FuzzTargets", dependencies: ["IcebergIngest", "IcebergCore", "Checkpoint", "Parquet", "Avro", "Codecs"], swiftSettings: swiftSettings),
        .target(name: "CFuzzerDriver"),
        .executableTarget(name: "IcebergFuzz", dependencies: ["FuzzTargets", "CFuzzerDriver"], swiftSettings: swiftSettings),

        // Shared by the test targets only: fixtures, the Python tools, the S3 endpoint.
        .target(name: "TestSupport", dependencies: ["IcebergCore", "S3Reader"], path: "Tests/TestSupport", swiftSettings: swiftSettings),

        .testTarget(name: "SystemLibraryTests", dependencies: ["CCurl", "COpenSSL", "CZstd", "CSnappy", "CZlib", "CSQLite", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CodecsTests", dependencies: ["Codecs", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "AvroTests", dependencies: ["Avro", "IcebergCore", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ParquetTests", dependencies: ["Parquet", "IcebergCore", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "IcebergCoreTests", dependencies: ["IcebergCore", "Parquet", "BlockingThreads", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "S3ReaderTests", dependencies: ["S3Reader", "IcebergS3", "IcebergCore", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "IcebergCore"], swiftSettings: swiftSettings),
        .testTarget(name: "CatalogsTests", dependencies: ["Catalogs", "IcebergCore", "IcebergIngest", "IcebergS3", "S3Reader", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "IcebergIngestTests", dependencies: ["IcebergIngest", "IcebergCore", "IcebergS3", "S3Reader", "Checkpoint", "Codecs", "TestSupport", logging, prometheus],
            swiftSettings: swiftSettings),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets", "IcebergCore", "TestSupport"], swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
