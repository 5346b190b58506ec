import ArgumentParser
import Foundation
import IcebergCore

/// `iceberg-bench manifest-merge`: a table built by N commits of one tiny file each (local warehouse,
/// SQLite catalog), once as fast appends (one manifest per commit) and once with manifest merging; then
/// PyIceberg plans a scan (`plan_files`) and reads it (`to_arrow`) on both, medians of the repetitions,
/// and the ratio. Also the time the N commits took each way.
struct ManifestMergeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest-merge", abstract: "PyIceberg scan planning after N small commits, with and without manifest merging.")

    @Option(help: "Commits (one data file each).") var commits = 1000
    @Option(help: "Repetitions of each PyIceberg measurement; medians are reported.") var repetitions = 5
    @Option(help: "Python with pyiceberg and pyarrow.") var python = ".venv/bin/python"

    static let writer = #"""
    import sys, json, os, pyarrow as pa, pyarrow.parquet as pq
    root, n = sys.argv[1], int(sys.argv[2])
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False, metadata={"PARQUET:field_id": "1"}),
                        pa.field("name", pa.string(), metadata={"PARQUET:field_id": "2"})])
    os.makedirs(root, exist_ok=True)
    out = []
    for i in range(n):
        path = os.path.join(root, "f-%05d.parquet" % i)
        pq.write_table(pa.table([pa.array([2 * i, 2 * i + 1], pa.int64()), pa.array(["a", "b"])], schema=schema), path)
        out.append([path, os.path.getsize(path)])
    print(json.dumps(out))
    """#

    static let reader = #"""
    import sys, time, statistics
    from pyiceberg.catalog.sql import SqlCatalog
    db, wh, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    c = SqlCatalog("bench", uri=f"sqlite:///{db}", warehouse=f"file://{wh}")
    for name in ("db.fast", "db.merged"):
        plan, read, files, rows = [], [], 0, 0
        for _ in range(reps):
            t = c.load_table(name)
            s = time.perf_counter(); files = len(list(t.scan().plan_files())); plan.append(time.perf_counter() - s)
            s = time.perf_counter(); rows = len(t.scan().to_arrow()); read.append(time.perf_counter() - s)
        manifests = len(t.current_snapshot().manifests(t.io))
        print(name, manifests, files, rows, statistics.median(plan), statistics.median(read))
    """#

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("merge-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let listing = try PythonPeer.run(python, code: Self.writer, arguments: [dir.path + "/files", String(commits)])
        guard case .array(let items) = try JSONValue.parse(listing.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw IcebergError(.invalidArgument, "the writer printed no list")
        }
        let files: [DataFile] = items.compactMap { item in
            guard case .array(let pair) = item, case .string(let path) = pair[0], case .int(let size) = pair[1] else { return nil }
            return DataFile(filePath: path, recordCount: 2, fileSizeInBytes: size)
        }
        let catalog = try SQLiteCatalog(name: "bench", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await catalog.createNamespace(["db"])
        let schema = Schema(id: 0, fields: [.required(1, "id", .primitive(.long)), .optional(2, "name", .primitive(.string))])
        var build: [String: Double] = [:]
        for (name, merge) in [("fast", false), ("merged", true)] {
            var table = try await catalog.createTable(
                TableIdentifier(namespace: ["db"], name: name), schema: schema, properties: ["write.metadata.previous-versions-max": "10"])
            let start = ContinuousClock.now
            for file in files {
                var append = FastAppend(table: table, catalog: catalog)
                append.mergeManifests = merge
                append.add(file)
                table = try await append.commit()
            }
            build[name] = start.seconds
        }
        let output = try PythonPeer.run(python, code: Self.reader, arguments: [dir.path + "/catalog.db", dir.path + "/wh", String(repetitions)])
        var plan: [String: Double] = [:], read: [String: Double] = [:]
        print("manifest-merge: \(commits) commits of one 2-row file; PyIceberg medians of \(repetitions)")
        print("  table     commits(s)  manifests  files  rows   plan_files(s)  to_arrow(s)")
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count == 6 else { continue }
            let name = String(parts[0].dropFirst(3))
            plan[name] = Double(parts[4])
            read[name] = Double(parts[5])
            print(String(
                format: "  %-8@ %10.2f  %9@  %5@  %5@  %13.3f  %11.3f", name as NSString, build[name] ?? 0, parts[1] as NSString,
                parts[2] as NSString, parts[3] as NSString, plan[name] ?? 0, read[name] ?? 0))
        }
        if let a = plan["fast"], let b = plan["merged"], let c = read["fast"], let d = read["merged"], b > 0, d > 0 {
            print(String(format: "  planning: fast appends / merged = %.2fx; reading: %.2fx", a / b, c / d))
        }
    }
}
