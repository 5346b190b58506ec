import Foundation
import IcebergCore

/// The small table several suites commit to: `id long`, `event_time timestamptz`, `name string`,
/// partitioned by hour, with Parquet files written by pyarrow (Iceberg field ids in the file), one hour per
/// file: an independent writer's files for our commits.
public enum SampleTable {
    public static let schema = Schema(id: 0, fields: [
        .required(1, "id", .primitive(.long)),
        .optional(2, "event_time", .primitive(.timestamptz)),
        .optional(3, "name", .primitive(.string)),
    ])
    public static let spec = PartitionSpec(id: 0, fields: [PartitionField(sourceID: 2, fieldID: 1000, name: "event_time_hour", transform: .hour)])
    public static let firstHour: Int64 = 490_000  // 2025-11-24T16:00Z

    /// Writes `files` Parquet files of `rows` rows under `root`/event_time_hour=H/ (file f holds hour
    /// `firstHour + start + f`, ids `(start + f) * 1000 + i`, names `n0`...`n6`) and prints what a DataFile needs.
    static let writer = #"""
    import sys, json, os, pyarrow as pa, pyarrow.parquet as pq
    root, files, rows, first_hour, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    schema = pa.schema([
        pa.field("id", pa.int64(), nullable=False, metadata={"PARQUET:field_id": "1"}),
        pa.field("event_time", pa.timestamp("us", tz="UTC"), metadata={"PARQUET:field_id": "2"}),
        pa.field("name", pa.string(), metadata={"PARQUET:field_id": "3"}),
    ])
    out = []
    for f in range(files):
        hour = first_hour + start + f
        ids = [(start + f) * 1000 + i for i in range(rows)]
        times = [hour * 3600 * 1000000 + i * 1000000 for i in range(rows)]
        table = pa.table([pa.array(ids, pa.int64()), pa.array(times, pa.timestamp("us", tz="UTC")),
                          pa.array(["n%d" % (i % 7) for i in range(rows)])], schema=schema)
        d = os.path.join(root, "event_time_hour=%d" % hour)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "part-%d.parquet" % hour)
        pq.write_table(table, path)
        out.append({"path": path, "rows": rows, "size": os.path.getsize(path), "hour": hour,
                    "id_min": min(ids), "id_max": max(ids), "t_min": min(times), "t_max": max(times)})
    print(json.dumps(out))
    """#

    /// Data files written locally under `root`; `location` maps each local path to the location recorded
    /// in the table (the same path by default).
    public static func dataFiles(at root: String, files: Int, rows: Int, start: Int, location: (String) -> String = { $0 }) async throws -> [DataFile] {
        let output = try await PythonTool.run(writer, arguments: [root, String(files), String(rows), String(firstHour), String(start)])
        guard case .array(let items) = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestEnvironmentError("writer printed no list: \(output)")
        }
        return try items.map { item in
            func int(_ key: String) throws -> Int64 {
                guard case .int(let v)? = item[key] else { throw TestEnvironmentError("writer output lacks \(key)") }
                return v
            }
            guard case .string(let path)? = item["path"] else { throw TestEnvironmentError("writer output lacks path") }
            let rows = try int("rows")
            return DataFile(
                filePath: location(path), partition: [.int(Int32(try int("hour")))], recordCount: rows, fileSizeInBytes: try int("size"),
                valueCounts: [1: rows, 2: rows, 3: rows], nullValueCounts: [1: 0, 2: 0, 3: 0],
                lowerBounds: [1: Literal.long(try int("id_min")).binary, 2: Literal.timestamptz(try int("t_min")).binary],
                upperBounds: [1: Literal.long(try int("id_max")).binary, 2: Literal.timestamptz(try int("t_max")).binary])
        }
    }
}
