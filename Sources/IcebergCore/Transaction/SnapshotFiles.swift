import Foundation

/// Where a commit writes its own metadata files: every name carries the snapshot id, so that the files of a
/// commit that never reached its catalog swap (a process killed in between) can be found by name and deleted
/// by the next run, which knows the id from the checkpoint the dead run saved first.
///
/// - manifests: `<table>/metadata/<snapshot id>-<uuid>-<kind>.avro` (`m0`, `merged-1`, `r0` ...)
/// - manifest lists: `<table>/metadata/snap-<snapshot id>-<attempt>-<uuid>.avro` (Java's form)
///
/// ```swift
/// let list = SnapshotFiles.manifestList(tableLocation: table.metadata.location, snapshotID: id, attempt: 0)
/// for prefix in SnapshotFiles.prefixes(tableLocation: location, snapshotID: deadID) { /* list and delete */ }
/// ```
package enum SnapshotFiles {
    package static func manifest(tableLocation: String, snapshotID: Int64, kind: String) -> String {
        "\(tableLocation)/metadata/\(snapshotID)-\(UUID().uuidString.lowercased())-\(kind).avro"
    }

    package static func manifestList(tableLocation: String, snapshotID: Int64, attempt: Int) -> String {
        "\(tableLocation)/metadata/snap-\(snapshotID)-\(attempt)-\(UUID().uuidString.lowercased()).avro"
    }

    /// The name prefixes under which every metadata file of `snapshotID`'s commit lies.
    package static func prefixes(tableLocation: String, snapshotID: Int64) -> [String] {
        ["\(tableLocation)/metadata/\(snapshotID)-", "\(tableLocation)/metadata/snap-\(snapshotID)-"]
    }
}
