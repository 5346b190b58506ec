import Foundation
import S3Reader

/// An HTTP transport that counts the requests passing through to the real one, by kind: what the
/// incremental-listing and re-read tests assert on.
public final class CountingTransport: HTTPTransport, @unchecked Sendable {
    // Safe: every access to `requests` holds the lock.
    private let lock = NSLock()
    private var requests: [HTTPRequest] = []
    let inner: any HTTPTransport

    public init(_ inner: any HTTPTransport = CurlTransport.shared) { self.inner = inner }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { requests.append(request) }
        return try await inner.send(request)
    }

    /// URLs of ListObjectsV2 requests.
    public var listRequests: [String] { lock.withLock { requests.filter { $0.method == "GET" && $0.url.contains("list-type=2") }.map(\.url) } }

    /// URLs of GETs of objects (not listings) in `bucket`.
    public func objectGets(bucket: String) -> [String] {
        lock.withLock {
            requests.filter { $0.method == "GET" && !$0.url.contains("list-type=2") && $0.url.contains("/\(bucket)/") }.map(\.url)
        }
    }

    public func reset() { lock.withLock { requests.removeAll() } }
}
