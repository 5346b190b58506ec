/// The one error type of S3Reader: S3's error code and message, the request id, the bucket and key, the
/// HTTP status, and whether trying again may help. Never contains credentials.
public struct S3Error: Error, Sendable, CustomStringConvertible {
    /// S3's error code (`NoSuchKey`, `PreconditionFailed`, `SlowDown` ...) or a transport code
    /// (`ConnectionFailed`, `Timeout`).
    public var code: String
    public var message: String
    public var requestID: String?
    public var bucket: String?
    public var key: String?
    /// The HTTP status, 0 when no response arrived.
    public var status: Int
    public var isRetryable: Bool

    public init(code: String, message: String, requestID: String? = nil, bucket: String? = nil, key: String? = nil, status: Int = 0, isRetryable: Bool = false) {
        self.code = code
        self.message = message
        self.requestID = requestID
        self.bucket = bucket
        self.key = key
        self.status = status
        self.isRetryable = isRetryable
    }

    /// A conditional write found the object (If-None-Match) or a different ETag (If-Match): status 412.
    public var isPreconditionFailure: Bool { status == 412 }

    public var description: String {
        var text = "S3 \(code)"
        if status > 0 { text += " (HTTP \(status))" }
        if let bucket { text += " on s3://\(bucket)/\(key ?? "")" }
        text += ": \(message)"
        if let requestID { text += " [request \(requestID)]" }
        return text
    }
}
