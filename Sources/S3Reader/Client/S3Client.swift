import Foundation

/// An S3 client: signs requests with SigV4 and sends them through an ``HTTPTransport`` (libcurl by default).
///
/// ```swift
/// let s3 = S3Client(configuration: S3Configuration(region: "eu-west-1", endpoint: "http://127.0.0.1:9000"),
///                   credentials: EnvironmentCredentialsProvider())
/// try await s3.putObject(bucket: "raw", key: "events/2026/11/24/10/a.json", body: bytes)
/// let page = try await s3.listObjectsV2(bucket: "raw", prefix: "events/2026/11/24/", delimiter: "/")
/// let head = try await s3.getObject(bucket: "raw", key: "events/2026/11/24/10/a.json", range: 0..<100)
/// ```
public struct S3Client: Sendable {
    public let configuration: S3Configuration
    public let credentials: any CredentialsProvider
    public let transport: any HTTPTransport
    let clock: @Sendable () -> Date

    public let retryPolicy: RetryPolicy
    let budget: RetryBudget
    /// How far S3's clock is from `clock`, learned from a `RequestTimeTooSkewed` answer; shared by the
    /// client's copies.
    let skew = ClockSkew()

    public init(
        configuration: S3Configuration, credentials: any CredentialsProvider, transport: any HTTPTransport = CurlTransport.shared,
        retryPolicy: RetryPolicy = RetryPolicy(), clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.credentials = credentials
        self.transport = transport
        self.retryPolicy = retryPolicy
        budget = RetryBudget(capacity: retryPolicy.budget)
        self.clock = clock
    }

    /// Builds, signs and sends a request; throws ``S3Error`` for any status of 300 and up (other than
    /// those in `accept`).
    func send(
        _ method: String, bucket: String, key: String = "", query: [(String, String)] = [], headers: [(String, String)] = [],
        body: [UInt8]? = nil, bodyFile: (path: String, range: Range<Int64>)? = nil, responseFile: String? = nil, accept: Set<Int> = []
    ) async throws -> HTTPResponse {
        let conditional = headers.contains { $0.0 == "If-None-Match" || $0.0 == "If-Match" } && method != "GET" && method != "HEAD"
        var attempt = 1
        while true {
            do {
                let response = try await sendOnce(
                    method, bucket: bucket, key: key, query: query, headers: headers, body: body, bodyFile: bodyFile, responseFile: responseFile,
                    accept: accept)
                await budget.refund()
                return response
            } catch let error as S3Error {
                guard attempt < retryPolicy.maxAttempts, RetryPolicy.isRetryable(error, conditional: conditional),
                    await budget.take(error.status == 0 ? 10 : 5)
                else { throw error }
                retryPolicy.onRetry?(error)
                // Full jitter: a random wait up to the ceiling; a cancelled task stops here.
                let ceiling = retryPolicy.ceiling(forRetry: attempt)
                let nanos = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
                try await Task.sleep(nanoseconds: UInt64(Int64.random(in: 0...max(0, nanos))))
                attempt += 1
            }
        }
    }

    private func sendOnce(
        _ method: String, bucket: String, key: String, query: [(String, String)], headers: [(String, String)],
        body: [UInt8]?, bodyFile: (path: String, range: Range<Int64>)?, responseFile: String?, accept: Set<Int>
    ) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let (host, path, scheme) = configuration.location(bucket: bucket, key: key)
        // A streamed body is not read twice to hash it: UNSIGNED-PAYLOAD, as the AWS SDKs stream.
        let payload: SigV4Signer.Payload = bodyFile != nil ? .unsigned : (body.map { SigV4Signer.Payload.hashing($0) } ?? .empty)
        let request = SignableRequest(method: method, host: host, path: path, query: query, headers: headers, payload: payload)
        let signed = SigV4Signer(region: configuration.region).sign(
            request, credentials: try await credentials.credentials(), date: clock().addingTimeInterval(skew.seconds))
        let queryText = SigV4Signer.canonicalQuery(query)
        let url = "\(scheme)://\(host)\(path)" + (queryText.isEmpty ? "" : "?\(queryText)")
        var outgoing = HTTPRequest(method: method, url: url, headers: headers + signed, body: body)
        outgoing.bodyFile = bodyFile
        outgoing.responseFile = responseFile
        let response = try await transport.send(outgoing)
        guard response.status < 300 || accept.contains(response.status) else {
            let error = Self.error(response, bucket: bucket, key: key.isEmpty ? nil : key)
            if error.code == Self.clockSkewCode {
                // This machine's clock is off by more than S3 accepts (15 minutes): sign with S3's time from
                // now on; the retry this error allows then goes through.
                _ = skew.learn(serverTime: Self.serverTime(response), localNow: clock())
            }
            throw error
        }
        return response
    }

    /// S3's answer to a request signed at a time too far from its own.
    static let clockSkewCode = "RequestTimeTooSkewed"

    /// S3's time when it answered: the `Date` header, else the error's `ServerTime`.
    static func serverTime(_ response: HTTPResponse) -> Date? {
        if let date = response.headers["date"].flatMap(httpDate) { return date }
        return XMLTree.parse(response.body)?.value("ServerTime").flatMap(isoDate)
    }

    static func error(_ response: HTTPResponse, bucket: String?, key: String?) -> S3Error {
        let xml = XMLTree.parse(response.body)
        let code = xml?.value("Code") ?? Self.codeForStatus(response.status)
        let retryable = [500, 502, 503, 504].contains(response.status)
            || ["SlowDown", "RequestTimeout", "Throttling", "ThrottlingException", "InternalError", clockSkewCode].contains(code)
        return S3Error(
            code: code, message: xml?.value("Message") ?? "HTTP \(response.status)",
            requestID: xml?.value("RequestId") ?? response.headers["x-amz-request-id"], bucket: bucket, key: key,
            status: response.status, isRetryable: retryable)
    }

    static func codeForStatus(_ status: Int) -> String {
        switch status {
        case 403: "AccessDenied"
        case 404: "NotFound"
        case 412: "PreconditionFailed"
        case 503: "SlowDown"
        default: "HTTP\(status)"
        }
    }

    // MARK: Operations

    public func createBucket(_ bucket: String) async throws {
        var body: [UInt8]?
        if configuration.region != "us-east-1" {
            body = Array("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(configuration.region)</LocationConstraint></CreateBucketConfiguration>".utf8)
        }
        _ = try await send("PUT", bucket: bucket, body: body)
    }

    /// Uploads an object. `ifNoneMatch: "*"` creates it only if absent; `ifMatch` replaces it only if its
    /// ETag is that one. A failed condition throws an ``S3Error`` whose ``S3Error/isPreconditionFailure`` is true.
    /// Returns the new ETag.
    @discardableResult
    public func putObject(bucket: String, key: String, body: [UInt8], contentType: String? = nil, ifNoneMatch: String? = nil, ifMatch: String? = nil) async throws -> String {
        var headers: [(String, String)] = []
        if let contentType { headers.append(("Content-Type", contentType)) }
        if let ifNoneMatch { headers.append(("If-None-Match", ifNoneMatch)) }
        if let ifMatch { headers.append(("If-Match", ifMatch)) }
        let response = try await send("PUT", bucket: bucket, key: key, headers: headers, body: body)
        return response.headers["etag"] ?? ""
    }

    /// The object's bytes, or `range` of them (`Range: bytes=a-(b-1)`). With `ifMatch` (an ETag, quoted or
    /// not), only while the object still has that ETag: once it was replaced the read throws an ``S3Error``
    /// whose ``S3Error/isPreconditionFailure`` is true, so the ranges of one object never mix two versions.
    ///
    /// ```swift
    /// let head = try await s3.getObject(bucket: "raw", key: listed.key, range: 0..<(8 << 20), ifMatch: listed.etag)
    /// ```
    public func getObject(bucket: String, key: String, range: Range<Int64>? = nil, ifMatch: String? = nil) async throws -> [UInt8] {
        var headers: [(String, String)] = []
        if let range {
            guard !range.isEmpty else { return [] }
            headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)"))
        }
        if let ifMatch, !ifMatch.isEmpty { headers.append(("If-Match", ifMatch.hasPrefix("\"") ? ifMatch : "\"\(ifMatch)\"")) }
        return try await send("GET", bucket: bucket, key: key, headers: headers).body
    }

    /// Size, ETag and last-modified of an object, or nil when there is none.
    public func headObject(bucket: String, key: String) async throws -> S3Object? {
        let response = try await send("HEAD", bucket: bucket, key: key, accept: [404])
        guard response.status != 404 else { return nil }
        let modified = response.headers["last-modified"].flatMap(Self.httpDate)
        return S3Object(key: key, size: Int64(response.headers["content-length"] ?? "") ?? 0, etag: response.headers["etag"] ?? "", lastModified: modified ?? Date(timeIntervalSince1970: 0))
    }

    public func deleteObject(bucket: String, key: String) async throws {
        _ = try await send("DELETE", bucket: bucket, key: key, accept: [404])
    }

    /// One page of ListObjectsV2.
    ///
    /// Asks for URL-encoded keys (`encoding-type=url`, as boto3 does): XML cannot carry every byte a key
    /// may hold (a control character makes the page unparseable, and an XML parser turns a carriage return
    /// into a line feed), so one such key would otherwise break, or silently change, every listing of its
    /// prefix. Keys and prefixes come back decoded.
    public func listObjectsV2(
        bucket: String, prefix: String? = nil, delimiter: String? = nil, startAfter: String? = nil,
        continuationToken: String? = nil, maxKeys: Int? = nil
    ) async throws -> ListObjectsPage {
        var query: [(String, String)] = [("list-type", "2"), ("encoding-type", "url")]
        if let prefix { query.append(("prefix", prefix)) }
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let startAfter { query.append(("start-after", startAfter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        let response = try await send("GET", bucket: bucket, query: query)
        guard let xml = XMLTree.parse(response.body), xml.name == "ListBucketResult" else {
            throw S3Error(code: "MalformedResponse", message: "ListObjectsV2 answered without a ListBucketResult", bucket: bucket, status: response.status)
        }
        // A server that ignores the request's encoding says so by leaving `EncodingType` out.
        let encoded = xml.value("EncodingType") == "url"
        func name(_ text: String) throws -> String {
            guard encoded else { return text }
            guard let decoded = Self.urlDecoded(text) else {
                throw S3Error(code: "MalformedResponse", message: "ListObjectsV2 answered with a key that is not URL-encoded UTF-8: \(text.debugDescription)", bucket: bucket, status: response.status)
            }
            return decoded
        }
        let objects = try xml.all("Contents").map { item in
            S3Object(
                key: try name(item.value("Key") ?? ""), size: Int64(item.value("Size") ?? "") ?? 0,
                etag: (item.value("ETag") ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\"")),
                lastModified: item.value("LastModified").flatMap(Self.isoDate) ?? Date(timeIntervalSince1970: 0))
        }
        let prefixes = try xml.all("CommonPrefixes").compactMap { try $0.value("Prefix").map(name) }
        let truncated = xml.value("IsTruncated") == "true"
        return ListObjectsPage(objects: objects, commonPrefixes: prefixes, nextContinuationToken: truncated ? xml.value("NextContinuationToken") : nil)
    }

    /// A key as a listing with `encoding-type=url` spells it: `%XX` escapes of UTF-8 bytes and `+` for a
    /// space (S3 escapes a literal plus); nil when that is not what it is.
    static func urlDecoded(_ text: String) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// Every page of a listing, following continuation tokens.
    public func listAllPages(bucket: String, prefix: String? = nil, delimiter: String? = nil, startAfter: String? = nil, maxKeys: Int? = nil) -> AsyncThrowingStream<ListObjectsPage, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var token: String?
                    repeat {
                        let page = try await listObjectsV2(bucket: bucket, prefix: prefix, delimiter: delimiter, startAfter: token == nil ? startAfter : nil, continuationToken: token, maxKeys: maxKeys)
                        continuation.yield(page)
                        token = page.nextContinuationToken
                    } while token != nil && !Task.isCancelled
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// A timestamp as S3 writes them in listings (`2026-11-29T10:00:01.000Z`): parsed by hand, since a
    /// listing page holds 1,000 of them and a date formatter costs tens of microseconds each; anything else
    /// goes through `ISO8601DateFormatter`.
    static func isoDate(_ text: String) -> Date? {
        if let date = fastISODate(text) { return date }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, or nil.
    static func fastISODate(_ text: String) -> Date? {
        var text = text
        text.makeContiguousUTF8()
        return text.utf8.withContiguousStorageIfAvailable { b -> Date? in
            guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
                b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), b[b.count - 1] == UInt8(ascii: "Z")
            else { return nil }
            func number(_ from: Int, _ count: Int) -> Int? {
                var value = 0
                for i in from..<(from + count) {
                    let digit = Int(b[i]) - 48
                    guard digit >= 0, digit <= 9 else { return nil }
                    value = value * 10 + digit
                }
                return value
            }
            guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
                let minute = number(14, 2), let second = number(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24,
                minute < 60, second < 61
            else { return nil }
            var fraction = 0.0
            if b.count > 20 {
                guard b[19] == UInt8(ascii: "."), b.count > 21 else { return nil }
                var scale = 0.1
                for i in 20..<(b.count - 1) {
                    let digit = Int(b[i]) - 48
                    guard digit >= 0, digit <= 9 else { return nil }
                    fraction += Double(digit) * scale
                    scale /= 10
                }
            }
            // Days from the civil date (proleptic Gregorian), Howard Hinnant's algorithm.
            let y = month <= 2 ? year - 1 : year
            let era = (y >= 0 ? y : y - 399) / 400
            let yoe = y - era * 400
            let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
            let days = era * 146_097 + doe - 719_468
            return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3600 + minute * 60 + second) + fraction)
        } ?? nil
    }

    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}

/// The seconds to add to a client's clock to get its service's (zero until the service refuses a request
/// as signed at the wrong time): AWS refuses SigV4 requests more than 15 minutes from its own clock, so a
/// machine whose clock drifted would fail every request until it is fixed. Like the AWS SDKs, a client
/// learns the service's time from the refusal (its `Date` header) and signs with it from then on.
package final class ClockSkew: @unchecked Sendable {
    private let lock = NSLock()
    private var value: TimeInterval = 0

    package init() {}

    /// The offset learned so far (set only by ``learn(serverTime:localNow:)``).
    package var seconds: TimeInterval { lock.withLock { value } }

    /// Learns the offset from a refusal answered at `serverTime` (the `Date` header) when that is more than
    /// four minutes from `localNow` (the machine's clock) plus the offset known so far: a refusal for another
    /// reason (a wrong secret key) leaves it alone. Returns whether it changed.
    package func learn(serverTime: Date?, localNow: Date) -> Bool {
        guard let serverTime else { return false }
        let offset = serverTime.timeIntervalSince(localNow)
        return lock.withLock {
            guard abs(offset - value) > 240 else { return false }
            value = offset
            return true
        }
    }

    /// An HTTP `Date` header (`Tue, 01 Dec 2026 03:30:00 GMT`).
    package static func httpDate(_ text: String) -> Date? { S3Client.httpDate(text) }
}

/// An object as a listing or HEAD describes it.
public struct S3Object: Sendable, Equatable {
    public var key: String
    public var size: Int64
    /// Without quotes.
    public var etag: String
    public var lastModified: Date

    public init(key: String, size: Int64, etag: String, lastModified: Date) {
        self.key = key
        self.size = size
        self.etag = etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        self.lastModified = lastModified
    }
}

/// One page of ListObjectsV2.
public struct ListObjectsPage: Sendable {
    public var objects: [S3Object]
    public var commonPrefixes: [String]
    /// Present when more pages follow.
    public var nextContinuationToken: String?
}

/// Where the client sends requests.
public struct S3Configuration: Sendable {
    public var region: String
    /// A custom endpoint (`http://127.0.0.1:9000` for MinIO); nil for AWS.
    public var endpoint: String?
    /// Path-style addressing (`host/bucket/key`); the default with a custom endpoint.
    public var usePathStyle: Bool

    public init(region: String, endpoint: String? = nil, usePathStyle: Bool? = nil) {
        self.region = region
        self.endpoint = endpoint.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.usePathStyle = usePathStyle ?? (endpoint != nil)
    }

    /// Host, encoded path and scheme of a request for `bucket` and `key`.
    func location(bucket: String, key: String) -> (host: String, path: String, scheme: String) {
        var scheme = "https"
        var host = region == "us-east-1" ? "s3.amazonaws.com" : "s3.\(region).amazonaws.com"
        if let endpoint {
            let parts = endpoint.components(separatedBy: "://")
            if parts.count == 2 { scheme = parts[0]; host = parts[1] } else { host = endpoint }
        }
        let keyPath = key.isEmpty ? "" : "/" + S3URIEncoding.path(key)
        if usePathStyle { return (host, "/\(bucket)\(keyPath)", scheme) }
        return ("\(bucket).\(host)", keyPath.isEmpty ? "/" : keyPath, scheme)
    }
}
