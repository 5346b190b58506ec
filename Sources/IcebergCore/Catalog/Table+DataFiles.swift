extension Table {
    /// The data files live in the current snapshot (entries not deleted, content data), read from its
    /// manifests. Empty for a table without snapshots.
    ///
    /// ```swift
    /// let files = try await table.liveDataFiles()
    /// let rows = files.reduce(0) { $0 + $1.recordCount }
    /// ```
    public func liveDataFiles() async throws -> [DataFile] {
        try await liveFiles(inManifestsOf: 0).filter { $0.content == 0 }
    }

    /// The delete files live in the current snapshot: position deletes (`content` 1) and equality deletes
    /// (`content` 2) that other writers (Spark's merge-on-read `DELETE`, `UPDATE`, `MERGE`) left. Rows they
    /// delete are still in the data files, so anything that rewrites data files must apply them or leave
    /// those files alone (IcebergIngest's `Compaction` leaves them alone).
    ///
    /// ```swift
    /// let deletes = try await table.liveDeleteFiles()
    /// if !deletes.isEmpty { print("row-level deletes in", Set(deletes.map(\.partition)).count, "partitions") }
    /// ```
    public func liveDeleteFiles() async throws -> [DataFile] {
        try await liveFiles(inManifestsOf: 1).filter { $0.content != 0 }
    }

    /// Where the live delete files may apply (see ``DeleteCoverage``).
    ///
    /// ```swift
    /// let coverage = try await table.deleteCoverage()
    /// let untouched = try await table.liveDataFiles().filter { !coverage.mayApply(to: $0) }
    /// ```
    public func deleteCoverage() async throws -> DeleteCoverage {
        DeleteCoverage(deleteFiles: try await liveDeleteFiles(), specs: metadata.partitionSpecs)
    }

    /// Live entries of the current snapshot's manifests of one content (0 data, 1 deletes).
    private func liveFiles(inManifestsOf content: Int) async throws -> [DataFile] {
        guard let snapshot = metadata.currentSnapshot else { return [] }
        let manifests = try ManifestCodec.readManifestList(try await io.read(snapshot.manifestList), location: snapshot.manifestList)
        var files: [DataFile] = []
        for manifest in manifests where manifest.content == content {
            files += try await manifestEntries(of: manifest).filter { $0.status != .deleted }.map(\.dataFile)
        }
        return files
    }

    /// The entries of one of the table's manifests, read against its current schema and specs.
    package func manifestEntries(of manifest: ManifestFile) async throws -> [ManifestEntry] {
        try ManifestCodec.readManifest(
            try await io.read(manifest.path), manifest: manifest, schema: metadata.currentSchema, specs: metadata.partitionSpecs,
            location: manifest.path)
    }
}

extension RewriteFiles.Partition {
    /// The partition a file is in.
    public init(_ file: DataFile) { self.init(specID: file.specID, values: file.partition) }
}

/// The data files that row-level delete files may apply to, conservatively: every file of a partition
/// that has a delete file, and every file at all when a delete file belongs to an unpartitioned spec (an
/// equality delete there applies to the whole table).
public struct DeleteCoverage: Sendable {
    /// The partitions with delete files.
    public var partitions: Set<RewriteFiles.Partition>
    /// Whether a delete file may apply to any partition.
    public var anywhere: Bool

    public init(deleteFiles: [DataFile], specs: [PartitionSpec]) {
        partitions = Set(deleteFiles.map(RewriteFiles.Partition.init))
        anywhere = deleteFiles.contains { file in specs.first { $0.id == file.specID }?.fields.isEmpty ?? true }
    }

    /// Whether there are no delete files.
    public var isEmpty: Bool { partitions.isEmpty }

    /// Whether delete files may apply to `file`'s rows.
    public func mayApply(to file: DataFile) -> Bool { anywhere || partitions.contains(RewriteFiles.Partition(file)) }
}
