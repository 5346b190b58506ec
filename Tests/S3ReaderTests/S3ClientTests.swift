import Foundation
import IcebergCore
import IcebergS3
import Testing
import TestSupport

@testable import S3Reader

/// The client against the suite's S3 endpoint (moto by default, or S3_ENDPOINT: MinIO, AWS).
@Suite struct S3ClientTests {
    /// Listing timestamps are parsed by hand (1,000 a page); the result equals `ISO8601DateFormatter`'s for
    /// S3's forms over four centuries, leap days included, and anything else falls back to the formatter.
    @Test func listingTimestampsParseLikeTheFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SystemRandomNumberGenerator()
        var samples = ["2024-02-29T23:59:59.999Z", "2000-03-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z", "2026-11-29T10:00:01.5Z", "1900-02-28T12:00:00Z"]
        for _ in 0..<2000 {
            let seconds = Int64.random(in: -2_208_988_800...7_258_118_400, using: &generator)  // 1900 to 2200
            let millis = Int.random(in: 0..<1000, using: &generator)
            let text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds) + Double(millis) / 1000))
            samples.append(text)
        }
        for text in samples {
            let expected = formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
            let parsed = S3Client.fastISODate(text)
            #expect(parsed != nil && abs(parsed!.timeIntervalSince1970 - expected!.timeIntervalSince1970) < 0.0005, "\(text): \(String(describing: parsed)) vs \(String(describing: expected))")
        }
        #expect(S3Client.fastISODate("2026-11-29T10:00:01+01:00") == nil)
        #expect(S3Client.isoDate("2026-11-29T10:00:01+01:00")?.timeIntervalSince1970 == 1_795_942_801)
        #expect(S3Client.fastISODate("2026-13-29T10:00:01Z") == nil && S3Client.fastISODate("2026-11-29T10:00:01.Z") == nil)
    }

    static func client() throws -> S3Client {
        let s3 = try TestEnvironment.s3()
        return s3.client()
    }

    static func bucket(_ client: S3Client, _ label: String) async throws -> String {
        let name = TestEnvironment.uniqueBucketName(label)
        try await client.createBucket(name)
        return name
    }

    @Test func objectsRangesConditionsAndErrors() async throws {
        let s3 = try Self.client()
        let bucket = try await Self.bucket(s3, "objects")
        let key = "raw/2026/11/24/10/my key+1=2 ü.json"
        let body = Array((0..<1000).map { UInt8($0 % 251) })
        let etag = try await s3.putObject(bucket: bucket, key: key, body: body, contentType: "application/json")
        #expect(!etag.isEmpty)
        #expect(try await s3.getObject(bucket: bucket, key: key) == body)
        #expect(try await s3.getObject(bucket: bucket, key: key, range: 10..<20) == Array(body[10..<20]))
        let head = try #require(try await s3.headObject(bucket: bucket, key: key))
        #expect(head.size == 1000)
        #expect(head.etag == etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        // If-None-Match: * on an existing key fails with 412, and the object is unchanged.
        let conflict = await #expect(throws: S3Error.self) { try await s3.putObject(bucket: bucket, key: key, body: [1], ifNoneMatch: "*") }
        #expect(conflict?.isPreconditionFailure == true)
        #expect(try await s3.getObject(bucket: bucket, key: key) == body)
        // If-Match with the right ETag replaces; with a wrong one fails.
        try await s3.putObject(bucket: bucket, key: key, body: [2], ifMatch: etag)
        let stale = await #expect(throws: S3Error.self) { try await s3.putObject(bucket: bucket, key: key, body: [3], ifMatch: etag) }
        #expect(stale?.isPreconditionFailure == true)
        // Errors carry S3's code and name the object.
        let missing = await #expect(throws: S3Error.self) { try await s3.getObject(bucket: bucket, key: "nope/x") }
        #expect(missing?.code == "NoSuchKey")
        #expect(missing?.status == 404)
        #expect(missing?.description.contains("s3://\(bucket)/nope/x") == true)
        try await s3.deleteObject(bucket: bucket, key: key)
        #expect(try await s3.headObject(bucket: bucket, key: key) == nil)
    }

    /// Object keys are data, never paths: keys with `..`, `.`, `//`, `%2F`, unicode, control characters and
    /// 1,024 bytes name exactly those objects. (A key with `../` segments once read an object of another
    /// bucket: libcurl collapsed the dot segments.) boto3 lists the same keys back.
    @Test func hostileKeysNameExactlyTheirObjects() async throws {
        let s3 = try Self.client()
        let bucket = try await Self.bucket(s3, "keys")
        let other = try await Self.bucket(s3, "other")
        try await s3.putObject(bucket: other, key: "secret.json", body: Array("secret".utf8))
        let keys = [
            "prefix/2025/01/02/03/../../../../../../\(other)/secret.json", "a/./b/../c", "a//b", "./x", "../y", "a%2Fb",
            "unicode/é/日本/🙂", "control/\u{1}\u{7f}\t.json", "space and+plus?&=#", String(repeating: "k", count: 1_024),
            "line/cr\r.json", "line/cr\r/b.json", "xml/<&>'\"]]>.json", "percent/%41%zz%+.json",
        ]
        for (i, key) in keys.enumerated() {
            try await s3.putObject(bucket: bucket, key: key, body: Array("body \(i)".utf8))
        }
        for (i, key) in keys.enumerated() {
            #expect(try await s3.getObject(bucket: bucket, key: key) == Array("body \(i)".utf8), "\(key)")
        }
        #expect(try await s3.getObject(bucket: other, key: "secret.json") == Array("secret".utf8))
        let s3Endpoint = try TestEnvironment.s3()
        let listed = try await PythonTool.run(
            """
            import sys, json, boto3
            s3 = boto3.client("s3", endpoint_url=sys.argv[1])
            keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[2]) for o in p.get("Contents", [])]
            print(json.dumps(sorted(keys)))
            """, arguments: [s3Endpoint.endpoint, bucket])
        let parsed = try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [String]
        #expect(parsed == keys.sorted(), "boto3 lists \(parsed ?? [])")
        var ours: [String] = []
        for try await page in s3.listAllPages(bucket: bucket, maxKeys: 5) { ours += page.objects.map(\.key) }
        #expect(ours == keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }, "we list \(ours.map { $0.debugDescription })")
        let prefixes = try await s3.listObjectsV2(bucket: bucket, prefix: "line/", delimiter: "\r").commonPrefixes
        #expect(prefixes == ["line/cr\r"], "\(prefixes.map { $0.debugDescription })")
    }

    /// What the listing decodes and the bulk delete writes, for the characters moto never sends or keeps: a
    /// plus for a space (S3 spells a space so), CR LF, U+FFFF.
    @Test func keysSurviveTheListingsEncodingAndTheDeleteBodysXML() {
        #expect(S3Client.urlDecoded("a+b%2B%20c%0D%E2%82%AC") == "a b+ c\r€")
        #expect(S3Client.urlDecoded("bad%zz") == nil)
        #expect(S3Client.xmlEscaped("a\r\nb\t<&>'\"é") == "a&#13;&#10;b&#9;&lt;&amp;&gt;&apos;&quot;é")
        #expect(S3Client.xmlNormalizedLineEnds("a\r\nb\rc\nd\r") == "a\nb\nc\nd\n")
        #expect(!S3Client.xmlCanCarry("a\u{1}") && !S3Client.xmlCanCarry("a\u{FFFF}") && S3Client.xmlCanCarry("a\r\n\t€"))
    }

    @Test func listingWithPrefixDelimiterStartAfterAndContinuation() async throws {
        let s3 = try Self.client()
        let bucket = try await Self.bucket(s3, "listing")
        let keys = (0..<5).flatMap { hour in (0..<3).map { "raw/2026/11/24/\(String(format: "%02d", hour))/part-\($0).gz" } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in keys { group.addTask { try await s3.putObject(bucket: bucket, key: key, body: Array(key.utf8)) } }
            try await group.waitForAll()
        }
        let hours = try await s3.listObjectsV2(bucket: bucket, prefix: "raw/2026/11/24/", delimiter: "/")
        #expect(hours.commonPrefixes == (0..<5).map { "raw/2026/11/24/\(String(format: "%02d", $0))/" })
        #expect(hours.objects.isEmpty)
        var pages = 0
        var listed: [String] = []
        for try await page in s3.listAllPages(bucket: bucket, prefix: "raw/", maxKeys: 4) {
            pages += 1
            listed += page.objects.map(\.key)
        }
        #expect(pages == 4)
        #expect(listed == keys.sorted())
        let after = try await s3.listObjectsV2(bucket: bucket, prefix: "raw/", startAfter: "raw/2026/11/24/03/part-2.gz")
        #expect(after.objects.map(\.key) == keys.sorted().filter { $0 > "raw/2026/11/24/03/part-2.gz" })
        #expect(after.objects.allSatisfy { $0.size > 0 && !$0.etag.isEmpty && $0.lastModified.timeIntervalSince1970 > 1_700_000_000 })
    }

    /// The FileIO contract over S3, including eight racing exclusive creates of which exactly one wins.
    @Test func s3FileIOContract() async throws {
        let s3 = try Self.client()
        let bucket = try await Self.bucket(s3, "fileio")
        let io = S3FileIO(client: s3)
        let base = "s3://\(bucket)/wh/db/t/"
        try await io.write(base + "data/a.parquet", bytes: [1, 2, 3, 4, 5])
        #expect(try await io.read(base + "data/a.parquet") == [1, 2, 3, 4, 5])
        #expect(try await io.read(base + "data/a.parquet", range: 1..<3) == [2, 3])
        #expect(try await io.size(base + "data/a.parquet") == 5)
        #expect(try await io.exists(base + "data/a.parquet"))
        #expect(try await io.list(prefix: base).map(\.location) == [base + "data/a.parquet"])
        let missing = await #expect(throws: IcebergError.self) { try await io.read(base + "nope") }
        #expect(missing?.code == .notFound)
        let target = base + "metadata/00001.metadata.json"
        let winners = await withTaskGroup(of: UInt8?.self) { group in
            for writer in UInt8(0)..<8 {
                group.addTask { (try? await io.writeIfAbsent(target, bytes: [writer])) == nil ? nil : writer }
            }
            var won: [UInt8] = []
            for await result in group { if let result { won.append(result) } }
            return won
        }
        #expect(winners.count == 1)
        #expect(try await io.read(target) == winners)
        let again = await #expect(throws: IcebergError.self) { try await io.writeIfAbsent(target, bytes: [9]) }
        #expect(again?.code == .alreadyExists)
        try await io.delete(target)
        #expect(try await !io.exists(target))
    }

    /// 200 requests at once through one transport: every one completes (64 run at a time, on their own threads).
    @Test func manyRequestsInFlight() async throws {
        let s3 = try Self.client()
        let bucket = try await Self.bucket(s3, "concurrency")
        try await s3.putObject(bucket: bucket, key: "k", body: Array("payload".utf8))
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<200 { group.addTask { try await s3.getObject(bucket: bucket, key: "k").count } }
            var sizes: [Int] = []
            for try await size in group { sizes.append(size) }
            return sizes
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { $0 == 7 })
    }
}
