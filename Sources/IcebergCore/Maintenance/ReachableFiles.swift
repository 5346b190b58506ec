import Foundation

/// The files a set of snapshots reference: their manifest lists, the manifests in them, and the data (and
/// delete) files in those manifests. What expiry and orphan cleanup compute reachability with.
struct ReachableFiles: Sendable {
    /// Manifest list locations.
    var manifestLists: Set<String> = []
    /// Manifest locations, with the manifest list entry that named them.
    var manifests: [String: ManifestFile] = [:]
    /// Data and delete files live (ADDED or EXISTING) in those manifests.
    var liveFiles: Set<String> = []
    /// Files named by DELETED entries only.
    var deletedOnlyFiles: Set<String> = []

    /// Reads the manifest lists of `snapshots` and (with `readEntries`) every manifest in them, each once.
    static func of(_ snapshots: [Snapshot], table: Table, readEntries: Bool = true) async throws -> ReachableFiles {
        var result = ReachableFiles()
        for snapshot in snapshots where result.manifestLists.insert(snapshot.manifestList).inserted {
            let list = try ManifestCodec.readManifestList(try await table.io.read(snapshot.manifestList), location: snapshot.manifestList)
            for manifest in list where result.manifests[manifest.path] == nil { result.manifests[manifest.path] = manifest }
        }
        guard readEntries else { return result }
        var deleted: Set<String> = []
        for manifest in result.manifests.values {
            for entry in try await table.manifestEntries(of: manifest) {
                if entry.status == .deleted { deleted.insert(entry.dataFile.filePath) } else { result.liveFiles.insert(entry.dataFile.filePath) }
            }
        }
        result.deletedOnlyFiles = deleted.subtracting(result.liveFiles)
        return result
    }

    /// Deletes `locations`, a few at a time; returns the number deleted. A missing file is not an error; a
    /// failed delete is logged through `onFailure` and skipped (the files are garbage either way).
    static func delete(_ locations: [String], io: any FileIO, concurrency: Int = 8, onFailure: @escaping @Sendable (String, any Error) -> Void) async -> Int {
        await withTaskGroup(of: Bool.self) { group in
            var next = 0
            var deleted = 0
            func start(_ location: String) {
                group.addTask {
                    do {
                        try await io.delete(location)
                        return true
                    } catch {
                        onFailure(location, error)
                        return false
                    }
                }
            }
            while next < min(concurrency, locations.count) { start(locations[next]); next += 1 }
            for await ok in group {
                if ok { deleted += 1 }
                if next < locations.count { start(locations[next]); next += 1 }
            }
            return deleted
        }
    }
}
