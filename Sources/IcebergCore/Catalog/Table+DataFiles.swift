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

    /// Live entries of the current snapshot's manifests of one content (0 data, 1 deletes).
    private func liveFiles(inManifestsOf content: Int) async throws -> [DataFile] {
        guard let snapshot = metadata.currentSnapshot else { return [] }
        let manifests = try ManifestCodec.readManifestList(try await io.read(snapshot.manifestList), location: snapshot.manifestList)
        var files: [DataFile] = []
        for manifest in manifests where manifest.content == content {
            let entries = try ManifestCodec.readManifest(
                try await io.read(manifest.path), manifest: manifest, schema: metadata.currentSchema, specs: metadata.partitionSpecs,
                location: manifest.path)
            files += entries.filter { $0.status != .deleted }.map(\.dataFile)
        }
        return files
    }
}
