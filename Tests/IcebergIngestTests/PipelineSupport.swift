import Foundation
import IcebergCore
import S3Reader
import TestSupport

@testable import IcebergIngest

/// Source data made by Python (so the expected values are computed independently of our parser) and the
/// checks that read our tables back with PyIceberg and DuckDB.
enum PipelineSupport {
    /// `<dir>/in/YYYY/MM/DD/HH/` for `hour` (Firehose's layout, under the folder the local source reads),
    /// created.
    static func hourFolder(in dir: URL, hour: Int32) throws -> URL {
        let folder = dir.appendingPathComponent("in/" + PrefixLayout.firehose.prefix(forHour: hour))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    static let schemaText = """
        id long not null, event_time timestamptz, user struct<name string, country string>, amount decimal(10,2), \
        tags list<string>, attrs map<string, int>, ok boolean, score double
        """

    /// Writes Firehose-style files: argv = destination (a folder, or s3://bucket/prefix/), first hour (epoch
    /// hours), hours, files per hour, records per file, first id, endpoint (for s3). Prints the expected rows
    /// (normalised) as JSON on stdout.
    static let generator = #"""
    import sys, json, gzip, io, os, random
    dest, first_hour, hours, files, records, first_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    endpoint = sys.argv[7] if len(sys.argv) > 7 else ""
    import datetime
    from decimal import Decimal
    rng = random.Random(first_id)
    s3 = None
    if dest.startswith("s3://"):
        import boto3
        s3 = boto3.client("s3", endpoint_url=endpoint)
        bucket, prefix = dest[5:].split("/", 1)
    expected = []
    next_id = first_id
    for h in range(hours):
        hour = first_hour + h
        dt = datetime.datetime.fromtimestamp(hour * 3600, datetime.timezone.utc)
        folder = dt.strftime("%Y/%m/%d/%H/")
        for f in range(files):
            lines = []
            for r in range(records):
                micros = hour * 3600 * 1000000 + rng.randrange(3600 * 1000000)
                rec = {"id": next_id}
                form = next_id % 3
                if form == 0:
                    rec["event_time"] = datetime.datetime.fromtimestamp(micros // 1000000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (micros % 1000000)
                elif form == 1:
                    micros -= micros % 1000
                    rec["event_time"] = micros // 1000
                else:
                    rec["event_time"] = micros
                name = rng.choice(["ann", "bob", "zoë", "li \"q\"", None])
                rec["user"] = {"name": name, "country": rng.choice(["DE", "FR", "US"])} if next_id % 7 else None
                cents = rng.randrange(-100000, 100000)
                rec["amount"] = str(Decimal(cents) / 100) if next_id % 2 else float(Decimal(cents) / 100)
                tags = rng.sample(["a", "b", "c", "d"], rng.randrange(0, 4))
                if next_id % 5: rec["tags"] = tags
                attrs = {k: rng.randrange(100) for k in rng.sample(["x", "y", "z"], rng.randrange(0, 3))}
                rec["attrs"] = attrs
                rec["ok"] = bool(next_id % 2)
                rec["score"] = next_id / 8
                if next_id % 11 == 0: rec["unknown_field"] = "drift"
                lines.append(json.dumps(rec, ensure_ascii=False))
                expected.append({
                    "id": next_id, "event_time": micros,
                    "user": None if not next_id % 7 else {"name": name, "country": rec["user"]["country"]},
                    "amount": "%.2f" % (Decimal(cents) / 100),
                    "tags": tags if next_id % 5 else None,
                    "attrs": dict(sorted(attrs.items())), "ok": bool(next_id % 2), "score": next_id / 8,
                })
                next_id += 1
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
                gz.write(("\n".join(lines) + "\n").encode())
            name = folder + "stream-1-%s-%02d-%s.gz" % (dt.strftime("%Y-%m-%d-%H"), f, "%08x" % rng.randrange(1 << 32))
            if s3:
                s3.put_object(Bucket=bucket, Key=prefix + name, Body=buf.getvalue())
            else:
                os.makedirs(os.path.join(dest, folder), exist_ok=True)
                with open(os.path.join(dest, name), "wb") as out:
                    out.write(buf.getvalue())
    print(json.dumps(expected))
    """#

    /// Reads the table with PyIceberg and DuckDB and compares every row with the expected rows (a JSON
    /// file); prints "OK <rows>" or raises. argv = catalog db (or `metadata:<metadata file>`, or `glue:` for
    /// PyIceberg's GlueCatalog on the endpoint), warehouse, table, expected file, endpoint.
    static let checker = #"""
    import sys, json
    from decimal import Decimal
    db, warehouse, table_name, expected_path = sys.argv[1:5]
    endpoint = sys.argv[5] if len(sys.argv) > 5 else ""
    import os
    props = {}
    if endpoint:
        props = {"s3.endpoint": endpoint, "s3.region": os.environ.get("AWS_REGION", "us-east-1"),
                 "s3.access-key-id": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                 "s3.secret-access-key": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
                 "s3.request-timeout": "60", "s3.connect-timeout": "10"}  # not pyarrow's 3 s: the suite keeps moto busy
    if db == "glue:":
        # The Glue catalog on the test server (moto serves Glue beside S3).
        from pyiceberg.catalog.glue import GlueCatalog
        catalog = GlueCatalog("glue", **{"glue.endpoint": endpoint, "glue.region": props["s3.region"], "glue.access-key-id": props["s3.access-key-id"],
                                         "glue.secret-access-key": props["s3.secret-access-key"]}, **props)
        table = catalog.load_table(table_name)
    elif db.startswith("metadata:"):
        # A table without a catalog database (the object-store catalog): its newest metadata file.
        from pyiceberg.table import StaticTable
        table = StaticTable.from_metadata(db[len("metadata:"):], properties=props)
    else:
        from pyiceberg.catalog.sql import SqlCatalog
        catalog = SqlCatalog("default", uri="sqlite:///" + db, warehouse=warehouse, **props)
        table = catalog.load_table(table_name)
    rows = table.scan().to_arrow().to_pylist()
    def norm(r):
        t = r["event_time"]
        import datetime
        micros = (t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) // datetime.timedelta(microseconds=1)
        return {"id": r["id"], "event_time": micros, "user": r["user"], "amount": "%.2f" % r["amount"],
                "tags": r["tags"], "attrs": dict(sorted(r["attrs"])) if r["attrs"] is not None else {}, "ok": r["ok"], "score": r["score"]}
    got = sorted((norm(r) for r in rows), key=lambda r: r["id"])
    expected = sorted(json.load(open(expected_path)), key=lambda r: r["id"])
    assert len(got) == len(expected), f"{len(got)} rows read, {len(expected)} expected"
    for g, e in zip(got, expected):
        assert g == e, f"row differs:\n got      {g}\n expected {e}"
    # Partition pruning works on our manifests: a one-hour filter plans only that hour's files.
    hours = sorted({e["event_time"] // 3600000000 for e in expected})
    import datetime
    lo = datetime.datetime.fromtimestamp(hours[0] * 3600, datetime.timezone.utc)
    hi = datetime.datetime.fromtimestamp((hours[0] + 1) * 3600, datetime.timezone.utc)
    flt = f"event_time >= '{lo.isoformat()}' and event_time < '{hi.isoformat()}'"
    planned = list(table.scan(row_filter=flt).plan_files())
    all_files = list(table.scan().plan_files())
    assert len(planned) < len(all_files) or len(hours) == 1, f"filter planned {len(planned)} of {len(all_files)} files"
    assert table.scan(row_filter=flt).to_arrow().num_rows == sum(1 for e in expected if e["event_time"] // 3600000000 == hours[0])
    # DuckDB reads the same table.
    import duckdb
    from duckdb_extensions import import_extension
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions=false")
    for ext in ("avro", "httpfs", "iceberg"):
        import_extension(ext, con=con)
        con.execute(f"LOAD {ext}")
    if endpoint:
        host = endpoint.split("://", 1)[1].rstrip("/")
        con.execute(f"CREATE SECRET (TYPE s3, KEY_ID '{props['s3.access-key-id']}', SECRET '{props['s3.secret-access-key']}', REGION '{props['s3.region']}', ENDPOINT '{host}', URL_STYLE 'path', USE_SSL {str(endpoint.startswith('https')).lower()})")
    count, ids, amount = con.execute(f"SELECT count(*), sum(id), sum(amount) FROM iceberg_scan('{table.metadata_location}')").fetchone()
    assert count == len(expected), f"duckdb read {count} rows"
    assert ids == sum(e["id"] for e in expected), "duckdb sum(id) differs"
    assert Decimal(amount) == sum(Decimal(e["amount"]) for e in expected), f"duckdb sum(amount) {amount} differs"
    print("OK", len(got), len(planned), len(all_files))
    """#

    /// Runs the generator; returns the expected rows' JSON text.
    static func generate(into destination: String, firstHour: Int32, hours: Int, files: Int, records: Int, firstID: Int, endpoint: String = "") async throws -> String {
        try await PythonTool.run(generator, arguments: [destination, String(firstHour), String(hours), String(files), String(records), String(firstID), endpoint])
    }

    /// Merges JSON arrays of expected rows.
    static func merge(_ parts: [String]) throws -> String {
        var all: [JSONValue] = []
        for part in parts {
            guard case .array(let rows) = try JSONValue.parse(part.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
            all += rows
        }
        return JSONValue.array(all).serialized()
    }

    static func check(catalogPath: String, warehouse: String, table: String, expected: String, endpoint: String = "", in directory: URL) async throws -> String {
        let file = directory.appendingPathComponent("expected-\(UUID().uuidString.prefix(6)).json")
        try Data(expected.utf8).write(to: file)
        return try await PythonTool.run(checker, arguments: [catalogPath, warehouse, table, file.path, endpoint])
    }

    static func configuration(table: String = "db.events", partition: String = "hour(event_time)") throws -> IngestConfiguration {
        let schema = try SchemaText.schema(schemaText)
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: table), schema: schema)
        configuration.partitionSpec = try SchemaText.partitionSpec(partition, schema: schema)
        configuration.lateArrivalHours = 6
        return configuration
    }
}

/// A source that forwards to `inner` but for its reads, which go through `read` (given `inner`): tests make
/// a producer replace an object between reads, or the bytes come back damaged.
final class InterceptingSource: IngestSource, @unchecked Sendable {
    let inner: any IngestSource
    let read: @Sendable (SourceObject, Range<Int64>, any IngestSource) async throws -> [UInt8]

    init(_ inner: any IngestSource, read: @escaping @Sendable (SourceObject, Range<Int64>, any IngestSource) async throws -> [UInt8]) {
        self.inner = inner
        self.read = read
    }

    var identity: String { inner.identity }
    var layout: PrefixLayout { inner.layout }

    func list(firstOpenHour: Int32?, now: Date) async throws -> SourceListing {
        try await inner.list(firstOpenHour: firstOpenHour, now: now)
    }

    func read(_ object: SourceObject, range: Range<Int64>) async throws -> [UInt8] {
        try await read(object, range, inner)
    }
}
