import Foundation
import Testing
import TestSupport

@testable import S3Reader

/// A machine whose clock is off by more than S3 accepts (15 minutes): S3 refuses every request with
/// `RequestTimeTooSkewed`. The client learns S3's time from the refusal and signs with it from then on, as
/// the AWS SDKs do: one refused request per client, not a failed run. The client's clock is set `offset`
/// seconds behind; the gate in front of the endpoint checks the time as S3 does (moto does not; MinIO and
/// AWS check it again behind the gate).
@Suite struct ClockSkewTests {
    static func client(_ gate: SkewedClockGate, behindBy offset: TimeInterval) throws -> S3Client {
        var policy = RetryPolicy()
        policy.baseDelay = .milliseconds(1)
        policy.maxDelay = .milliseconds(5)
        let s3 = try TestEnvironment.s3()
        return S3Client(
            configuration: S3Configuration(region: s3.region, endpoint: s3.endpoint),
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: s3.accessKeyID, secretAccessKey: s3.secretAccessKey, sessionToken: s3.sessionToken)),
            transport: gate, retryPolicy: policy, clock: { Date().addingTimeInterval(-offset) })
    }

    @Test(arguments: [3_600.0, -20 * 60.0, 2 * 86_400.0]) func aSkewedClockCostsOneRefusedRequest(offset: TimeInterval) async throws {
        let gate = SkewedClockGate(offset: 0)
        let client = try Self.client(gate, behindBy: offset)
        let bucket = TestEnvironment.uniqueBucketName("skew")
        try await client.createBucket(bucket)
        #expect(gate.refused == 1 && gate.passed == 1)
        // From then on every request (a copy of the client too) is signed with the server's time.
        _ = try await client.putObject(bucket: bucket, key: "k", body: [1, 2, 3])
        let copy = client
        #expect(try await copy.getObject(bucket: bucket, key: "k") == [1, 2, 3])
        #expect(gate.refused == 1 && gate.passed == 3)
    }

    @Test func aConditionalCreateRefusedForSkewIsTriedAgain() async throws {
        // Refused before it was applied, so repeating it cannot report a false conflict.
        let bucket = TestEnvironment.uniqueBucketName("skew")
        try await TestEnvironment.s3().client().createBucket(bucket)
        let gate = SkewedClockGate(offset: 0)
        _ = try await Self.client(gate, behindBy: -3_600).putObject(bucket: bucket, key: "k", body: [1], ifNoneMatch: "*")
        #expect(gate.refused == 1 && gate.passed == 1)
    }

    @Test func theServerTimeInTheBodyIsUsedWithoutADateHeader() async throws {
        let bucket = TestEnvironment.uniqueBucketName("skew")
        let gate = SkewedClockGate(offset: 0, dateHeader: false)
        try await Self.client(gate, behindBy: 7_200).createBucket(bucket)
        #expect(gate.refused == 1 && gate.passed == 1)
    }

    @Test func aClockWithinFifteenMinutesIsNotCorrected() async throws {
        let bucket = TestEnvironment.uniqueBucketName("skew")
        let gate = SkewedClockGate(offset: 0)
        let client = try Self.client(gate, behindBy: 10 * 60)
        try await client.createBucket(bucket)
        #expect(gate.refused == 0 && gate.passed == 1)
        #expect(client.skew.seconds == 0)
    }
}
