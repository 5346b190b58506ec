extension Table {
    /// The data files live in the current snapshot (entries not deleted, content data), read from its
    /// manifests. Empty for a table without snapshots.
    ///
    /// ```swift
    /// let files = try await table.liveDataFiles()
    /// let rows = files.reduce(0) { $0 + $1.recordCount }
    /// ```
    public func liveDataFiles() async throws -> [DataFile] {
        guard let snapshot = metadata.currentSnapshot else { return [] }
        let manifests = try ManifestCodec.readManifestList(try await io.read(snapshot.manifestList), location: snapshot.manifestList)
        var files: [DataFile] = []
        for manifest in manifests where manifest.content == 0 {
            let entries = try ManifestCodec.readManifest(
                try await io.read(manifest.path), manifest: manifest, schema: metadata.currentSchema, specs: metadata.partitionSpecs,
                location: manifest.path)
            files += entries.filter { $0.status != .deleted && $0.dataFile.content == 0 }.map(\.dataFile)
        }
        return files
    }
}
