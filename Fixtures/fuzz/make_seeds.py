"""Makes the fuzz seeds in Fixtures/fuzz/<target>/valid-*: small valid inputs of every parser, written by
independent tools (pyarrow, fastavro, Python's gzip, zstandard, cramjam) where one exists, and by IcebergIngest
itself for the files only it writes (checkpoint, lineage) and for its own Parquet, manifests and metadata.

    .venv/bin/python Fixtures/fuzz/make_seeds.py <a table folder written by `iceberg-ingest demo`>

Deterministic for the peer-written seeds (fixed values, gzip mtime 0); the copies from the table change with
each demo run but only need to be valid. Inputs the fuzzer found faults with are kept beside the seeds
(named crash-*, timeout-*, oom-*) and are not made here.
"""
import glob, gzip, io, json, os, shutil, struct, sys, zipfile

import cramjam
import fastavro
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

here = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    os.makedirs(os.path.join(here, target), exist_ok=True)
    with open(os.path.join(here, target, name), "wb") as f:
        f.write(data)


records = [
    {"id": 1, "t": "2026-11-24T10:15:30Z", "name": "a\u00e9\n\"q\"", "price": 12.5, "ok": True, "d": "2026-11-24",
     "score": 1.5e3, "n": 7, "u": "123e4567-e89b-12d3-a456-426614174000", "f": 0.5, "b": "aGk=",
     "tags": ["x", "y"], "attrs": {"k": 3}, "user": {"name": "ann", "age": 30}},
    {"id": 2, "t": 1764000000, "price": "3", "ok": "false", "score": "NaN", "n": "-8", "tags": [], "user": None},
    {"id": 3, "t": 1764000000123, "name": None, "attrs": {}},
]
lines = "".join(json.dumps(r) + "\n" for r in records).encode()
put("json", "valid-lines.json", lines)
put("json", "valid-concatenated.json", "".join(json.dumps(r, separators=(",", ":")) for r in records).encode())
put("json", "valid-pretty.json", "".join(json.dumps(r, indent=2) + "\n" for r in records[:2]).encode())

csv_text = 'id,t,name,price,ok,d,score,n,tags,user\n1,2026-11-24T10:15:30Z,"a,""b""\nc",12.50,true,2026-11-24,1.5,7,"[""x""]","{""name"": ""ann"", ""age"": 3}"\n2,1764000000,,3,false,,NaN,-8,,\n'
put("csv", "valid-comma.csv", b"," + csv_text.encode())
tsv_text = 'id\tname\ttags\tattrs\n1\t"a\tb"\t["x"]\t{"k": 1}\n2\t\t\t\n'
put("csv", "valid-tab.tsv", b"\t" + tsv_text.encode())
# A first byte of 4 makes the csv target read text lines.
put("csv", "valid-text.log", b"\x04" + "first line\r\n\nsecond \u00e9\n\tthird\nlast".encode())

put("decompress", "valid-plain.json", lines)
buf = io.BytesIO()
with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as g:
    g.write(lines)
put("decompress", "valid-gzip-two-members.gz", buf.getvalue() + gzip.compress(lines, mtime=0))
put("decompress", "valid-zstd.zst", zstandard.ZstdCompressor(write_checksum=True).compress(lines))
put("decompress", "valid-snappy-framed.sz", bytes(cramjam.snappy.compress(lines)))
block = bytes(cramjam.snappy.compress_raw(lines))
zipped = io.BytesIO()
with zipfile.ZipFile(zipped, "w") as z:
    z.writestr(zipfile.ZipInfo("a.jsonl"), lines, compress_type=zipfile.ZIP_DEFLATED)
    z.writestr(zipfile.ZipInfo("b.jsonl"), lines[:40], compress_type=zipfile.ZIP_STORED)
put("decompress", "valid-zip.zip", zipped.getvalue())
put("decompress", "valid-snappy-hadoop.snappy", struct.pack(">I", len(lines)) + struct.pack(">I", len(block)) + block)

table = pa.table({
    "id": pa.array([1, 2, 3], pa.int64()),
    "name": pa.array(["a", None, "c"]),
    "score": pa.array([1.5, None, float("nan")]),
    "tags": pa.array([["x"], [], None], pa.list_(pa.string())),
})
for codec in ["snappy", "zstd", "gzip", "none"]:
    out = io.BytesIO()
    pq.write_table(table, out, compression=codec, data_page_size=64)
    put("parquet", f"valid-pyarrow-{codec}.parquet", out.getvalue())

schema = {"type": "record", "name": "r", "fields": [
    {"name": "id", "type": "long"}, {"name": "name", "type": ["null", "string"]},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "m", "type": {"type": "map", "values": "int"}}, {"name": "f", "type": {"type": "fixed", "name": "f16", "size": 4}}]}
rows = [{"id": i, "name": None if i % 2 else "n%d" % i, "tags": ["a"] * (i % 3), "m": {"k": i}, "f": b"abcd"} for i in range(20)]
for codec in ["null", "deflate", "snappy", "zstandard"]:
    out = io.BytesIO()
    fastavro.writer(out, schema, rows, codec=codec, sync_interval=200)
    put("avro", f"valid-fastavro-{codec}.avro", out.getvalue())

if len(sys.argv) > 1:
    table_folder = sys.argv[1]
    def first(pattern):
        found = sorted(glob.glob(os.path.join(table_folder, pattern), recursive=True))
        if not found:
            sys.exit(f"nothing matches {pattern} under {table_folder}")
        return found[0]
    shutil.copy(first("data/**/*.parquet"), os.path.join(here, "parquet", "seed-ours.parquet"))
    shutil.copy(first("metadata/*-m0.avro"), os.path.join(here, "avro", "valid-our-manifest.avro"))
    shutil.copy(first("metadata/snap-*.avro"), os.path.join(here, "avro", "valid-our-manifest-list.avro"))
    shutil.copy(first("metadata/**/*.ckpt"), os.path.join(here, "checkpoint", "valid-ours.ckpt"))
    shutil.copy(first("metadata/**/archive/*.arc"), os.path.join(here, "checkpoint", "valid-our-archive.arc"))
    shutil.copy(first("metadata/**/lineage/*.ingest.json"), os.path.join(here, "lineage", "valid-ours.ingest.json"))
    shutil.copy(first("metadata/00001-*.metadata.json"), os.path.join(here, "metadata", "valid-ours.metadata.json"))
    for name in ["pyiceberg-v1.metadata.json", "pyiceberg-v2-partitioned.metadata.json"]:
        shutil.copy(os.path.join(here, "..", "iceberg", name), os.path.join(here, "metadata", "valid-" + name))
