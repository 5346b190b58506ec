import IcebergCore

extension CheckpointStore {
    /// The folder holding this shard's lineage records.
    public var lineageDirectory: String { directory + "lineage/" }

    /// Where the lineage of `lineage.version` is stored. The name says the kind and whether any object
    /// drifted, so a schema evolution reads only the records it needs:
    /// `lineage/<20-digit version>.<ingest|reprocess>[-drift].json`.
    public func lineageLocation(of lineage: CommitLineage) -> String {
        let digits = String(lineage.version)
        let name = String(repeating: "0", count: max(0, 20 - digits.count)) + digits
        return lineageDirectory + name + "." + lineage.kind.rawValue + (lineage.hasDrift ? "-drift" : "") + ".json"
    }

    /// Saves the lineage of a checkpoint version. Written right after that version is saved and before the
    /// table commit: like the version, it counts only once the table records the version (recovery deletes
    /// records ahead of the table).
    public func saveLineage(_ lineage: CommitLineage) async throws {
        let location = lineageLocation(of: lineage)
        do {
            try await io.write(location, bytes: LineageCodec.encode(lineage))
        } catch {
            throw CheckpointError(.io, "cannot write lineage \(location)", cause: error)
        }
    }

    /// One stored lineage record, as listed.
    public struct LineageEntry: Sendable, Equatable {
        public var location: String
        public var version: Int64
        public var kind: CommitLineage.Kind
        public var hasDrift: Bool
    }

    /// The lineage records of versions up to `committedVersion`, oldest first.
    public func listLineage(upTo committedVersion: Int64) async throws -> [LineageEntry] {
        try await io.list(prefix: lineageDirectory).compactMap { file in
            guard let entry = Self.lineageEntry(file.location, directory: lineageDirectory), entry.version <= committedVersion else { return nil }
            return entry
        }.sorted { $0.version < $1.version }
    }

    /// Reads one lineage record.
    public func loadLineage(_ entry: LineageEntry) async throws -> CommitLineage {
        let bytes: [UInt8]
        do { bytes = try await io.read(entry.location) } catch {
            throw CheckpointError(.io, "cannot read lineage \(entry.location)", cause: error)
        }
        let lineage = try LineageCodec.decode(bytes, location: entry.location)
        guard lineage.version == entry.version else {
            throw CheckpointError(.corrupt, "lineage \(entry.location) holds version \(lineage.version)")
        }
        return lineage
    }

    static func lineageEntry(_ location: String, directory: String) -> LineageEntry? {
        guard location.hasPrefix(directory), location.hasSuffix(".json") else { return nil }
        let name = location.dropFirst(directory.count).dropLast(5)
        let parts = name.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let version = Int64(parts[0]) else { return nil }
        let drift = parts[1].hasSuffix("-drift")
        guard let kind = CommitLineage.Kind(rawValue: String(drift ? parts[1].dropLast(6) : parts[1])) else { return nil }
        return LineageEntry(location: location, version: version, kind: kind, hasDrift: drift)
    }
}
