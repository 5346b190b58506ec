import Foundation

extension S3Client {
    /// Uploads a local file, in one PUT below `threshold` bytes and as a multipart upload above it: parts of
    /// `partSize` bytes streamed from the file as they are sent (never whole in memory), `concurrency` in
    /// flight, completed in order; on any failure the upload is aborted so no parts are left billed.
    /// Returns the ETag.
    ///
    /// ```swift
    /// try await s3.uploadFile("/tmp/spool/part-0.parquet", bucket: "lake", key: "wh/db/t/data/part-0.parquet")
    /// ```
    @discardableResult
    public func uploadFile(
        _ path: String, bucket: String, key: String, threshold: Int64 = 64 << 20, partSize: Int64 = 16 << 20, concurrency: Int = 4
    ) async throws -> String {
        let size = try Self.fileSize(path)
        if size < threshold {
            let response = try await send("PUT", bucket: bucket, key: key, bodyFile: (path, 0..<size))
            return response.headers["etag"] ?? ""
        }
        guard partSize >= 5 << 20 else { throw S3Error(code: "InvalidArgument", message: "multipart parts must be at least 5 MiB", bucket: bucket, key: key) }
        let uploadID = try await createMultipartUpload(bucket: bucket, key: key)
        do {
            let parts = Int((size + partSize - 1) / partSize)
            let etags = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var etags = [String](repeating: "", count: parts)
                var next = 0
                func start(_ index: Int) {
                    let range = Int64(index) * partSize..<min(size, Int64(index + 1) * partSize)
                    group.addTask {
                        // The part streams from the file: memory holds what curl has in flight.
                        let response = try await send(
                            "PUT", bucket: bucket, key: key, query: [("partNumber", String(index + 1)), ("uploadId", uploadID)], bodyFile: (path, range))
                        guard let etag = response.headers["etag"] else {
                            throw S3Error(code: "MalformedResponse", message: "UploadPart \(index + 1) answered without an ETag", bucket: bucket, key: key)
                        }
                        return (index, etag)
                    }
                }
                while next < min(concurrency, parts) { start(next); next += 1 }
                for try await (index, etag) in group {
                    etags[index] = etag
                    if next < parts { start(next); next += 1 }
                }
                return etags
            }
            return try await completeMultipartUpload(bucket: bucket, key: key, uploadID: uploadID, etags: etags)
        } catch {
            try? await abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID)
            throw error
        }
    }

    /// Starts a multipart upload; returns its UploadId.
    public func createMultipartUpload(bucket: String, key: String) async throws -> String {
        let response = try await send("POST", bucket: bucket, key: key, query: [("uploads", "")])
        guard let id = XMLTree.parse(response.body)?.value("UploadId") else {
            throw S3Error(code: "MalformedResponse", message: "CreateMultipartUpload answered without an UploadId", bucket: bucket, key: key, status: response.status)
        }
        return id
    }

    /// Uploads part `number` (1-based); returns its ETag.
    public func uploadPart(bucket: String, key: String, uploadID: String, number: Int, body: [UInt8]) async throws -> String {
        let response = try await send("PUT", bucket: bucket, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], body: body)
        guard let etag = response.headers["etag"] else {
            throw S3Error(code: "MalformedResponse", message: "UploadPart \(number) answered without an ETag", bucket: bucket, key: key, status: response.status)
        }
        return etag
    }

    /// Completes an upload from its parts' ETags, in part order. S3 can answer 200 with an error in the
    /// body; that is reported as an error.
    @discardableResult
    public func completeMultipartUpload(bucket: String, key: String, uploadID: String, etags: [String]) async throws -> String {
        var xml = "<CompleteMultipartUpload>"
        for (i, etag) in etags.enumerated() { xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\(etag)</ETag></Part>" }
        xml += "</CompleteMultipartUpload>"
        let response = try await send("POST", bucket: bucket, key: key, query: [("uploadId", uploadID)], body: Array(xml.utf8))
        let tree = XMLTree.parse(response.body)
        if tree?.name == "Error" { throw Self.error(HTTPResponse(status: 500, headers: response.headers, body: response.body), bucket: bucket, key: key) }
        return tree?.value("ETag") ?? ""
    }

    /// Abandons an upload and frees its parts.
    public func abortMultipartUpload(bucket: String, key: String, uploadID: String) async throws {
        _ = try await send("DELETE", bucket: bucket, key: key, query: [("uploadId", uploadID)], accept: [404])
    }

    /// Deletes keys in batches of 1,000 (S3's limit per DeleteObjects request, with the Content-MD5 it
    /// requires); returns the keys S3 could not delete with its error code. Missing keys count as deleted.
    /// A key with a character XML cannot carry (a control character but tab, line feed and carriage return)
    /// is deleted on its own request instead, after the batches, and reported the same way when S3 refuses;
    /// so is a key whose refusal could not be told from another one's (S3 spells a carriage return raw,
    /// which reads back as a line feed: `a\rb` after `a\nb`). A batch answered with anything but a
    /// `DeleteResult` (S3 can answer 200 with an `<Error>`) deleted nothing for sure: each of its keys is
    /// reported with that error's code, or `MalformedResponse`.
    ///
    ///     let refused = try await client.deleteObjects(bucket: "lake", keys: ["tmp/a.parquet", "tmp/b.parquet"])
    ///     for (key, code) in refused { print("kept \(key): \(code)") }
    public func deleteObjects(bucket: String, keys: [String]) async throws -> [(key: String, code: String)] {
        var failed: [(key: String, code: String)] = []
        var batched: [String] = [], alone: [String] = []
        // Each batched key under the form S3's answer reads back as (a carriage return spelled raw reads as a
        // line feed): a key whose form another batched key has already goes alone.
        var asked: [String: String] = [:]
        for key in keys {
            let form = Self.xmlNormalizedLineEnds(key)
            if Self.xmlCanCarry(key), asked[form] == nil {
                asked[form] = key
                batched.append(key)
            } else {
                alone.append(key)
            }
        }
        var start = 0
        while start < batched.count {
            let batch = batched[start..<min(batched.count, start + 1000)]
            start += batch.count
            var xml = "<Delete><Quiet>true</Quiet>"
            for key in batch { xml += "<Object><Key>\(Self.xmlEscaped(key))</Key></Object>" }
            xml += "</Delete>"
            let body = Array(xml.utf8)
            let md5 = Data(Digest.md5(body)).base64EncodedString()
            let response = try await send("POST", bucket: bucket, query: [("delete", "")], headers: [("Content-MD5", md5)], body: body)
            let answer = XMLTree.parse(response.body)
            guard let answer, answer.name == "DeleteResult" else {
                let code = answer?.name == "Error" ? answer?.value("Code") : nil
                failed += batch.map { ($0, code ?? "MalformedResponse") }
                continue
            }
            for error in answer.all("Error") {
                let reported = error.value("Key") ?? ""
                failed.append((asked[reported] ?? reported, error.value("Code") ?? "Unknown"))
            }
        }
        for key in alone {
            do {
                try await deleteObject(bucket: bucket, key: key)
            } catch let error as S3Error {
                failed.append((key, error.code))
            }
        }
        return failed
    }

    /// Streams the object (or `range` of it) into a local file as it arrives; returns the bytes written.
    @discardableResult
    public func downloadObject(bucket: String, key: String, to path: String, range: Range<Int64>? = nil) async throws -> Int64 {
        var headers: [(String, String)] = []
        if let range, !range.isEmpty { headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")) }
        _ = try await send("GET", bucket: bucket, key: key, headers: headers, responseFile: path)
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }  // an empty object
        return try Self.fileSize(path)
    }

    /// The object's bytes as a stream of chunks of `chunkSize` (ranged GETs, the next one in flight while
    /// the caller handles the current one): memory stays bounded whatever the object's size.
    public func getObjectStream(bucket: String, key: String, chunkSize: Int64 = 8 << 20) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    guard let head = try await headObject(bucket: bucket, key: key) else {
                        throw S3Error(code: "NoSuchKey", message: "no such object", bucket: bucket, key: key, status: 404)
                    }
                    var offset: Int64 = 0
                    var ahead: Task<[UInt8], any Error>? = nil
                    func fetch(_ from: Int64) -> Task<[UInt8], any Error>? {
                        guard from < head.size else { return nil }
                        let range = from..<min(head.size, from + chunkSize)
                        return Task { try await getObject(bucket: bucket, key: key, range: range) }
                    }
                    ahead = fetch(0)
                    while let current = ahead {
                        let chunk = try await current.value
                        offset += Int64(chunk.count)
                        ahead = fetch(offset)
                        continuation.yield(chunk)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// `text` as XML character data; tab, line feed and carriage return as character references, which an
    /// XML parser keeps as they are (it turns a literal carriage return into a line feed).
    static func xmlEscaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            case "\n": out += "&#10;"
            case "\t": out += "&#9;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Whether XML 1.0 can hold `text` at all: no control character but tab, line feed and carriage return,
    /// and neither U+FFFE nor U+FFFF.
    static func xmlCanCarry(_ text: String) -> Bool {
        !text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r") || $0.value == 0xFFFE || $0.value == 0xFFFF }
    }

    /// `text` as an XML parser reads it back when its line ends are written raw: CR LF and CR as LF.
    static func xmlNormalizedLineEnds(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var afterCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n", afterCR {
                afterCR = false
                continue
            }
            afterCR = scalar == "\r"
            out.append(afterCR ? "\n" : scalar)
        }
        return String(out)
    }

    static func fileSize(_ path: String) throws -> Int64 {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber else {
            throw S3Error(code: "LocalFile", message: "cannot read \(path)")
        }
        return size.int64Value
    }
}
