import Foundation
import Testing
import TestSupport

@testable import S3Reader

/// Our signer against botocore's (`S3SigV4Auth`, `S3SigV4QueryAuth`) on the same requests at the same instant.
@Suite struct SigV4SignerTests {
    struct Case {
        var method: String
        var host: String
        var key: String
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        var body: [UInt8]? = nil  // nil: unsigned payload
        var token: String? = nil
    }

    static let date = Date(timeIntervalSince1970: 1_795_568_523)  // 2026-11-25T01:02:03Z
    static let cases: [Case] = [
        Case(method: "GET", host: "bucket.s3.eu-west-1.amazonaws.com", key: "raw/events/2026/11/24/10/part-0001.gz", body: []),
        Case(method: "GET", host: "s3.eu-west-1.amazonaws.com", key: "bucket/dir/my key+1=2 ü/é~x.json", query: [("versionId", "a/b+c=")],
             body: [], token: "FQoGZXIvYXdzEJr//////////wEaDO+token="),
        Case(method: "PUT", host: "127.0.0.1:9000", key: "bucket/wh/db/t/metadata/00001-x.metadata.json",
             headers: [("Content-Type", "application/json"), ("x-amz-meta-note", "  two   spaces  "), ("If-None-Match", "*")],
             body: Array("{\"format-version\":2}".utf8)),
        Case(method: "PUT", host: "bucket.s3.us-east-1.amazonaws.com", key: "data/part-00000.parquet",
             headers: [("Content-Length", "1048576")], body: nil, token: "tok"),
        Case(method: "GET", host: "s3.us-east-1.amazonaws.com", key: "bucket",
             query: [("list-type", "2"), ("prefix", "raw/2026/11/"), ("delimiter", "/"), ("start-after", "raw/2026/11/24/09/z"),
                     ("continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="), ("max-keys", "1000")], body: []),
        Case(method: "GET", host: "bucket.s3.eu-west-1.amazonaws.com", key: "a.gz", headers: [("Range", "bytes=100-199")], body: []),
        Case(method: "POST", host: "bucket.s3.eu-west-1.amazonaws.com", key: "", query: [("delete", "")],
             headers: [("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")], body: Array("<Delete></Delete>".utf8)),
    ]

    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    static let oracle = #"""
    import sys, json, datetime
    import botocore.auth, botocore.compat
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.config import Config
    from botocore.utils import percent_encode
    from urllib.parse import quote
    fixed = datetime.datetime(2026, 11, 25, 1, 2, 3)
    botocore.auth.get_current_datetime = lambda *a, **k: fixed
    cases = json.loads(sys.stdin.read())
    out = []
    for c in cases:
        creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", c["token"])
        path = "/" + percent_encode(c["key"], safe="/~") if c["key"] else "/"
        query = "&".join("%s=%s" % (quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in c["query"])
        url = "http://" + c["host"] + path + ("?" + query if query else "")
        headers = dict(c["headers"])
        body = bytes(c["body"]) if c["body"] is not None else b"streamed body"
        req = AWSRequest(method=c["method"], url=url, headers=headers, data=body)
        if c["body"] is None:
            req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
        botocore.auth.S3SigV4Auth(creds, "s3", c["region"]).add_auth(req)
        presign = AWSRequest(method=c["method"], url=url)
        botocore.auth.S3SigV4QueryAuth(creds, "s3", c["region"], expires=3600).add_auth(presign)
        out.append({"path": path, "authorization": req.headers["Authorization"], "date": req.headers["X-Amz-Date"],
                    "sha": req.headers["X-Amz-Content-SHA256"], "token": req.headers.get("X-Amz-Security-Token"),
                    "presigned": presign.url})
    print(json.dumps(out))
    """#

    static func region(_ host: String) -> String {
        host.contains("eu-west-1") ? "eu-west-1" : "us-east-1"
    }

    @Test func signaturesMatchBotocore() async throws {
        let input: [[String: Any]] = Self.cases.map { c in
            ["method": c.method, "host": c.host, "key": c.key, "query": c.query.map { [$0.0, $0.1] },
             "headers": c.headers.map { [$0.0, $0.1] }, "body": c.body.map { $0.map(Int.init) } as Any, "token": c.token as Any,
             "region": Self.region(c.host)]
        }
        let stdin = try JSONSerialization.data(withJSONObject: input)
        let output = try await PythonTool.run(Self.oracle, stdin: stdin)
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
        #expect(expected.count == Self.cases.count)
        for (c, want) in zip(Self.cases, expected) {
            let path = c.key.isEmpty ? "/" : "/" + S3URIEncoding.path(c.key)
            #expect(path == want["path"] as? String, "key encoding of '\(c.key)'")
            let signer = SigV4Signer(region: Self.region(c.host))
            var credentials = Self.credentials
            credentials.sessionToken = c.token
            let request = SignableRequest(
                method: c.method, host: c.host, path: path, query: c.query, headers: c.headers,
                payload: c.body.map { SigV4Signer.Payload.hashing($0) } ?? .unsigned)
            let headers = Dictionary(signer.sign(request, credentials: credentials, date: Self.date), uniquingKeysWith: { a, _ in a })
            #expect(headers["Authorization"] == want["authorization"] as? String, "\(c.method) \(c.key)")
            #expect(headers["X-Amz-Date"] == want["date"] as? String)
            #expect(headers["X-Amz-Content-SHA256"] == want["sha"] as? String)
            #expect(headers["X-Amz-Security-Token"] == want["token"] as? String)
            // Presigned URLs: the same parameters and signature (botocore orders them its own way).
            let ours = signer.presign(
                SignableRequest(method: c.method, host: c.host, path: path, query: c.query), scheme: "http",
                credentials: credentials, date: Self.date, expires: 3600)
            #expect(Self.queryItems(ours) == Self.queryItems(want["presigned"] as? String ?? ""), "presigned \(c.method) \(c.key)")
            #expect(ours.hasPrefix("http://\(c.host)\(path)?"))
        }
    }

    static func queryItems(_ url: String) -> [String: String] {
        guard let query = url.split(separator: "?", maxSplits: 1).last else { return [:] }
        var items: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            items[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return items
    }

    @Test func secretsNeverAppearInDescriptions() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "very-secret", sessionToken: "token-secret")
        let text = "\(credentials) \(String(reflecting: credentials))"
        #expect(!text.contains("very-secret"))
        #expect(!text.contains("token-secret"))
        #expect(text.contains("AKID"))
    }

    /// The AWS documentation's example (GET /test.txt with a Range header, examplebucket, 2013-05-24).
    @Test func awsDocumentationExample() {
        let signer = SigV4Signer(region: "us-east-1")
        let request = SignableRequest(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", headers: [("Range", "bytes=0-9")], payload: .empty)
        let headers = Dictionary(signer.sign(request, credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                                             date: Date(timeIntervalSince1970: 1_369_353_600)), uniquingKeysWith: { a, _ in a })
        #expect(headers["Authorization"] == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }
}

/// Credentials in an endpoint never reach a message: user and password, and presigned queries, are cut.
@Suite struct RedactionTests {
    @Test func urlsLoseTheirSecrets() {
        #expect(CurlTransport.redacted("http://minio:s3cr3t@127.0.0.1:9000/bucket/key?X-Amz-Signature=abc") == "http://***@127.0.0.1:9000/bucket/key")
        #expect(CurlTransport.redacted("https://host/path/a@b") == "https://host/path/a@b")
        #expect(CurlTransport.redacted("https://host") == "https://host")
    }
}
