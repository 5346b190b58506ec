import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import IcebergS3
@testable import S3Reader

/// How `S3FileIO.writeIfAbsent` reports S3's answers to `If-None-Match: *`, which catalogs turn into
/// commit conflicts: 412 (the object exists) and 409 (a concurrent conditional write of the same key is in
/// flight, as AWS answers) are both `.alreadyExists`; other failures stay I/O errors.
@Suite struct S3FileIOConditionalTests {
    static func io(_ reply: ScriptedTransport.Reply) -> (S3FileIO, ScriptedTransport) {
        let transport = ScriptedTransport([reply])
        let client = S3Client(
            configuration: S3Configuration(region: "us-east-1", endpoint: "http://127.0.0.1:1"),
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "a", secretAccessKey: "b")), transport: transport,
            retryPolicy: .none)
        return (S3FileIO(client: client), transport)
    }

    @Test(arguments: [(412, "PreconditionFailed"), (409, "ConditionalRequestConflict")])
    func refusedCreatesAreAlreadyExists(status: Int, code: String) async throws {
        let (io, transport) = Self.io(.status(status, code))
        do {
            try await io.writeIfAbsent("s3://b/t/metadata/v2.metadata.json", bytes: Array("{}".utf8))
            Issue.record("a refused create succeeded")
        } catch let error as IcebergError {
            #expect(error.code == .alreadyExists)
            #expect(error.message.contains("s3://b/t/metadata/v2.metadata.json"))
        }
        #expect(transport.sent.first?.headers.contains { $0.0 == "If-None-Match" && $0.1 == "*" } == true)
    }

    @Test func otherFailuresStayIOErrors() async throws {
        let (io, _) = Self.io(.status(403, "AccessDenied"))
        do {
            try await io.writeIfAbsent("s3://b/k", bytes: [1])
            Issue.record("a denied create succeeded")
        } catch let error as IcebergError {
            #expect(error.code == .io)
        }
    }

    /// Fails the first conditional PUT: before it reaches the server (a 500), or after the server applied it
    /// (the connection resets before the answer). Everything else goes to the real server.
    final class FaultOnce: HTTPTransport, @unchecked Sendable {
        enum Mode { case before500, afterApplied }
        let mode: Mode
        private let lock = NSLock()
        private var fired = false
        init(_ mode: Mode) { self.mode = mode }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let conditional = request.method == "PUT" && request.headers.contains { $0.0 == "If-None-Match" }
            let fire = conditional && lock.withLock { () -> Bool in
                defer { fired = true }
                return !fired
            }
            guard fire else { return try await CurlTransport.shared.send(request) }
            switch mode {
            case .before500:
                return HTTPResponse(status: 500, body: Array("<Error><Code>InternalError</Code><Message>injected</Message></Error>".utf8))
            case .afterApplied:
                _ = try await CurlTransport.shared.send(request)
                throw S3Error(code: "ConnectionFailed", message: "connection reset after the request (injected)", isRetryable: true)
            }
        }
    }

    /// A commit's conditional create whose answer is lost (the write took effect, the connection reset) is
    /// tried again, finds the object, reads it back and sees its own bytes: success, not a false conflict.
    /// One that failed with a 500 before taking effect is simply tried again. Against the suite's S3 server.
    @Test func uncertainCreatesAreSettledByReadingBack() async throws {
        let s3 = try TestEnvironment.s3()
        let bucket = TestEnvironment.uniqueBucketName("cond")
        try await s3.client().createBucket(bucket)
        for mode in [FaultOnce.Mode.before500, .afterApplied] {
            let io = S3FileIO(client: s3.client(transport: FaultOnce(mode)))
            let location = "s3://\(bucket)/t/metadata/v-\(mode).metadata.json"
            try await io.writeIfAbsent(location, bytes: Array("{\"ours\": true}".utf8))
            #expect(try await io.read(location) == Array("{\"ours\": true}".utf8))
        }
        // Another writer's object behind an uncertain try is a conflict, as it must be.
        let other = S3FileIO(client: s3.client())
        let location = "s3://\(bucket)/t/metadata/v9.metadata.json"
        try await other.writeIfAbsent(location, bytes: Array("{\"theirs\": true}".utf8))
        let io = S3FileIO(client: s3.client(transport: FaultOnce(.before500)))
        let error = await #expect(throws: IcebergError.self) { try await io.writeIfAbsent(location, bytes: Array("{\"ours\": true}".utf8)) }
        #expect(error?.code == .alreadyExists)
        #expect(try await other.read(location) == Array("{\"theirs\": true}".utf8))
    }
}
