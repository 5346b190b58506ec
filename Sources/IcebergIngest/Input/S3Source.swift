import Foundation
import S3Reader

/// Objects in an S3 bucket under a root prefix, in a time layout such as Firehose's `YYYY/MM/DD/HH/`.
/// Listing goes through ``PrefixPlanner``: only the hours that can hold new objects are listed.
///
/// ```swift
/// let source = S3Source(client: s3, bucket: "raw", root: "events/", layout: .firehose)
/// let listing = try await source.list(firstOpenHour: checkpoint.firstOpenHour, now: Date())
/// ```
public struct S3Source: IngestSource {
    public let planner: PrefixPlanner

    public init(client: S3Client, bucket: String, root: String, layout: PrefixLayout) {
        planner = PrefixPlanner(client: client, bucket: bucket, root: root, layout: layout)
    }

    public var layout: PrefixLayout { planner.layout }
    public var identity: String { "s3://\(planner.bucket)/\(planner.root)|\(planner.layout.name)" }

    public func list(firstOpenHour: Int32?, now: Date) async throws -> SourceListing {
        let plan = try await planner.plan(firstOpenHour: firstOpenHour, now: now)
        let objects = plan.objects.map { planned in
            SourceObject(
                key: planned.object.key, location: "s3://\(planner.bucket)/\(planned.object.key)", size: planned.object.size,
                etag: planned.object.etag, lastModifiedMillis: Int64((planned.object.lastModified.timeIntervalSince1970 * 1000).rounded()),
                hour: planned.hour, partitionPrefix: planner.root + planner.layout.prefix(forHour: planned.hour))
        }
        return SourceListing(objects: objects, listedPrefixes: plan.prefixes, unmatchedKeys: plan.unmatchedKeys)
    }

    /// `range` of the object as it was listed: every read asks for the listed ETag (`If-Match`), so an
    /// object replaced after it was listed (or between two ranges) is never read as a mix of versions; that
    /// throws a retryable ``IngestError`` `.inputChanged` naming it, and the next run reads the new version.
    /// An object deleted since it was listed (`NoSuchKey`) throws the same, saying it is gone (a run's next
    /// listing no longer has it).
    public func read(_ object: SourceObject, range: Range<Int64>) async throws -> [UInt8] {
        guard !range.isEmpty else { return [] }
        do {
            return try await planner.client.getObject(bucket: planner.bucket, key: object.key, range: range, ifMatch: object.etag)
        } catch let error as S3Error where error.isPreconditionFailure {
            throw IngestError(
                .inputChanged,
                "\(object.location): replaced since it was listed (its ETag is no longer \"\(object.etag)\"), read at byte \(range.lowerBound); the next run reads its new version",
                cause: error, isRetryable: true)
        } catch let error as S3Error where error.code == "NoSuchKey" {
            throw IngestError(
                .inputChanged,
                "\(object.location): gone since it was listed (S3 answered NoSuchKey for the listed key), read at byte \(range.lowerBound); nothing of its batch is committed",
                cause: error, isRetryable: true)
        }
    }
}
