/// Settings of ``ParquetFileWriter``; the defaults follow pyarrow's.
package struct ParquetWriterOptions: Sendable {
    package var compression: ParquetCompression = .zstd
    package var zstdLevel: Int32 = 1
    /// A row group is written when the buffered data passes this many bytes (Iceberg's
    /// `write.parquet.row-group-size-bytes` default is 128 MiB).
    package var rowGroupSizeBytes = 128 * 1024 * 1024
    /// Target uncompressed size of a data page.
    package var pageSizeBytes = 1024 * 1024
    /// Most rows in a data page.
    package var pageRowLimit = 20_000
    /// Dictionary encoding is used while the dictionary stays under this size; otherwise PLAIN.
    package var dictionaryPageSizeLimit = 1024 * 1024
    package var useDictionary = true
    /// Strings and binary bounds in the Iceberg metrics are truncated to this many characters/bytes
    /// (Iceberg's default metrics mode `truncate(16)`).
    package var metricsTruncateLength = 16
    package var createdBy = "iceberg-ingest version 0.1.0"

    package init() {}
}
