import Foundation
import S3Reader

/// Which catalog a job uses, from one URI:
///
/// | URI | catalog |
/// | --- | --- |
/// | `sqlite:/var/lib/ingest/catalog.db` | ``SQLiteCatalog`` (the embedded default; tables under the job's warehouse) |
/// | `rest+https://catalog.example.com/api/catalog` | `RESTCatalog` (any Iceberg REST catalog; keys from `catalog.properties`) |
/// | `glue:` or `glue:?region=eu-west-1&endpoint=http://127.0.0.1:5000&catalog-id=123456789012` | `GlueCatalog` (AWS Glue Data Catalog; tables under the database's location, else the job's warehouse) |
/// | `s3://lake/warehouse` | ``ObjectStoreCatalog`` in the bucket itself (conditional writes decide commits) |
/// | `file:/srv/lake/warehouse` | ``ObjectStoreCatalog`` in a local folder (exclusive creates decide commits) |
///
/// Glue's settings are optional: `region` defaults to the job's S3 region, then `AWS_REGION`; `endpoint` to
/// `AWS_ENDPOINT_URL_GLUE`, else `https://glue.<region>.amazonaws.com`; `catalog-id` to the caller's account.
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
    /// The AWS Glue Data Catalog; nil settings take their defaults.
    case glue(region: String?, endpoint: String?, catalogID: String?)

    /// Parses a catalog URI; the error names the URI (with any `user:password@` redacted) and the forms accepted.
    public init(parsing text: String) throws {
        func invalid(_ why: String) -> IngestError {
            IngestError(
                .invalidConfiguration,
                "catalog '\(Self.redactingUserInfo(text))': \(why) (use sqlite:<path>, rest+http(s)://host/path, glue:[?region=R&endpoint=URL&catalog-id=ID], s3://bucket/prefix or file:<folder>)")
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
        } else if text == "glue" || text.hasPrefix("glue:") {
            self = try Self.glue(settings: text.dropFirst(4), invalid: invalid)
        } else {
            throw invalid("unknown kind of catalog")
        }
    }

    /// `text` with any `user:password@` replaced by `***@`, for errors: also where a mistyped scheme lacks a `/`
    /// of its `//` (`rest+https:/id:secret@host`).
    static func redactingUserInfo(_ text: String) -> String {
        let redacted = CurlTransport.redactingUserInfo(text)
        guard redacted == text, let colon = text.firstIndex(of: ":") else { return redacted }
        let authority = text[text.index(after: colon)...].drop(while: { $0 == "/" })
        let end = authority.firstIndex { $0 == "/" || $0 == "?" } ?? authority.endIndex
        guard let at = authority[..<end].lastIndex(of: "@") else { return text }
        return String(text[..<authority.startIndex]) + "***" + String(authority[at...])
    }

    /// `glue`'s rest: empty, `:`, `://`, optionally followed by `?region=...&endpoint=...&catalog-id=...`.
    private static func glue(settings text: Substring, invalid: (String) -> IngestError) throws -> CatalogURI {
        var rest = text.hasPrefix(":") ? text.dropFirst() : text
        if rest.hasPrefix("//") { rest = rest.dropFirst(2) }
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard rest.isEmpty else { throw invalid("glue: takes its settings as a query (glue:?region=eu-west-1), not '\(rest)'") }
        var region: String?, endpoint: String?, catalogID: String?
        for item in query.split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(pair[0])
            guard pair.count == 2, let value = String(pair[1]).removingPercentEncoding, !value.isEmpty else { throw invalid("glue setting '\(key)' has no value") }
            switch key {
            case "region": region = value
            case "endpoint":
                guard value.hasPrefix("http://") || value.hasPrefix("https://") else {
                    throw invalid("glue endpoint '\(Self.redactingUserInfo(value))' is not an http(s) URL")
                }
                endpoint = value
            case "catalog-id": catalogID = value
            default: throw invalid("unknown glue setting '\(key)' (glue: takes region, endpoint and catalog-id)")
            }
        }
        return .glue(region: region, endpoint: endpoint, catalogID: catalogID)
    }
}
