/// IcebergIngest ingests files landing in S3 (or a local folder) into Apache Iceberg tables,
/// incrementally and exactly once, without Spark or a JVM.
///
/// ```swift
/// import IcebergIngest
/// print(IcebergIngestVersion.current) // "0.1.0"
/// ```
public enum IcebergIngestVersion {
    /// The library's semantic version.
    public static let current = "0.1.0"
}
