import Foundation
import Testing

@testable import S3Reader

/// A machine whose clock is off by more than S3 accepts (15 minutes): S3 refuses every request with
/// `RequestTimeTooSkewed`. The client learns S3's time from the refusal and signs with it from then on, as
/// the AWS SDKs do: one refused request per client, not a failed run.
@Suite struct ClockSkewTests {
    /// A server whose clock is `offset` seconds from this machine's and which refuses requests signed more
    /// than 15 minutes from its time, as S3 does (403, the `Date` header and `ServerTime` in the body).
    final class SkewedServer: HTTPTransport, @unchecked Sendable {
        let offset: TimeInterval
        let dateHeader: Bool
        private let lock = NSLock()
        private var refusedCount = 0
        private var sentCount = 0

        init(offset: TimeInterval, dateHeader: Bool = true) {
            self.offset = offset
            self.dateHeader = dateHeader
        }

        var refused: Int { lock.withLock { refusedCount } }
        var sent: Int { lock.withLock { sentCount } }

        static func amzDate(_ text: String) -> Date? {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
            return formatter.date(from: text)
        }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let now = Date().addingTimeInterval(offset)
            let signed = request.headers.first { $0.0.lowercased() == "x-amz-date" }.flatMap { Self.amzDate($0.1) }
            lock.withLock { sentCount += 1 }
            guard let signed, abs(signed.timeIntervalSince(now)) <= 15 * 60 else {
                lock.withLock { refusedCount += 1 }
                let formatter = DateFormatter()
                formatter.locale = Locale(identifier: "en_US_POSIX")
                formatter.timeZone = TimeZone(identifier: "GMT")
                formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
                let iso = ISO8601DateFormatter().string(from: now)
                let body = "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message><RequestTime>\(signed.map { ISO8601DateFormatter().string(from: $0) } ?? "")</RequestTime><ServerTime>\(iso)</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds><RequestId>r1</RequestId></Error>"
                return HTTPResponse(status: 403, headers: dateHeader ? ["date": formatter.string(from: now)] : [:], body: Array(body.utf8))
            }
            return HTTPResponse(status: 200, headers: ["etag": "\"e\""], body: Array("ok".utf8))
        }
    }

    static func client(_ transport: SkewedServer) -> S3Client {
        var policy = RetryPolicy()
        policy.baseDelay = .milliseconds(1)
        policy.maxDelay = .milliseconds(5)
        return S3Client(
            configuration: S3Configuration(region: "us-east-1", endpoint: "http://127.0.0.1:1"),
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "a", secretAccessKey: "b")), transport: transport, retryPolicy: policy)
    }

    @Test(arguments: [3_600.0, -20 * 60.0, 2 * 86_400.0]) func aSkewedClockCostsOneRefusedRequest(offset: TimeInterval) async throws {
        let server = SkewedServer(offset: offset)
        let client = Self.client(server)
        #expect(try await client.getObject(bucket: "b", key: "k") == Array("ok".utf8))
        #expect(server.refused == 1 && server.sent == 2)
        // From then on every request (a copy of the client too) is signed with the server's time.
        _ = try await client.getObject(bucket: "b", key: "k2")
        let copy = client
        _ = try await copy.putObject(bucket: "b", key: "k3", body: [1, 2, 3])
        #expect(server.refused == 1 && server.sent == 4)
    }

    @Test func aConditionalCreateRefusedForSkewIsTriedAgain() async throws {
        // Refused before it was applied, so repeating it cannot report a false conflict.
        let server = SkewedServer(offset: -3_600)
        _ = try await Self.client(server).putObject(bucket: "b", key: "k", body: [1], ifNoneMatch: "*")
        #expect(server.refused == 1 && server.sent == 2)
    }

    @Test func theServerTimeInTheBodyIsUsedWithoutADateHeader() async throws {
        let server = SkewedServer(offset: 7_200, dateHeader: false)
        _ = try await Self.client(server).getObject(bucket: "b", key: "k")
        #expect(server.refused == 1 && server.sent == 2)
    }

    @Test func aClockWithinFifteenMinutesIsNotCorrected() async throws {
        let server = SkewedServer(offset: 10 * 60)
        _ = try await Self.client(server).getObject(bucket: "b", key: "k")
        #expect(server.refused == 0 && server.sent == 1)
    }
}
