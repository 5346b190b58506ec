import Foundation
import IcebergCore
import Testing

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
}
