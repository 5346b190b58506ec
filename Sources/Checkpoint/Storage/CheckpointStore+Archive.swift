import Codecs
import Foundation
import IcebergCore

/// What was ingested in hours that have closed: the objects folded out of the checkpoint, kept in compact
/// segments beside it so that a closed hour can be looked at again (reconciliation, backfill) without the
/// checkpoint growing with the history.
///
/// A segment holds the objects one checkpoint version folded: `archive/<20-digit version>-<first hour>-<last
/// hour>.arc`, zstd-compressed JSON lines `{"k": key, "s": size, "e": etag, "h": hour}`. It is written with
/// that version, before the table commits it, and is true only once the table names a version at least as
/// new: recovery deletes the segments of discarded versions, and readers pass over segments newer than the
/// committed version. Segments are never rewritten; a normal pass never reads them.
extension CheckpointStore {
    public var archiveDirectory: String { directory + "archive/" }

    /// One archived object.
    public struct ArchivedObject: Codable, Sendable, Equatable {
        public var k: String
        public var s: Int64
        public var e: String
        public var h: Int32
        public init(key: String, size: Int64, etag: String, hour: Int32) {
            k = key
            s = size
            e = etag
            h = hour
        }
    }

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
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines: [UInt8] = []
        for object in folded {
            let entry = ArchivedObject(key: object.version.key, size: object.version.size, etag: object.version.etag, hour: object.hour)
            lines += try encoder.encode(entry)
            lines.append(0x0a)
        }
        let compressed: [UInt8]
        do { compressed = try Zstd.compress(lines, level: 3) } catch { throw CheckpointError(.io, "archive: \(error.message)") }
        let digits = String(version)
        let location = archiveDirectory + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "-\(first)-\(last).arc"
        do {
            try await io.writeIfAbsent(location, bytes: compressed)
        } catch let error as IcebergError where error.code == .alreadyExists {
            throw CheckpointError(.versionTaken, "archive segment \(location) already exists: another worker runs the same shard?", cause: error)
        }
    }

    /// The archived objects of `hours`, from segments of versions up to `committedVersion`, by key.
    public func archivedObjects(hours: ClosedRange<Int32>, upTo committedVersion: Int64) async throws -> [String: ArchivedObject] {
        var found: [String: ArchivedObject] = [:]
        for file in try await io.list(prefix: archiveDirectory) {
            guard let segment = Self.archiveSegment(file.location, directory: archiveDirectory), segment.version <= committedVersion,
                segment.hours.overlaps(hours)
            else { continue }
            let bytes = try await io.read(segment.location)
            let lines: [UInt8]
            do { lines = try Zstd.decompress(bytes[...], limit: 1 << 32) } catch {
                throw CheckpointError(.corrupt, "archive segment \(segment.location): \(error.message)")
            }
            let decoder = JSONDecoder()
            for line in lines.split(separator: 0x0a) {
                guard let entry = try? decoder.decode(ArchivedObject.self, from: Data(line)) else {
                    throw CheckpointError(.corrupt, "archive segment \(segment.location): a line does not decode")
                }
                if hours.contains(entry.h) { found[entry.k] = entry }
            }
        }
        return found
    }
}
