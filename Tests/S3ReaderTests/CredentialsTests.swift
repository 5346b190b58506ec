import Foundation
import Testing
import TestSupport

@testable import S3Reader

/// The credential chain: profiles, web identity against the local server's STS, container credentials and
/// IMDSv2 against a fake endpoint on loopback, caching and refresh.
@Suite(.serialized) struct CredentialsTests {
    /// Serves container credentials at /creds (checking the Authorization header) and IMDSv2; prints its
    /// port, then counts requests per path in /count.
    static let fakeServer = #"""
    import sys, json, http.server, threading, datetime
    token = sys.argv[1]
    counts = {}
    expiration = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def reply(self, status, body, ctype="application/json"):
            data = body.encode()
            self.send_response(status); self.send_header("Content-Type", ctype); self.send_header("Content-Length", str(len(data))); self.end_headers()
            self.wfile.write(data)
        def do_PUT(self):
            counts[self.path] = counts.get(self.path, 0) + 1
            if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(200, "imds-session", "text/plain")
            self.reply(403, "")
        def do_GET(self):
            counts[self.path] = counts.get(self.path, 0) + 1
            if self.path == "/count":
                return self.reply(200, json.dumps(counts))
            if self.path == "/creds":
                if self.headers.get("Authorization") != token:
                    return self.reply(401, '{"message": "bad token"}')
                return self.reply(200, json.dumps({"AccessKeyId": "ASIACONTAINER", "SecretAccessKey": "container-secret", "Token": "container-token", "Expiration": expiration}))
            if self.headers.get("X-aws-ec2-metadata-token") != "imds-session":
                return self.reply(401, "")
            if self.path == "/latest/meta-data/iam/security-credentials/":
                return self.reply(200, "node-role\n", "text/plain")
            if self.path == "/latest/meta-data/iam/security-credentials/node-role":
                return self.reply(200, json.dumps({"Code": "Success", "AccessKeyId": "ASIAIMDS", "SecretAccessKey": "imds-secret", "Token": "imds-token", "Expiration": expiration}))
            self.reply(404, "")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """#

    /// Starts the fake server; returns it and its base URL.
    static func startFake(token: String) throws -> (Process, String) {
        let dir = try TestEnvironment.temporaryDirectory("fake-creds")
        let script = dir.appendingPathComponent("fake.py")
        try fakeServer.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TestEnvironment.python())
        process.arguments = ["-u", script.path, token]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        var line = ""
        while !line.hasSuffix("\n") {
            let byte = pipe.fileHandleForReading.readData(ofLength: 1)
            guard !byte.isEmpty else { throw TestEnvironmentError("the fake credentials server did not start") }
            line += String(decoding: byte, as: UTF8.self)
        }
        return (process, "http://127.0.0.1:\(line.trimmingCharacters(in: .whitespacesAndNewlines))")
    }

    @Test func profilesFromSharedFiles() async throws {
        let s3 = try TestEnvironment.s3()
        let dir = try TestEnvironment.temporaryDirectory("profiles")
        defer { TestEnvironment.cleanUp(dir) }
        let credentials = dir.appendingPathComponent("credentials").path, config = dir.appendingPathComponent("config").path
        try """
            [default]
            aws_access_key_id = AKIADEFAULT
            aws_secret_access_key = default-secret
            # a comment
            [dev]
            aws_access_key_id=AKIADEV
            aws_secret_access_key=dev-secret
            aws_session_token=dev-token
            """.write(toFile: credentials, atomically: true, encoding: .utf8)
        try """
            [default]
            region = eu-west-1
            [profile cfg]
            aws_access_key_id = AKIACFG
            aws_secret_access_key = cfg-secret
            [profile dev]
            aws_access_key_id = AKIA-SHADOWED
            [profile analyst]
            role_arn = arn:aws:iam::123456789012:role/analyst
            source_profile = dev
            """.write(toFile: config, atomically: true, encoding: .utf8)
        var env = ["AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": config, "HOME": dir.path, "AWS_ENDPOINT_URL_STS": s3.endpoint]
        #expect(try await ProfileCredentialsProvider(environment: env).credentials() == AWSCredentials(accessKeyID: "AKIADEFAULT", secretAccessKey: "default-secret"))
        #expect(try await ProfileCredentialsProvider(profile: "dev", environment: env).credentials().sessionToken == "dev-token")
        #expect(try await ProfileCredentialsProvider(profile: "cfg", environment: env).credentials().accessKeyID == "AKIACFG")
        // role_arn + source_profile: the source's keys assume the role at STS (the local server's).
        let assumed = try await ProfileCredentialsProvider(profile: "analyst", environment: env).credentials()
        #expect(assumed.accessKeyID.hasPrefix("ASIA") && assumed.sessionToken != nil && assumed.expiration != nil)
        #expect(throws: S3Error.self) { try ProfileCredentialsProvider(profile: "missing", environment: env) }
        env["AWS_PROFILE"] = "dev"
        let chain = DefaultCredentialsChain(environment: env.merging(["AWS_EC2_METADATA_DISABLED": "true"]) { $1 })
        #expect(try await chain.credentials().accessKeyID == "AKIADEV")
        #expect(await chain.sourceName == "profile dev")
    }

    /// IRSA: the token file exchanged at STS (the local server serves it), the credentials then used for S3.
    @Test func webIdentityThroughSTS() async throws {
        let s3 = try TestEnvironment.s3()
        let dir = try TestEnvironment.temporaryDirectory("irsa")
        defer { TestEnvironment.cleanUp(dir) }
        let tokenFile = dir.appendingPathComponent("token").path
        try "eyJhbGciOiJSUzI1NiJ9.service-account-token.sig\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let env = [
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ingest", "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ENDPOINT_URL_STS": s3.endpoint,
            "AWS_REGION": s3.region, "HOME": dir.path, "AWS_EC2_METADATA_DISABLED": "true",
        ]
        let chain = DefaultCredentialsChain(environment: env)
        let credentials = try await chain.credentials()
        #expect(await chain.sourceName == "web identity")
        #expect(credentials.sessionToken != nil && credentials.expiration != nil)
        #expect(!credentials.description.contains(credentials.secretAccessKey))
        if s3.isLocalMoto {
            let client = S3Client(configuration: S3Configuration(region: s3.region, endpoint: s3.endpoint), credentials: chain)
            let bucket = TestEnvironment.uniqueBucketName("irsa")
            try await client.createBucket(bucket)
            try await client.putObject(bucket: bucket, key: "k", body: [7])
            #expect(try await client.getObject(bucket: bucket, key: "k") == [7])
        }
    }

    @Test func containerCredentialsAndIMDSv2() async throws {
        let (server, base) = try Self.startFake(token: "pod-identity-token")
        defer { TestProcesses.stop(server) }
        let dir = try TestEnvironment.temporaryDirectory("container")
        defer { TestEnvironment.cleanUp(dir) }
        let tokenFile = dir.appendingPathComponent("eks-pod-identity-token").path
        try "pod-identity-token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let container = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": base + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile, "HOME": dir.path]
        let chain = DefaultCredentialsChain(environment: container)
        let credentials = try await chain.credentials()
        #expect(credentials.accessKeyID == "ASIACONTAINER" && credentials.sessionToken == "container-token")
        #expect(await chain.sourceName == "container")

        // A wrong token: the error says what failed and never shows the token.
        try "stale-token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        do {
            _ = try await ContainerCredentialsProvider(environment: container)!.credentials()
            Issue.record("a wrong token must fail")
        } catch let error as S3Error {
            #expect(error.status == 401 && !error.description.contains("stale-token"))
        }

        // IMDSv2: session token, role name, credentials.
        let imds = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": base, "HOME": dir.path]
        let fromIMDS = DefaultCredentialsChain(environment: imds)
        #expect(try await fromIMDS.credentials().accessKeyID == "ASIAIMDS")
        #expect(await fromIMDS.sourceName == "imds")

        // Nothing configured: one error listing what was tried.
        do {
            _ = try await DefaultCredentialsChain(environment: ["HOME": dir.path, "AWS_EC2_METADATA_DISABLED": "true"]).credentials()
            Issue.record("no source must fail")
        } catch let error as S3Error {
            #expect(error.code == "NoCredentials")
        }
    }

    @Test func cachedUntilCloseToExpiry() async throws {
        final class Counting: CredentialsProvider, @unchecked Sendable {
            // Safe: `calls` is only touched under the lock.
            let lock = NSLock()
            var calls = 0
            func credentials() async throws -> AWSCredentials {
                let n = lock.withLock { calls += 1; return calls }
                try await Task.sleep(nanoseconds: 20_000_000)
                return AWSCredentials(accessKeyID: "K\(n)", secretAccessKey: "s", sessionToken: "t", expiration: Date(timeIntervalSince1970: 10_000))
            }
        }
        final class Clock: @unchecked Sendable {
            // Safe: `now` is only touched under the lock.
            let lock = NSLock()
            var now = Date(timeIntervalSince1970: 0)
        }
        let inner = Counting(), clock = Clock()
        let cache = CachingCredentialsProvider(inner, refreshBefore: 300, clock: { clock.lock.withLock { clock.now } })
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await cache.credentials().accessKeyID } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(keys) == ["K1"] && inner.lock.withLock { inner.calls } == 1)
        clock.lock.withLock { clock.now = Date(timeIntervalSince1970: 9_000) }  // still 1,000 s left
        #expect(try await cache.credentials().accessKeyID == "K1")
        clock.lock.withLock { clock.now = Date(timeIntervalSince1970: 9_800) }  // within 5 minutes of expiry
        #expect(try await cache.credentials().accessKeyID == "K2")
    }
}
