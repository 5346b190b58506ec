import Foundation

/// An independent check of a table in a SQLite catalog, by PyIceberg: every snapshot's summary against its
/// manifests (totals equal the files a scan of that snapshot plans; added and deleted counts equal the
/// entries the snapshot wrote; totals follow from the parent's), every manifest's counts against its
/// entries, and the current snapshot's rows and files.
public enum TableValidation {
    /// What PyIceberg saw.
    public struct Report: Sendable {
        /// Inconsistencies found, empty when the table is valid.
        public var problems: [String]
        public var snapshots: Int
        /// Rows a scan of the current snapshot returns (`to_arrow`).
        public var rows: Int
        /// File names (last path component) a scan of the current snapshot plans, sorted.
        public var files: [String]
        /// Manifests of the current snapshot.
        public var manifests: Int
        /// The current snapshot's rows, as JSON lines sorted (for equality before and after a rewrite).
        public var sortedRows: [String]
    }

    static let script = #"""
    import sys, json
    from pyiceberg.catalog.sql import SqlCatalog
    db, wh, name, with_rows, newest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1", int(sys.argv[5])
    if db == "--metadata":
        import os
        from pyiceberg.table import StaticTable
        properties = {}
        if wh.startswith("s3://") and os.environ.get("S3_ENDPOINT"):
            properties = {"s3.endpoint": os.environ["S3_ENDPOINT"], "s3.region": os.environ.get("AWS_REGION", "us-east-1"),
                          "s3.access-key-id": os.environ.get("AWS_ACCESS_KEY_ID"), "s3.secret-access-key": os.environ.get("AWS_SECRET_ACCESS_KEY"),
                          # pyarrow's S3 client gives up on a 3 s stall by default; the local server stalls that long
                          # when the whole suite keeps it busy.
                          "s3.request-timeout": "60", "s3.connect-timeout": "10"}
        t = StaticTable.from_metadata(wh, properties=properties)
    else:
        t = SqlCatalog("ingest", uri=f"sqlite:///{db}", warehouse=f"file://{wh}").load_table(name)
    problems = []
    by_id = {s.snapshot_id: s for s in t.metadata.snapshots}
    for s in sorted(t.metadata.snapshots, key=lambda s: s.sequence_number)[-newest:]:
        summary = dict(s.summary.additional_properties)
        files = [task.file for task in t.scan(snapshot_id=s.snapshot_id).plan_files()]
        def check(key, actual):
            if key in summary and int(summary[key]) != actual:
                problems.append(f"snapshot {s.snapshot_id}: {key} is {summary[key]}, its manifests say {actual}")
        check("total-records", sum(f.record_count for f in files))
        check("total-data-files", len(files))
        # The spec's total-files-size counts every live file, delete files (another engine's row-level deletes) too.
        delete_bytes = sum(e.data_file.file_size_in_bytes for m in s.manifests(t.io) if m.content.value == 1
                           for e in m.fetch_manifest_entry(t.io, discard_deleted=True))
        check("total-files-size", sum(f.file_size_in_bytes for f in files) + delete_bytes)
        added = deleted = 0
        for m in s.manifests(t.io):
            entries = m.fetch_manifest_entry(t.io, discard_deleted=False)
            counts = [sum(1 for e in entries if int(e.status) == k) for k in (0, 1, 2)]
            if [m.existing_files_count, m.added_files_count, m.deleted_files_count] != counts:
                problems.append(f"manifest {m.manifest_path}: counts {m.existing_files_count},{m.added_files_count},{m.deleted_files_count} but entries {counts}")
            for e in entries:
                if e.sequence_number is None or e.sequence_number > m.sequence_number:
                    problems.append(f"manifest {m.manifest_path}: entry {e.data_file.file_path} has sequence number {e.sequence_number} (manifest {m.sequence_number})")
                if e.snapshot_id == s.snapshot_id and int(e.status) == 1: added += 1
                if e.snapshot_id == s.snapshot_id and int(e.status) == 2: deleted += 1
        check("added-data-files", added)
        check("deleted-data-files", deleted)
        parent = by_id.get(s.parent_snapshot_id)
        if parent is not None:
            p = dict(parent.summary.additional_properties)
            expected = int(p["total-records"]) + int(summary.get("added-records", 0)) - int(summary.get("deleted-records", 0))
            if int(summary["total-records"]) != expected:
                problems.append(f"snapshot {s.snapshot_id}: total-records {summary['total-records']} != parent's {p['total-records']} + added - deleted")
    snap = t.current_snapshot()
    out = {"problems": problems, "snapshots": len(t.metadata.snapshots),
           "files": sorted(task.file.file_path.rsplit("/", 1)[1] for task in t.scan().plan_files()),
           "manifests": len(snap.manifests(t.io)) if snap else 0}
    if with_rows:
        rows = t.scan().to_arrow()
        out["rows"] = len(rows)
        out["sorted"] = sorted(json.dumps(r, sort_keys=True, default=str) for r in rows.to_pylist())
    else:
        out["rows"] = sum(task.file.record_count for task in t.scan().plan_files())
        out["sorted"] = []
    print(json.dumps(out))
    """#

    /// Validates table `name` (`db.events`) of the SQLite catalog at `catalogPath` with warehouse folder
    /// `warehouse`. With `readRows`, also reads every row (for small tables). Only the newest
    /// `newestSnapshots` snapshots are checked (each check plans a scan of that snapshot).
    public static func check(
        catalogPath: String, warehouse: String, table name: String, readRows: Bool = true, newestSnapshots: Int = 10_000
    ) async throws -> Report {
        try await run([catalogPath, warehouse, name, readRows ? "1" : "0", String(newestSnapshots)])
    }

    /// Validates the table whose metadata file is at `metadataLocation` (PyIceberg's `StaticTable`), for
    /// tables of catalogs PyIceberg cannot open (the in-memory one), or of any catalog; `s3://` locations are
    /// read from `S3_ENDPOINT`.
    public static func check(metadataLocation: String, readRows: Bool = true, newestSnapshots: Int = 10_000) async throws -> Report {
        try await run(["--metadata", metadataLocation, "-", readRows ? "1" : "0", String(newestSnapshots)])
    }

    static func run(_ arguments: [String]) async throws -> Report {
        let output = try await PythonTool.run(script, arguments: arguments)
        guard let line = output.split(separator: "\n").last, let data = line.data(using: .utf8),
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw TestEnvironmentError("table validation printed no JSON: \(output)") }
        return Report(
            problems: object["problems"] as? [String] ?? ["no problems list"], snapshots: object["snapshots"] as? Int ?? -1,
            rows: object["rows"] as? Int ?? -1, files: object["files"] as? [String] ?? [], manifests: object["manifests"] as? Int ?? -1,
            sortedRows: object["sorted"] as? [String] ?? [])
    }
}
