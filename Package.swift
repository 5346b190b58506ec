// swift-tools-version:6.1
// IcebergIngest: ingest files landing in S3 into Apache Iceberg tables, incrementally and exactly once.
import PackageDescription

/// Swift 6 language mode everywhere; complete concurrency checking comes with it.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "IcebergIngest",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "IcebergIngest", targets: ["IcebergIngest"]),
        .library(name: "IcebergCore", targets: ["IcebergCore"]),
        .library(name: "S3Reader", targets: ["S3Reader"]),
        .library(name: "Checkpoint", targets: ["Checkpoint"]),
        .library(name: "Catalogs", targets: ["Catalogs"]),
        .executable(name: "iceberg-ingest", targets: ["IcebergIngestCLI"]),
        .executable(name: "iceberg-bench", targets: ["Benchmarks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // System-library shims (Debian -dev packages; scripts/bootstrap.sh installs them).
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "COpenSSL", linkerSettings: [.linkedLibrary("crypto")]),
        .target(name: "CZstd", linkerSettings: [.linkedLibrary("zstd")]),
        .target(name: "CSnappy", linkerSettings: [.linkedLibrary("snappy")]),
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "CSQLite", linkerSettings: [.linkedLibrary("sqlite3")]),

        // File formats.
        .target(name: "Avro", dependencies: ["CZlib", "CSnappy", "CZstd"], swiftSettings: swiftSettings),
        .target(name: "Parquet", dependencies: ["CZlib", "CSnappy", "CZstd"], swiftSettings: swiftSettings),

        // The table format, the S3 client, the checkpoint, the pipeline.
        .target(
            name: "IcebergCore",
            dependencies: ["Avro", "Parquet", "CSQLite", "COpenSSL", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .target(
            name: "S3Reader",
            dependencies: ["CCurl", "COpenSSL", "IcebergCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .target(
            name: "Checkpoint",
            dependencies: ["IcebergCore", "CZstd", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .target(
            name: "Catalogs",
            dependencies: ["IcebergCore", "S3Reader", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .target(
            name: "IcebergIngest",
            dependencies: [
                "IcebergCore", "S3Reader", "Checkpoint", "Catalogs", "Parquet", "Avro", "CZlib", "CZstd", "CSnappy",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // The example executable and the benchmarks.
        .executableTarget(
            name: "IcebergIngestCLI",
            dependencies: [
                "IcebergIngest", "IcebergCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "Benchmarks",
            dependencies: [
                "IcebergIngest", "IcebergCore", "Parquet", "Avro", "S3Reader", "Checkpoint",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings),

        // Shared by the test targets only: fixtures, the Python tools, the S3 endpoint.
        .target(name: "TestSupport", dependencies: ["S3Reader"], path: "Tests/TestSupport", swiftSettings: swiftSettings),

        .testTarget(name: "SystemLibraryTests", dependencies: ["CCurl", "COpenSSL", "CZstd", "CSnappy", "CZlib", "CSQLite", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "AvroTests", dependencies: ["Avro", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ParquetTests", dependencies: ["Parquet", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "IcebergCoreTests", dependencies: ["IcebergCore", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "S3ReaderTests", dependencies: ["S3Reader", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CatalogsTests", dependencies: ["Catalogs", "IcebergCore", "S3Reader", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "IcebergIngestTests", dependencies: ["IcebergIngest", "TestSupport"], swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
