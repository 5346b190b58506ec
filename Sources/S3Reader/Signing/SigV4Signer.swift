import Foundation

/// AWS Signature Version 4 for S3, as a pure value: a request, credentials and a date in; the headers
/// (or a presigned URL) out. No clock, no I/O, so it is tested against botocore's signer byte for byte.
///
/// ```swift
/// let signer = SigV4Signer(region: "eu-west-1")
/// let request = SignableRequest(method: "GET", host: "bucket.s3.eu-west-1.amazonaws.com",
///                               path: "/" + S3URIEncoding.path("raw/2026/11/24/10/part 1.gz"))
/// let headers = signer.sign(request, credentials: credentials, date: Date())
/// // headers: Authorization, X-Amz-Date, X-Amz-Content-SHA256 (and X-Amz-Security-Token)
/// ```
public struct SigV4Signer: Sendable {
    public var region: String
    public var service: String

    public init(region: String, service: String = "s3") {
        self.region = region
        self.service = service
    }

    /// The hash of the body that the signature covers.
    public enum Payload: Sendable, Equatable {
        /// `UNSIGNED-PAYLOAD`: the body is not part of the signature (streamed uploads over TLS).
        case unsigned
        /// The hex SHA-256 of the body.
        case sha256(String)

        public static let empty = Payload.sha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

        /// The SHA-256 of `body`.
        public static func hashing(_ body: [UInt8]) -> Payload { .sha256(Digest.hex(Digest.sha256(body))) }

        var value: String {
            switch self {
            case .unsigned: "UNSIGNED-PAYLOAD"
            case .sha256(let hex): hex
            }
        }
    }

    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ v: Int?, _ w: Int) -> String {
            let s = String(v ?? 0)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        let day = pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2)
        return (day + "T" + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2) + "Z", day)
    }

    private func signingKey(secret: String, day: String) -> [UInt8] {
        let kDate = Digest.hmacSHA256(key: Array("AWS4\(secret)".utf8), Array(day.utf8))
        let kRegion = Digest.hmacSHA256(key: kDate, Array(region.utf8))
        let kService = Digest.hmacSHA256(key: kRegion, Array(service.utf8))
        return Digest.hmacSHA256(key: kService, Array("aws4_request".utf8))
    }

    /// Headers to add so that `request` is authenticated: `Authorization`, `X-Amz-Date`,
    /// `X-Amz-Content-SHA256`, and `X-Amz-Security-Token` for temporary credentials. Every header of the
    /// request (and `host`) is signed, except `user-agent`, `expect` and `x-amzn-trace-id`.
    public func sign(_ request: SignableRequest, credentials: AWSCredentials, date: Date) -> [(String, String)] {
        let (amzDate, day) = Self.timestamps(date)
        var added: [(String, String)] = [("X-Amz-Date", amzDate), ("X-Amz-Content-SHA256", request.payload.value)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        // Canonical headers: lower-case names, trimmed values with inner runs of spaces folded, sorted.
        var canonical: [String: String] = ["host": request.host]
        for (name, value) in request.headers + added {
            let key = name.lowercased()
            guard !["user-agent", "expect", "x-amzn-trace-id", "authorization"].contains(key) else { continue }
            let folded = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            canonical[key] = canonical[key].map { "\($0),\(folded)" } ?? folded
        }
        let names = canonical.keys.sorted()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [
            request.method.uppercased(), request.path.isEmpty ? "/" : request.path, SigV4Signer.canonicalQuery(request.query),
            names.map { "\($0):\(canonical[$0]!)\n" }.joined(), signedHeaders, request.payload.value,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Digest.hex(Digest.sha256(Array(canonicalRequest.utf8))))"
        let signature = Digest.hex(Digest.hmacSHA256(key: signingKey(secret: credentials.secretAccessKey, day: day), Array(stringToSign.utf8)))
        return added + [(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        )]
    }

    /// A presigned URL for `request` valid for `expires` seconds (query-string authentication; only `host`
    /// is signed and the payload is unsigned).
    public func presign(_ request: SignableRequest, scheme: String = "https", credentials: AWSCredentials, date: Date, expires: Int) -> String {
        let (amzDate, day) = Self.timestamps(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        var query = request.query
        query += [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"),
            ("X-Amz-Date", amzDate), ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", "host"),
        ]
        if let token = credentials.sessionToken { query.append(("X-Amz-Security-Token", token)) }
        let canonicalQuery = SigV4Signer.canonicalQuery(query)
        let canonicalRequest = [
            request.method.uppercased(), request.path.isEmpty ? "/" : request.path, canonicalQuery, "host:\(request.host)\n", "host",
            Payload.unsigned.value,
        ].joined(separator: "\n")
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Digest.hex(Digest.sha256(Array(canonicalRequest.utf8))))"
        let signature = Digest.hex(Digest.hmacSHA256(key: signingKey(secret: credentials.secretAccessKey, day: day), Array(stringToSign.utf8)))
        return "\(scheme)://\(request.host)\(request.path.isEmpty ? "/" : request.path)?\(canonicalQuery)&X-Amz-Signature=\(signature)"
    }

    static func canonicalQuery(_ items: [(String, String)]) -> String { S3URIEncoding.canonicalQuery(items) }
}

/// The parts of an HTTP request that SigV4 covers.
public struct SignableRequest: Sendable {
    public var method: String
    /// `host[:port]` as sent in the Host header.
    public var host: String
    /// The path as sent: already URI-encoded (S3 keys with ``S3URIEncoding/path(_:)``), not encoded again.
    public var path: String
    /// Query parameters, not encoded (the signer encodes them).
    public var query: [(String, String)]
    /// Headers sent with the request (besides Host).
    public var headers: [(String, String)]
    public var payload: SigV4Signer.Payload

    public init(method: String, host: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = [], payload: SigV4Signer.Payload = .empty) {
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
        self.payload = payload
    }
}
