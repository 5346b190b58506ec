import Foundation
import Testing
import TestSupport

@testable import IcebergCore

/// Our commits read back by PyIceberg and DuckDB: pyarrow writes Parquet files with field ids, we append
/// them to an hour-partitioned table in the SQLite catalog.
@Suite struct AppendInteropTests {
    static let schema = SampleTable.schema
    static let spec = SampleTable.spec
    static let table = TableIdentifier(namespace: ["db"], name: "events")
    static let firstHour = SampleTable.firstHour

    /// pyarrow's Parquet files under `<root>/data/`, hour i in file i (see ``SampleTable``).
    static func dataFiles(at root: String, files: Int, rows: Int, start: Int) async throws -> [DataFile] {
        try await SampleTable.dataFiles(at: root + "/data", files: files, rows: rows, start: start)
    }

    @Test func appendsAreReadByPyIcebergAndDuckDB() async throws {
        let dir = try TestEnvironment.temporaryDirectory("append")
        defer { TestEnvironment.cleanUp(dir) }
        let catalog = try SQLiteCatalog(name: "ingest", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await catalog.createNamespace(["db"])
        var table = try await catalog.createTable(Self.table, schema: Self.schema, spec: Self.spec)
        let root = table.metadata.location
        // Three commits of two files (hours 0-5), 50 rows each.
        for commit in 0..<3 {
            var append = FastAppend(table: table, catalog: catalog)
            await append.add(contentsOf: try Self.dataFiles(at: root, files: 2, rows: 50, start: commit * 2))
            append.summaryProperties["iceberg-ingest.test-commit"] = String(commit)
            table = try await append.commit()
        }
        #expect(table.metadata.snapshots.count == 3)
        #expect(table.metadata.lastSequenceNumber == 3)
        #expect(table.metadata.currentSnapshot?.summary["total-records"] == "300")
        #expect(table.metadata.currentSnapshot?.summary["total-data-files"] == "6")
        #expect(table.metadata.currentSnapshot?.summary["iceberg-ingest.test-commit"] == "2")
        // Our own reader sees the same files, with inherited sequence numbers.
        let list = try ManifestCodec.readManifestList(try await table.io.read(table.metadata.currentSnapshot!.manifestList), location: "list")
        #expect(list.count == 3)
        #expect(list.map(\.sequenceNumber).sorted() == [1, 2, 3])
        let entries = try await list.asyncFlatMap { manifest in
            try ManifestCodec.readManifest(try await table.io.read(manifest.path), manifest: manifest, schema: Self.schema,
                                           specs: table.metadata.partitionSpecs, location: manifest.path)
        }
        #expect(entries.count == 6)
        #expect(Set(entries.compactMap(\.sequenceNumber)) == [1, 2, 3])
        #expect(entries.allSatisfy { $0.dataFile.partition.count == 1 && $0.status == .added })

        // PyIceberg: every row, a filtered scan that prunes partitions, and the snapshot history.
        let cutoff = (Self.firstHour + 4) * 3_600_000_000  // hours 4 and 5 only
        let output = try await PythonTool.run(
            """
            import sys, json
            from pyiceberg.catalog.sql import SqlCatalog
            from pyiceberg.expressions import GreaterThanOrEqual
            c = SqlCatalog("ingest", uri=f"sqlite:///{sys.argv[1]}/catalog.db", warehouse=f"file://{sys.argv[1]}/wh")
            t = c.load_table("db.events")
            rows = t.scan().to_arrow()
            flt = GreaterThanOrEqual("event_time", int(sys.argv[2]))
            planned = list(t.scan(row_filter=flt).plan_files())
            filtered = t.scan(row_filter=flt).to_arrow()
            print(json.dumps({"rows": len(rows), "id_sum": sum(rows.column("id").to_pylist()),
                              "names": sorted(set(rows.column("name").to_pylist())),
                              "planned_files": len(planned), "filtered_rows": len(filtered),
                              "snapshots": len(t.metadata.snapshots), "metadata": t.metadata_location}))
            """, arguments: [dir.path, String(cutoff)])
        let result = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
        let expectedSum = (0..<6).reduce(Int64(0)) { sum, f in sum + (0..<50).reduce(Int64(0)) { $0 + Int64(f * 1000 + $1) } }
        #expect(result["rows"] == .int(300))
        #expect(result["id_sum"] == .int(expectedSum))
        #expect(result["names"] == .array((0..<7).map { .string("n\($0)") }))
        #expect(result["planned_files"] == .int(2), "partition pruning should leave the two files of hours 4 and 5")
        #expect(result["filtered_rows"] == .int(100))
        #expect(result["snapshots"] == .int(3))

        // DuckDB's iceberg extension on the metadata file.
        let duck = try await PythonTool.run(
            """
            import sys, duckdb
            from duckdb_extensions import import_extension
            con = duckdb.connect()
            con.execute("SET autoinstall_known_extensions=false")
            for ext in ("avro", "iceberg"):
                import_extension(ext, con=con)
                con.execute(f"LOAD {ext}")
            print(con.execute(f"SELECT count(*), sum(id) FROM iceberg_scan('{sys.argv[1]}')").fetchone())
            """, arguments: [table.metadataLocation])
        #expect(duck.trimmingCharacters(in: .whitespacesAndNewlines) == "(300, \(expectedSum))")
    }

    /// Two writers, each with its own catalog connection, append to the same table at the same time:
    /// both snapshots land, one after the other.
    @Test func concurrentAppendsBothLand() async throws {
        let dir = try TestEnvironment.temporaryDirectory("append2")
        defer { TestEnvironment.cleanUp(dir) }
        let a = try SQLiteCatalog(name: "c", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        let b = try SQLiteCatalog(name: "c", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await a.createNamespace(["db"])
        let created = try await a.createTable(Self.table, schema: Self.schema, spec: Self.spec, properties: ["commit.retry.min-wait-ms": "5", "commit.retry.max-wait-ms": "50"])
        let filesA = try await Self.dataFiles(at: created.metadata.location, files: 3, rows: 10, start: 0)
        let filesB = try await Self.dataFiles(at: created.metadata.location, files: 3, rows: 10, start: 3)
        let retries = Counter()
        let tableA = try await a.loadTable(Self.table), tableB = try await b.loadTable(Self.table)
        async let first: Table = {
            var append = FastAppend(table: tableA, catalog: a)
            append.add(contentsOf: filesA)
            append.onRetry = { _, _ in retries.increment() }
            return try await append.commit()
        }()
        async let second: Table = {
            var append = FastAppend(table: tableB, catalog: b)
            append.add(contentsOf: filesB)
            append.onRetry = { _, _ in retries.increment() }
            return try await append.commit()
        }()
        _ = try await (first, second)
        let final = try await a.loadTable(Self.table)
        #expect(final.metadata.snapshots.count == 2)
        #expect(final.metadata.ancestors().count == 2)
        #expect(final.metadata.currentSnapshot?.summary["total-records"] == "60")
        #expect(final.metadata.currentSnapshot?.summary["total-data-files"] == "6")
        let output = try await PythonTool.run(
            """
            import sys
            from pyiceberg.catalog.sql import SqlCatalog
            c = SqlCatalog("c", uri=f"sqlite:///{sys.argv[1]}/catalog.db", warehouse=f"file://{sys.argv[1]}/wh")
            print(len(c.load_table("db.events").scan().to_arrow()))
            """, arguments: [dir.path])
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "60")
        // Both started from the empty table, so the later one had to rebuild on the earlier one's snapshot.
        #expect(retries.value >= 1)
    }
}

/// A thread-safe counter for callbacks.
final class Counter: @unchecked Sendable {
    // Safe: every access holds the lock.
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

extension Array where Element: Sendable {
    func asyncFlatMap<T: Sendable>(_ transform: (Element) async throws -> [T]) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result += try await transform(element) }
        return result
    }
}
