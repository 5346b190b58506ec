import Foundation
import S3Reader

/// A service whose clock is `offset` seconds from this machine's, in front of the real one: a request signed
/// (`X-Amz-Date`) more than 15 minutes from its time is refused as AWS refuses it (S3: 403
/// `RequestTimeTooSkewed` with `ServerTime`; JSON services such as Glue: 400 `InvalidSignatureException`,
/// "Signature expired"), with its time in the `Date` header unless `dateHeader` is off; any other request
/// goes to `inner` (moto, which does not check the time).
public final class SkewedClockGate: HTTPTransport, @unchecked Sendable {
    public enum Service: Sendable { case s3, json }

    let inner: any HTTPTransport
    let offset: TimeInterval
    let service: Service
    let dateHeader: Bool
    // Safe: every access to the counts holds the lock.
    private let lock = NSLock()
    private var refusedCount = 0
    private var passedCount = 0

    public init(offset: TimeInterval, service: Service = .s3, dateHeader: Bool = true, inner: any HTTPTransport = CurlTransport.shared) {
        self.inner = inner
        self.offset = offset
        self.service = service
        self.dateHeader = dateHeader
    }

    /// Requests refused for their time, and requests passed on.
    public var refused: Int { lock.withLock { refusedCount } }
    public var passed: Int { lock.withLock { passedCount } }

    static func formatter(_ format: String, _ zone: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: zone)
        formatter.dateFormat = format
        return formatter
    }

    /// `date` as an HTTP `Date` header.
    public static func httpDate(_ date: Date) -> String { formatter("EEE, dd MMM yyyy HH:mm:ss 'GMT'", "GMT").string(from: date) }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let now = Date().addingTimeInterval(offset)
        let signedText = request.headers.first { $0.0.lowercased() == "x-amz-date" }?.1 ?? ""
        let signed = Self.formatter("yyyyMMdd'T'HHmmss'Z'", "UTC").date(from: signedText)
        guard let signed, abs(signed.timeIntervalSince(now)) > 15 * 60 else {
            lock.withLock { passedCount += 1 }
            return try await inner.send(request)
        }
        lock.withLock { refusedCount += 1 }
        var headers = ["x-amzn-requestid": UUID().uuidString]
        if dateHeader { headers["date"] = Self.httpDate(now) }
        switch service {
        case .s3:
            let body = "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message><RequestTime>\(signedText)</RequestTime><ServerTime>\(ISO8601DateFormatter().string(from: now))</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds><RequestId>r1</RequestId></Error>"
            return HTTPResponse(status: 403, headers: headers, body: Array(body.utf8))
        case .json:
            let body = #"{"__type":"InvalidSignatureException","message":"Signature expired: \#(signedText) is now earlier than the server's time minus 15 min."}"#
            return HTTPResponse(status: 400, headers: headers, body: Array(body.utf8))
        }
    }
}
