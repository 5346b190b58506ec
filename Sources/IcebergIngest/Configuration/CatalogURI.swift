import Foundation

/// Which catalog a job uses, from one URI:
///
/// | URI | catalog |
/// | --- | --- |
/// | `sqlite:/var/lib/ingest/catalog.db` | ``SQLiteCatalog`` (the embedded default; tables under the job's warehouse) |
/// | `rest+https://catalog.example.com/api/catalog` | `RESTCatalog` (any Iceberg REST catalog; keys from `catalog.properties`) |
/// | `s3://lake/warehouse` | ``ObjectStoreCatalog`` in the bucket itself (conditional writes decide commits) |
/// | `file:/srv/lake/warehouse` | ``ObjectStoreCatalog`` in a local folder (exclusive creates decide commits) |
///
/// ```swift
/// let uri = try CatalogURI(parsing: "rest+https://polaris.internal/api/catalog")
/// ```
public enum CatalogURI: Sendable, Equatable {
    case sqlite(path: String)
    /// The REST catalog's base URL (without `rest+`).
    case rest(url: String)
    /// The warehouse that holds the catalog: `s3://bucket/prefix` or an absolute local path.
    case objectStore(warehouse: String)

    /// Parses a catalog URI; the error names the URI and the forms accepted.
    public init(parsing text: String) throws {
        func invalid(_ why: String) -> IngestError {
            IngestError(
                .invalidConfiguration,
                "catalog '\(text)': \(why) (use sqlite:<path>, rest+http(s)://host/path, s3://bucket/prefix or file:<folder>)")
        }
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            while path.hasPrefix("//") { path.removeFirst() }
            guard !path.isEmpty else { throw invalid("no database path") }
            self = .sqlite(path: path)
        } else if text.hasPrefix("rest+http://") || text.hasPrefix("rest+https://") {
            let url = String(text.dropFirst("rest+".count))
            guard let host = URL(string: url)?.host, !host.isEmpty else { throw invalid("no host") }
            self = .rest(url: url)
        } else if text.hasPrefix("s3://") {
            let rest = text.dropFirst(5)
            guard let bucket = rest.split(separator: "/").first, !bucket.isEmpty else { throw invalid("no bucket") }
            self = .objectStore(warehouse: text.hasSuffix("/") ? String(text.dropLast()) : text)
        } else if text.hasPrefix("file:") {
            var path = String(text.dropFirst("file:".count))
            while path.hasPrefix("//") { path.removeFirst() }
            guard path.hasPrefix("/") || !path.isEmpty else { throw invalid("no folder") }
            self = .objectStore(warehouse: URL(fileURLWithPath: path).standardizedFileURL.path)
        } else if text.hasPrefix("glue:") {
            throw invalid("the Glue catalog is not built yet (issue #10)")
        } else {
            throw invalid("unknown kind of catalog")
        }
    }
}
