import Foundation
import Logging

/// Deletes files under a table's data and metadata folders that the table does not reference (Java's
/// `deleteOrphanFiles`): left by a crash between writing a file and the catalog swap, by a failed delete,
/// or by a writer that gave up.
///
/// Referenced are: the current metadata file and those of its metadata log, statistics files, and for every
/// snapshot its manifest list, the manifests in it, and every data file those manifests name (live or
/// deleted). A file counts as an orphan only when it is older than `olderThanMillis` (default: 3 days ago),
/// so that files of a commit in progress are never taken. Locations are compared in one form
/// (`file:///p`, `file:/p` and `/p` alike; `s3a://` and `s3n://` as `s3://`). Folders under
/// `protectedPrefixes` (the ingestion's checkpoints, by default) are left alone.
///
/// ```swift
/// var cleanup = RemoveOrphanFiles(table: table)
/// cleanup.olderThanMillis = WallClock.nowMillis() - 3 * 86_400_000
/// let preview = try await cleanup.run(dryRun: true)
/// print(preview.orphanFiles)
/// let result = try await cleanup.run()
/// ```
public struct RemoveOrphanFiles: Sendable {
    public var table: Table
    /// Only files last modified before this (milliseconds since the epoch) are removed; nil: 3 days ago.
    public var olderThanMillis: Int64?
    /// Folders, relative to the table location, whose files are never removed.
    public var protectedPrefixes: [String] = ["metadata/ingest-checkpoints/"]
    public var clock: MillisecondClock
    public var logger: Logger

    public init(
        table: Table, clock: @escaping MillisecondClock = WallClock.nowMillis,
        logger: Logger = Logger(label: "iceberg-core", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.table = table
        self.clock = clock
        self.logger = logger
    }

    /// The default grace period: 3 days.
    public static let defaultGraceMillis: Int64 = 3 * 86_400_000

    /// What a cleanup removed (or, in a dry run, would remove).
    public struct Result: Sendable, Codable, Equatable {
        public var dryRun: Bool
        /// Files found under the data and metadata folders.
        public var scannedFiles: Int
        /// The orphans, as listed.
        public var orphanFiles: [String]
        public var orphanBytes: Int64
        /// Orphans that could not be deleted (logged).
        public var failedDeletes: Int
    }

    /// Finds the orphans and, unless `dryRun`, deletes them.
    public func run(dryRun: Bool = false) async throws -> Result {
        let metadata = table.metadata
        let cutoff = olderThanMillis ?? clock() - Self.defaultGraceMillis
        var referenced: Set<String> = [Self.normalized(table.metadataLocation)]
        for entry in metadata.metadataLog { referenced.insert(Self.normalized(entry.metadataFile)) }
        for statistics in metadata.statistics + metadata.partitionStatistics {
            if case .string(let path)? = statistics["statistics-path"] { referenced.insert(Self.normalized(path)) }
        }
        let reachable = try await ReachableFiles.of(metadata.snapshots, table: table)
        for location in reachable.manifestLists.union(reachable.manifests.keys).union(reachable.liveFiles).union(reachable.deletedOnlyFiles) {
            referenced.insert(Self.normalized(location))
        }

        let base = metadata.location.hasSuffix("/") ? String(metadata.location.dropLast()) : metadata.location
        let folders = Set([
            metadata.properties["write.data.path"] ?? base + "/data", metadata.properties["write.metadata.path"] ?? base + "/metadata",
        ].map { $0.hasSuffix("/") ? $0 : $0 + "/" })
        let protected = protectedPrefixes.map { Self.normalized(base + "/" + $0) }
        var scanned = 0
        var orphans: [FileInfo] = []
        var orphanCandidates: [String] = []
        for folder in folders.sorted() {
            for file in try await table.io.list(prefix: folder) {
                scanned += 1
                let location = Self.normalized(file.location)
                guard !referenced.contains(location), !protected.contains(where: { location.hasPrefix($0) }) else { continue }
                // The Hadoop layout's pointer to the current metadata: readers (DuckDB's iceberg_scan of a table
                // folder, Spark's hadoop catalog) open the table through it.
                if location.hasSuffix("/version-hint.text") { continue }
                if location.hasSuffix(".metadata.json") { orphanCandidates.append(file.location) }
                // A file without a known age is taken only when every file is (a grace period of zero).
                guard let modified = file.lastModifiedMillis ?? (cutoff >= clock() ? Int64.min : nil), modified < cutoff else { continue }
                orphans.append(file)
            }
        }
        try await checkNoOtherTable(among: orphanCandidates, base: base)
        var result = Result(
            dryRun: dryRun, scannedFiles: scanned, orphanFiles: orphans.map(\.location), orphanBytes: orphans.reduce(0) { $0 + $1.size },
            failedDeletes: 0)
        guard !dryRun, !orphans.isEmpty else { return result }
        let logger = self.logger
        let deleted = await ReachableFiles.delete(orphans.map(\.location), io: table.io) { location, error in
            logger.warning("remove-orphans: cannot delete \(location): \(error)")
        }
        result.failedDeletes = orphans.count - deleted
        logger.info("removed \(deleted) orphan files of \(table.identifier)")
        return result
    }

    /// Refuses to go on when an unreferenced metadata file under the table's folders belongs to another table
    /// (another `table-uuid`): two catalogs, or two tables of one, keep their tables at the same location, and
    /// each one's files are the other's orphans. Checked at any age, dry runs included; nothing is removed.
    func checkNoOtherTable(among metadataFiles: [String], base: String) async throws {
        let own = table.metadata.tableUUID.uuidString.lowercased()
        for location in metadataFiles {
            // Unreadable or not JSON: a crashed write of this table's own, an orphan like any other.
            guard let bytes = try? await table.io.read(location), let json = try? JSONValue.parse(bytes, source: location),
                case .string(let uuid)? = json["table-uuid"], uuid.lowercased() != own
            else { continue }
            throw IcebergError(
                .validationFailed,
                "remove-orphans on \(table.identifier): \(location) is the metadata of another table (table-uuid \(uuid), this one's is \(own)) "
                    + "at the same location \(base); two catalogs or tables share it, and each one's files look like the other's orphans. "
                    + "Nothing was removed: give the tables locations of their own")
        }
    }

    /// One form for locations that name the same file: `file:///p`, `file:/p` and `/p` as `/p`; `s3a://`
    /// and `s3n://` as `s3://`; repeated slashes in the path as one.
    static func normalized(_ location: String) -> String {
        var scheme = ""
        var rest = Substring(location)
        if rest.hasPrefix("file:") {
            rest = rest.dropFirst(5)
            if rest.hasPrefix("//") { rest = rest.dropFirst(2) }
        } else if let range = rest.range(of: "://") {
            scheme = String(rest[..<range.lowerBound]).lowercased()
            if scheme == "s3a" || scheme == "s3n" { scheme = "s3" }
            scheme += "://"
            rest = rest[range.upperBound...]
        }
        var path = ""
        path.reserveCapacity(rest.utf8.count)
        var previousSlash = false
        for character in rest {
            if character == "/" {
                if previousSlash { continue }
                previousSlash = true
            } else {
                previousSlash = false
            }
            path.append(character)
        }
        return scheme + path
    }
}
