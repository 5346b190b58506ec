import IcebergCore
import S3Reader

/// IcebergCore's ``FileIO`` over S3, for locations `s3://bucket/key` (also `s3a://`, `s3n://`).
/// ``writeIfAbsent(_:bytes:)`` is a PUT with `If-None-Match: *`: exactly one of racing writers succeeds.
///
/// ```swift
/// let io = S3FileIO(client: s3)
/// try await io.writeIfAbsent("s3://wh/db/t/metadata/00001-x.metadata.json", bytes: json)
/// ```
public struct S3FileIO: FileIO {
    public let client: S3Client

    public init(client: S3Client) { self.client = client }

    /// Bucket and key of an `s3://bucket/key` location.
    public static func split(_ location: String) throws -> (bucket: String, key: String) {
        guard let range = location.range(of: "://"), ["s3", "s3a", "s3n"].contains(location[..<range.lowerBound]) else {
            throw IcebergError(.invalidArgument, "'\(location)' is not an s3:// location")
        }
        let rest = location[range.upperBound...]
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bucket = parts.first, !bucket.isEmpty else { throw IcebergError(.invalidArgument, "'\(location)' names no bucket") }
        return (String(bucket), parts.count > 1 ? String(parts[1]) : "")
    }

    private func mapped<T>(_ location: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as S3Error {
            if error.status == 404 { throw IcebergError(.notFound, "\(location) does not exist", cause: error) }
            if error.isPreconditionFailure { throw IcebergError(.alreadyExists, "\(location) already exists", cause: error) }
            throw IcebergError(.io, "\(location): \(error)", cause: error, isRetryable: error.isRetryable)
        }
    }

    public func read(_ location: String) async throws -> [UInt8] {
        let (bucket, key) = try Self.split(location)
        return try await mapped(location) { try await client.getObject(bucket: bucket, key: key) }
    }

    public func read(_ location: String, range: Range<Int64>) async throws -> [UInt8] {
        let (bucket, key) = try Self.split(location)
        return try await mapped(location) { try await client.getObject(bucket: bucket, key: key, range: range) }
    }

    public func size(_ location: String) async throws -> Int64 {
        let (bucket, key) = try Self.split(location)
        guard let head = try await mapped(location, { try await client.headObject(bucket: bucket, key: key) }) else {
            throw IcebergError(.notFound, "\(location) does not exist")
        }
        return head.size
    }

    public func write(_ location: String, bytes: [UInt8]) async throws {
        let (bucket, key) = try Self.split(location)
        _ = try await mapped(location) { try await client.putObject(bucket: bucket, key: key, body: bytes) }
    }

    /// Uploads a local file; multipart above 64 MiB, never all in memory.
    public func write(_ location: String, contentsOfFile path: String) async throws {
        let (bucket, key) = try Self.split(location)
        _ = try await mapped(location) { try await client.uploadFile(path, bucket: bucket, key: key) }
    }

    /// A PUT with `If-None-Match: *`. S3 answers 412 when the object exists, and 409
    /// (`ConditionalRequestConflict`) when another conditional write of the same key is in flight; both are
    /// `.alreadyExists`: this write did not happen, another writer's did or is about to.
    ///
    /// A try whose outcome is unknown (a 5xx, a reset connection, a timeout) is tried again, with the
    /// client's backoff and attempts. If a later try then finds the object there, it is read back: the
    /// same bytes as ours mean the earlier try took effect (success), other bytes mean another writer's
    /// (`.alreadyExists`). So one 500 during a commit costs a retry, not the run, and never a false conflict.
    public func writeIfAbsent(_ location: String, bytes: [UInt8]) async throws {
        let (bucket, key) = try Self.split(location)
        let policy = client.retryPolicy
        var attempt = 1
        var uncertain = false  // an earlier try may have taken effect
        while true {
            do {
                _ = try await client.putObject(bucket: bucket, key: key, body: bytes, ifNoneMatch: "*")
                return
            } catch let error as S3Error where error.isPreconditionFailure || error.status == 409 {
                if uncertain {
                    if try await holds(bucket: bucket, key: key, bytes: bytes, location: location) { return }
                    if error.status == 409, attempt < policy.maxAttempts {
                        // A conditional write of this key is in flight: perhaps our own earlier try. Look again.
                        attempt += 1
                        try await Task.sleep(for: Self.jitter(policy.ceiling(forRetry: attempt - 1)))
                        continue
                    }
                }
                if error.status == 409 {
                    throw IcebergError(.alreadyExists, "\(location) is being created by a concurrent conditional write", cause: error)
                }
                throw IcebergError(.alreadyExists, "\(location) already exists", cause: error)
            } catch let error as S3Error where error.isRetryable && attempt < policy.maxAttempts {
                uncertain = true
                attempt += 1
                try await Task.sleep(for: Self.jitter(policy.ceiling(forRetry: attempt - 1)))
            } catch let error as S3Error {
                throw IcebergError(.io, "\(location): \(error)", cause: error, isRetryable: error.isRetryable)
            }
        }
    }

    /// Whether the object at `key` holds exactly `bytes` (an earlier try of ours took effect).
    private func holds(bucket: String, key: String, bytes: [UInt8], location: String) async throws -> Bool {
        do {
            return try await client.getObject(bucket: bucket, key: key) == bytes
        } catch let error as S3Error where error.status == 404 {
            return false
        } catch let error as S3Error {
            throw IcebergError(.io, "\(location): reading back after an uncertain write: \(error)", cause: error, isRetryable: error.isRetryable)
        }
    }

    /// A random wait between 0 and `ceiling` (full jitter).
    static func jitter(_ ceiling: Duration) -> Duration {
        let nanos = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: 0...max(1, nanos)))
    }

    public func delete(_ location: String) async throws {
        let (bucket, key) = try Self.split(location)
        try await mapped(location) { try await client.deleteObject(bucket: bucket, key: key) }
    }

    public func exists(_ location: String) async throws -> Bool {
        let (bucket, key) = try Self.split(location)
        return try await mapped(location) { try await client.headObject(bucket: bucket, key: key) } != nil
    }

    public func list(prefix: String) async throws -> [FileInfo] {
        let (bucket, keyPrefix) = try Self.split(prefix)
        let scheme = String(prefix[..<prefix.range(of: "://")!.lowerBound])
        var result: [FileInfo] = []
        for try await page in client.listAllPages(bucket: bucket, prefix: keyPrefix) {
            result += page.objects.map {
                FileInfo(location: "\(scheme)://\(bucket)/\($0.key)", size: $0.size, lastModifiedMillis: Int64($0.lastModified.timeIntervalSince1970 * 1000))
            }
        }
        return result
    }
}
