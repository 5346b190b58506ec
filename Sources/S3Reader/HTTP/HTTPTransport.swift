/// An HTTP request as the S3 client sends it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// A body streamed from a local file instead (`range` of its bytes), read as it is sent.
    public var bodyFile: (path: String, range: Range<Int64>)?
    /// Stream a successful (2xx) response body into this local file as it arrives, instead of memory.
    public var responseFile: String?
    /// Seconds without a byte after which the transfer fails, instead of the transport's own idle timeout
    /// (for a server that may work a while before it answers, such as a catalog writing to its object store).
    public var idleTimeout: Int?

    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// An HTTP response: status, headers (names lower-cased) and body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Sends HTTP requests. ``CurlTransport`` is the real one; tests inject fakes (counting, failing).
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
