import Foundation
import Testing

@testable import S3Reader

/// A transport that answers from a script, one entry per request (the last entry repeats).
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    /// `status` answers with an S3 error body of that code when it is 300 or more; `body` answers with
    /// the text given.
    enum Reply { case status(Int, String), body(Int, String), failure(S3Error) }
    // Safe: all state is under the lock.
    private let lock = NSLock()
    private var script: [Reply]
    private(set) var sent: [HTTPRequest] = []

    init(_ script: [Reply]) { self.script = script }

    var count: Int { lock.withLock { sent.count } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let reply: Reply = lock.withLock {
            sent.append(request)
            return script.count > 1 ? script.removeFirst() : script[0]
        }
        switch reply {
        case .status(let status, let code):
            let body = status < 300 ? [] : Array("<Error><Code>\(code)</Code><Message>scripted</Message><RequestId>r1</RequestId></Error>".utf8)
            return HTTPResponse(status: status, headers: ["etag": "\"e\""], body: body)
        case .body(let status, let text):
            return HTTPResponse(status: status, headers: ["etag": "\"e\""], body: Array(text.utf8))
        case .failure(let error):
            throw error
        }
    }
}

@Suite struct RetryTests {
    static func client(_ transport: ScriptedTransport, budget: Int = 500, attempts: Int = 5) -> S3Client {
        var policy = RetryPolicy()
        policy.baseDelay = .milliseconds(1)
        policy.maxDelay = .milliseconds(5)
        policy.budget = budget
        policy.maxAttempts = attempts
        return S3Client(
            configuration: S3Configuration(region: "us-east-1", endpoint: "http://127.0.0.1:1"),
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "a", secretAccessKey: "b")), transport: transport, retryPolicy: policy)
    }

    static let connectionLost = S3Error(code: "ConnectionFailed", message: "reset", isRetryable: true)

    @Test func retriesThrottlingAndServerErrorsThenSucceeds() async throws {
        let transport = ScriptedTransport([.status(503, "SlowDown"), .status(500, "InternalError"), .failure(Self.connectionLost), .status(200, "")])
        _ = try await Self.client(transport).getObject(bucket: "b", key: "k")
        #expect(transport.count == 4)
    }

    @Test func givesUpAfterMaxAttemptsWithTheLastError() async throws {
        let transport = ScriptedTransport([.status(503, "SlowDown")])
        await #expect(throws: S3Error.self) { _ = try await Self.client(transport, attempts: 3).getObject(bucket: "b", key: "k") }
        #expect(transport.count == 3)
    }

    @Test func clientErrorsAreNotRetried() async throws {
        let transport = ScriptedTransport([.status(403, "AccessDenied")])
        do {
            _ = try await Self.client(transport).getObject(bucket: "b", key: "k")
            Issue.record("403 must fail")
        } catch let error as S3Error {
            #expect(error.code == "AccessDenied" && error.requestID == "r1" && error.key == "k")
        }
        #expect(transport.count == 1)
    }

    /// A conditional write whose outcome is unknown is not repeated (a repeat could report a false
    /// conflict); after 503 it is, since S3 refused it before applying it.
    @Test func conditionalWritesAreRetriedOnlyWhenRefused() async throws {
        for (reply, expectedSends) in [(ScriptedTransport.Reply.failure(Self.connectionLost), 1), (.status(500, "InternalError"), 1), (.status(503, "SlowDown"), 5)] {
            let transport = ScriptedTransport([reply])
            await #expect(throws: S3Error.self) {
                try await Self.client(transport).putObject(bucket: "b", key: "k", body: [1], ifNoneMatch: "*")
            }
            #expect(transport.count == expectedSends)
        }
        // Unconditional writes are idempotent: retried.
        let transport = ScriptedTransport([.failure(Self.connectionLost), .status(200, "")])
        try await Self.client(transport).putObject(bucket: "b", key: "k", body: [1])
        #expect(transport.count == 2)
    }

    @Test func theBudgetStopsRetryStorms() async throws {
        let transport = ScriptedTransport([.status(503, "SlowDown")])
        let client = Self.client(transport, budget: 12)
        await #expect(throws: S3Error.self) { _ = try await client.getObject(bucket: "b", key: "k") }
        #expect(transport.count == 3)  // two retries of cost 5 fit in 12
        await #expect(throws: S3Error.self) { _ = try await client.getObject(bucket: "b", key: "k2") }
        #expect(transport.count == 4)  // no tokens left: no retry
    }

    @Test func cancellationStopsRetrying() async throws {
        var policy = RetryPolicy()
        // Waits long enough that only cancellation can end them within the test.
        policy.baseDelay = .seconds(600)
        policy.maxDelay = .seconds(600)
        let transport = ScriptedTransport([.status(503, "SlowDown")])
        let client = S3Client(
            configuration: S3Configuration(region: "us-east-1", endpoint: "http://127.0.0.1:1"),
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "a", secretAccessKey: "b")), transport: transport, retryPolicy: policy)
        let task = Task { try await client.getObject(bucket: "b", key: "k") }
        while transport.count == 0 { try await Task.sleep(nanoseconds: 1_000_000) }
        try await Task.sleep(nanoseconds: 20_000_000)
        task.cancel()
        // No timing bound (the machine may be busy): the wait before the next retry is 10 minutes, so the
        // task ending at all within a minute shows that cancellation cut it short.
        let ended = await withTaskGroup(of: Bool.self) { group in
            group.addTask { _ = await task.result; return true }
            group.addTask { try? await Task.sleep(nanoseconds: 60_000_000_000); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(ended, "a cancelled request kept waiting to retry")
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(transport.count <= 2)
    }
}
