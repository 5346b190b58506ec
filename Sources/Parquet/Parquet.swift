// Parquet: Thrift compact protocol, encodings, writers and the footer and page reader.
