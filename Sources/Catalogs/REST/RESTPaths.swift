import IcebergCore
import S3Reader

/// The routes of the Iceberg REST catalog spec under one base URL and the `prefix` the server's config gave.
///
/// A namespace in a path is its levels, each percent-encoded, joined by the namespace separator: the unit
/// separator `0x1F` (`%1F` in the URL) unless the server's config sets `namespace-separator`.
struct RESTPaths: Sendable {
    /// `http(s)://host[:port][/path]`, no trailing slash.
    let base: String
    /// The server's `prefix`, without slashes; nil or empty for none.
    let prefix: String?
    /// The separator as it appears in a URL path (`%1F`).
    let encodedSeparator: String

    init(base: String, prefix: String?, encodedSeparator: String? = nil) {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
        var trimmed = prefix ?? ""
        while trimmed.hasPrefix("/") { trimmed.removeFirst() }
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.prefix = trimmed.isEmpty ? nil : trimmed
        self.encodedSeparator = encodedSeparator.flatMap { $0.isEmpty ? nil : $0 } ?? "%1F"
    }

    /// The separator's raw text, for the `parent` query parameter (encoded again by the query encoder).
    var rawSeparator: String { encodedSeparator.removingPercentEncoding ?? "\u{1F}" }

    var config: String { "\(base)/v1/config" }
    var tokens: String { "\(base)/v1/oauth/tokens" }
    var root: String { prefix.map { "\(base)/v1/\($0)" } ?? "\(base)/v1" }
    var namespaces: String { "\(root)/namespaces" }

    func namespace(_ namespace: [String]) -> String { "\(namespaces)/\(encode(namespace))" }
    func tables(_ namespace: [String]) -> String { "\(self.namespace(namespace))/tables" }
    func table(_ identifier: TableIdentifier) -> String {
        "\(tables(identifier.namespace))/\(S3URIEncoding.queryComponent(identifier.name))"
    }

    /// A namespace as one path segment.
    func encode(_ namespace: [String]) -> String {
        namespace.map { S3URIEncoding.queryComponent($0) }.joined(separator: encodedSeparator)
    }

    /// A namespace as the value of the `parent` query parameter (before query encoding).
    func parentParameter(_ namespace: [String]) -> String { namespace.joined(separator: rawSeparator) }

    /// The path part of `url` as sent (still percent-encoded), for request signing.
    static func split(_ url: String) -> (scheme: String, host: String, path: String) {
        guard let schemeEnd = url.range(of: "://") else { return ("https", url, "/") }
        let rest = url[schemeEnd.upperBound...]
        let pathStart = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var path = String(rest[pathStart...])
        if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
        return (String(url[..<schemeEnd.lowerBound]), String(rest[..<pathStart]), path.isEmpty ? "/" : path)
    }
}
