import Foundation
import Testing
import TestSupport

@testable import S3Reader

/// Against a moto server of its own with signature checking on: our signatures are accepted, and a wrong
/// secret is refused with 403. (moto only checks signatures once its first few unauthenticated calls,
/// which create the IAM user and key, are used up.)
@Suite struct SignatureCheckTests {
    @Test func serverWithAuthAcceptsOurSignaturesAndRefusesAWrongSecret() async throws {
        let python = try TestEnvironment.python()
        let moto = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("moto_server").path
        guard FileManager.default.isExecutableFile(atPath: moto) else { throw TestEnvironmentError("moto_server missing at \(moto)") }
        let port = try await PythonTool.run("import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: moto)
        server.arguments = ["-H", "127.0.0.1", "-p", port]
        var environment = ProcessInfo.processInfo.environment
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        server.environment = environment
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { TestProcesses.stop(server) }
        let endpoint = "http://127.0.0.1:\(port)"
        // Wait for it, then create a user with an access key and an S3 policy (the three free calls).
        let keyText = try await PythonTool.run(
            """
            import sys, time, json, boto3, urllib.request
            for _ in range(150):
                try:
                    urllib.request.urlopen(sys.argv[1] + "/moto-api/"); break
                except Exception:
                    time.sleep(0.2)
            iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
            iam.create_user(UserName="ingest")
            iam.put_user_policy(UserName="ingest", PolicyName="s3", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
            key = iam.create_access_key(UserName="ingest")["AccessKey"]
            print(key["AccessKeyId"], key["SecretAccessKey"])
            """, arguments: [endpoint])
        let parts = keyText.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let good = AWSCredentials(accessKeyID: parts[0], secretAccessKey: parts[1])
        let configuration = S3Configuration(region: "us-east-1", endpoint: endpoint)
        let client = S3Client(configuration: configuration, credentials: StaticCredentialsProvider(good))
        try await client.createBucket("signed")
        try await client.putObject(bucket: "signed", key: "a b/ü+=.json", body: Array("{}".utf8))
        #expect(try await client.getObject(bucket: "signed", key: "a b/ü+=.json") == Array("{}".utf8))
        // A body streamed from a file is signed with UNSIGNED-PAYLOAD, and accepted.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("signed-\(UUID().uuidString.prefix(6)).bin")
        try Data([1, 2, 3, 4]).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try await client.uploadFile(file.path, bucket: "signed", key: "streamed b+.bin")
        #expect(try await client.getObject(bucket: "signed", key: "streamed b+.bin") == [1, 2, 3, 4])
        #expect(try await client.listObjectsV2(bucket: "signed", prefix: "a b/").objects.map(\.key) == ["a b/ü+=.json"])

        var wrong = good
        wrong.secretAccessKey = "not-the-secret"
        let refused = S3Client(configuration: configuration, credentials: StaticCredentialsProvider(wrong))
        let error = await #expect(throws: S3Error.self) { try await refused.getObject(bucket: "signed", key: "a b/ü+=.json") }
        #expect(error?.status == 403)
        #expect(error.map { !$0.description.contains("not-the-secret") } == true)
    }
}
