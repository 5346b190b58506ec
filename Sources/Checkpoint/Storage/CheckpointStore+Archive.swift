import Codecs
import Foundation
import IcebergCore

/// What was ingested in hours that have closed: the objects folded out of the checkpoint, kept in compact
/// segments beside it so that a closed hour can be looked at again (reconciliation, backfill) without the
/// checkpoint growing with the history.
///
/// A segment holds the objects one checkpoint version folded, in the checkpoint's own columnar format (keys,
/// sizes, ETags, hours; zstd with checksums): `archive/<20-digit version>-<first hour>-<last hour>.arc`. It is
/// written with that version, before the table commits it, and is true only once the table names a version
/// at least as new: recovery deletes the segments of discarded versions, and readers pass over segments newer
/// than the committed version. Segments are never rewritten; a normal pass never reads them.
extension CheckpointStore {
    public var archiveDirectory: String { directory + "archive/" }

    /// A segment's name, parsed.
    struct ArchiveSegment {
        var location: String
        var version: Int64
        var hours: ClosedRange<Int32>
    }

    static func archiveSegment(_ location: String, directory: String) -> ArchiveSegment? {
        guard location.hasPrefix(directory), location.hasSuffix(".arc") else { return nil }
        let parts = location.dropFirst(directory.count).dropLast(4).split(separator: "-")
        guard parts.count == 3, let version = Int64(parts[0]), let first = Int32(parts[1]), let last = Int32(parts[2]), first <= last else {
            return nil
        }
        return ArchiveSegment(location: location, version: version, hours: first...last)
    }

    /// Writes the objects version `version` folds (nothing when there are none).
    public func saveArchive(version: Int64, folded: [IngestedObject]) async throws {
        guard let first = folded.map(\.hour).min(), let last = folded.map(\.hour).max() else { return }
        var segment = SourceCheckpoint(source: source, shard: shard, lateArrivalHours: 0)
        segment.version = version
        for object in folded { segment.record(object.version, hour: object.hour, snapshotID: object.snapshotID) }
        let bytes = try CheckpointCodec.encode(segment)
        let digits = String(version)
        let location = archiveDirectory + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "-\(first)-\(last).arc"
        do {
            try await io.writeIfAbsent(location, bytes: bytes)
        } catch let error as IcebergError where error.code == .alreadyExists {
            throw CheckpointError(.versionTaken, "archive segment \(location) already exists: another worker runs the same shard?", cause: error)
        }
    }

    /// The archive of `hours`, from segments of versions up to `committedVersion`.
    public func archivedObjects(hours: ClosedRange<Int32>, upTo committedVersion: Int64) async throws -> ArchivedHours {
        var segments: [ArchivedHours.Segment] = []
        for file in try await io.list(prefix: archiveDirectory) {
            guard let segment = Self.archiveSegment(file.location, directory: archiveDirectory), segment.version <= committedVersion,
                segment.hours.overlaps(hours)
            else { continue }
            let objects = try CheckpointCodec.decode(try await io.read(segment.location), location: segment.location)
            segments.append(ArchivedHours.Segment(hours: segment.hours, objects: objects))
        }
        return ArchivedHours(hours: hours, segments: segments)
    }
}

/// The archived objects of some closed hours, looked up by key and hour (one hash lookup in the segments
/// covering that hour, usually one).
public struct ArchivedHours: Sendable {
    struct Segment: Sendable {
        var hours: ClosedRange<Int32>
        var objects: SourceCheckpoint
    }

    public let hours: ClosedRange<Int32>
    let segments: [Segment]

    /// Nothing archived (no hour closed yet).
    public static func none(_ hours: ClosedRange<Int32>) -> ArchivedHours { ArchivedHours(hours: hours, segments: []) }

    /// Whether an object with `key`, listed under `hour`, was ingested.
    public func contains(key: String, hour: Int32) -> Bool {
        segments.contains { $0.hours.contains(hour) && $0.objects.recorded(key).map { $0.hour == hour } == true }
    }

    /// The archive of several shards (a rescaled source's old shards beside this one's) as one.
    public static func merged(_ parts: [ArchivedHours], hours: ClosedRange<Int32>) -> ArchivedHours {
        ArchivedHours(hours: hours, segments: parts.flatMap(\.segments))
    }

    /// Archived objects of the asked hours.
    public var objects: [IngestedObject] {
        segments.flatMap { $0.objects.trackedObjects.filter { hours.contains($0.hour) } }
    }

    /// Archived objects of the asked hours.
    public var count: Int {
        segments.reduce(0) { total, segment in total + segment.objects.trackedObjects.filter { hours.contains($0.hour) }.count }
    }
}
