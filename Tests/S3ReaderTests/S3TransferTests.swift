import Foundation
import Testing
import TestSupport

@testable import S3Reader

/// Multipart uploads, batched deletes and streamed reads against the S3 endpoint.
@Suite struct S3TransferTests {
    static func client(transport: any HTTPTransport = CurlTransport.shared) throws -> S3Client {
        let s3 = try TestEnvironment.s3()
        return s3.client(transport: transport)
    }

    /// A transport whose transfers are held to a receive rate delivers every byte, at about the rate: 8 MiB
    /// at 8 MB/s take about a second (1.1 s here; with 256 KiB reads, libcurl let them through in 0.13 s).
    /// A lower bound on a throttle, which a slower machine only makes safer; not a timing assertion on our
    /// speed.
    @Test func aReceiveRateCapHoldsTransfersToIt() async throws {
        var capped = CurlTransport.Configuration()
        capped.maxReceiveBytesPerSecond = 8_000_000
        let client = try Self.client(transport: CurlTransport(configuration: capped))
        let bucket = TestEnvironment.uniqueBucketName("rate")
        try await client.createBucket(bucket)
        var bytes = [UInt8](repeating: 0, count: 8 << 20)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 11) }
        try await client.putObject(bucket: bucket, key: "eight-mib", body: bytes)
        let started = ContinuousClock.now
        let read = try await client.getObject(bucket: bucket, key: "eight-mib")
        let elapsed = ContinuousClock.now - started
        #expect(read == bytes)
        #expect(elapsed >= .milliseconds(300), "8 MiB at 8 MB/s arrived in \(elapsed)")
    }

    @Test func multipartUploadAndStreamedRead() async throws {
        let client = try Self.client()
        let bucket = TestEnvironment.uniqueBucketName("mpu")
        try await client.createBucket(bucket)
        let dir = try TestEnvironment.temporaryDirectory("mpu")
        defer { TestEnvironment.cleanUp(dir) }
        // 13 MiB + 5 bytes: three parts of 5 MiB, the last one short.
        var bytes = [UInt8](repeating: 0, count: 13 << 20 + 5)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        let path = dir.appendingPathComponent("big.bin").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let etag = try await client.uploadFile(path, bucket: bucket, key: "dir/big file+1.bin", threshold: 1 << 20, partSize: 5 << 20, concurrency: 3)
        #expect(etag.contains("-3"))  // a multipart ETag names its part count
        var streamed: [UInt8] = []
        var chunks = 0
        for try await chunk in client.getObjectStream(bucket: bucket, key: "dir/big file+1.bin", chunkSize: 4 << 20) {
            streamed += chunk
            chunks += 1
        }
        #expect(chunks == 4)
        #expect(streamed == bytes)
        // Streamed by the transport into a file, whole and ranged; a missing object is an error, not a file.
        let downloaded = dir.appendingPathComponent("down.bin").path
        #expect(try await client.downloadObject(bucket: bucket, key: "dir/big file+1.bin", to: downloaded) == Int64(bytes.count))
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: downloaded))) == bytes)
        #expect(try await client.downloadObject(bucket: bucket, key: "dir/big file+1.bin", to: downloaded, range: 10..<20) == 10)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: downloaded))) == Array(bytes[10..<20]))
        let missing = dir.appendingPathComponent("missing.bin").path
        await #expect(throws: S3Error.self) { try await client.downloadObject(bucket: bucket, key: "nope", to: missing) }
        #expect(!FileManager.default.fileExists(atPath: missing))
        // A small file goes in one PUT.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        let small = try await client.uploadFile(path, bucket: bucket, key: "small")
        #expect(!small.contains("-"))
        #expect(try await client.getObject(bucket: bucket, key: "small") == [1, 2, 3])
    }

    /// A part that fails aborts the upload: no object, no upload left open.
    @Test func failedMultipartUploadIsAborted() async throws {
        let client = try Self.client()
        let bucket = TestEnvironment.uniqueBucketName("mpu-abort")
        try await client.createBucket(bucket)
        final class FailingParts: HTTPTransport, @unchecked Sendable {
            // Safe: `aborted` is only touched under the lock.
            let lock = NSLock()
            var aborted = false
            func send(_ request: HTTPRequest) async throws -> HTTPResponse {
                if request.method == "PUT", request.url.contains("partNumber=2") {
                    return HTTPResponse(status: 400, body: Array("<Error><Code>InvalidPart</Code><Message>injected</Message></Error>".utf8))
                }
                if request.method == "DELETE", request.url.contains("uploadId=") { lock.withLock { aborted = true } }
                return try await CurlTransport.shared.send(request)
            }
        }
        let transport = FailingParts()
        let failing = try Self.client(transport: transport)
        let dir = try TestEnvironment.temporaryDirectory("mpu-abort")
        defer { TestEnvironment.cleanUp(dir) }
        let path = dir.appendingPathComponent("f.bin").path
        try Data(count: 11 << 20).write(to: URL(fileURLWithPath: path))
        await #expect(throws: S3Error.self) { try await failing.uploadFile(path, bucket: bucket, key: "f", threshold: 1 << 20, partSize: 5 << 20) }
        #expect(transport.lock.withLock { transport.aborted })
        #expect(try await client.headObject(bucket: bucket, key: "f") == nil)
        let uploads = try await client.send("GET", bucket: bucket, query: [("uploads", "")])
        #expect(XMLTree.parse(uploads.body)?.all("Upload").isEmpty == true)
    }

    @Test func deleteObjectsInBatchesOfAThousand() async throws {
        let client = try Self.client()
        let bucket = TestEnvironment.uniqueBucketName("batch-delete")
        try await client.createBucket(bucket)
        // Keys XML spells with care (markup; a carriage return, which a parser would read as a line feed, so
        // the request would name another key and leave this one) or cannot hold (a control character).
        let keys = (0..<1_050).map { "k/\($0) & <odd>" } + ["k/cr\r", "k/crtab\r\t", "k/ctrl\u{1}"]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, key) in keys.enumerated() {
                if i >= 32 { try await group.next() }
                group.addTask { try await client.putObject(bucket: bucket, key: key, body: [1]) }
            }
            try await group.waitForAll()
        }
        let failed = try await client.deleteObjects(bucket: bucket, keys: keys + ["never-existed"])
        #expect(failed.isEmpty, "\(failed)")
        var left: [String] = []
        for try await page in client.listAllPages(bucket: bucket) { left += page.objects.map(\.key) }
        #expect(left.isEmpty, "\(left.map { $0.debugDescription })")
    }

    /// What S3 refuses comes back under the key asked for: a batch's error names a carriage-return key with
    /// a raw CR (read as a line feed), and a key XML cannot carry goes on a DELETE of its own, whose refusal
    /// is reported too. S3 (and moto) refuse neither here, so the answers are scripted.
    @Test func refusedKeysComeBackAsAsked() async throws {
        let transport = ScriptedTransport([
            .body(200, "<DeleteResult><Error><Key>k/cr\r</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>"),
            .status(403, "AccessDenied"),
        ])
        let client = RetryTests.client(transport)
        let failed = try await client.deleteObjects(bucket: "b", keys: ["k/a", "k/cr\r", "k/ctrl\u{1}"])
        #expect(failed.map(\.key) == ["k/cr\r", "k/ctrl\u{1}"] && failed.allSatisfy { $0.code == "AccessDenied" }, "\(failed)")
        let sent = transport.sent
        #expect(sent.map(\.method) == ["POST", "DELETE"])
        let body = String(decoding: sent.first?.body ?? [], as: UTF8.self)
        #expect(body.contains("<Key>k/a</Key>") && body.contains("<Key>k/cr&#13;</Key>") && !body.contains("ctrl"), "\(body)")
        #expect(sent.last?.url.hasSuffix("/b/k/ctrl%01") == true, "\(sent.last?.url ?? "")")
    }

    /// A batch whose answer is not a `DeleteResult` deleted nothing for sure: every key comes back with the
    /// error's code (or `MalformedResponse`). Two keys that would read back alike in an answer (CR and LF) are
    /// never in one batch: the second is deleted on its own.
    @Test(arguments: [
        ("<Error><Code>InternalError</Code><Message>try again</Message></Error>", "InternalError"),
        ("<html>proxy says hello", "MalformedResponse"),
        ("<Unexpected/>", "MalformedResponse"),
    ])
    func unconfirmedBatchesComeBackAsFailed(answer: String, code: String) async throws {
        let transport = ScriptedTransport([.body(200, answer), .status(204, "")])
        let client = RetryTests.client(transport)
        let failed = try await client.deleteObjects(bucket: "b", keys: ["k/a", "k/x\n", "k/x\r"])
        #expect(failed.map(\.key) == ["k/a", "k/x\n"] && failed.allSatisfy { $0.code == code }, "\(failed)")
        let sent = transport.sent
        #expect(sent.map(\.method) == ["POST", "DELETE"])
        #expect(sent.last?.url.hasSuffix("/b/k/x%0D") == true, "\(sent.last?.url ?? "")")
    }
}
