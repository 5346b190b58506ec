import Foundation
import IcebergCore
import TestSupport

/// The table the REST tests write (``SampleTable``) and how PyIceberg reads it back through the server.
enum RESTTestData {
    static let schema = SampleTable.schema
    static let spec = SampleTable.spec

    /// Data files written locally under `root` by pyarrow (see ``SampleTable``).
    static func dataFiles(at root: String, files: Int, rows: Int, start: Int, location: (String) -> String = { $0 }) async throws -> [DataFile] {
        try await SampleTable.dataFiles(at: root, files: files, rows: rows, start: start, location: location)
    }

    /// The sum of the ids of files `start..<start+files` of `rows` rows each.
    static func idSum(files: Int, rows: Int, start: Int) -> Int64 {
        (start..<start + files).reduce(Int64(0)) { sum, f in sum + (0..<rows).reduce(Int64(0)) { $0 + Int64(f * 1000 + $1) } }
    }

    /// Reads the table through PyIceberg's own RestCatalog against `server`; returns rows, id sum, snapshot
    /// count and the metadata location PyIceberg saw.
    static func readWithPyIceberg(server: String, table: String, properties: [String: String]) async throws -> JSONValue {
        let props = JSONValue.object(properties.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }).serialized()
        let output = try await PythonTool.run(
            """
            import sys, json
            from pyiceberg.catalog.rest import RestCatalog
            c = RestCatalog("pyiceberg", uri=sys.argv[1], **json.loads(sys.argv[3]))
            t = c.load_table(sys.argv[2])
            rows = t.scan().to_arrow()
            print(json.dumps({"rows": len(rows), "id_sum": sum(rows.column("id").to_pylist()),
                              "snapshots": len(t.metadata.snapshots), "metadata": t.metadata_location}))
            """, arguments: [server, table, props])
        return try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
