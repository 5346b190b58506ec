"""Regenerates the PyIceberg-written table metadata fixtures in this folder.

Run from the repository root with the test environment: .venv/bin/python Fixtures/iceberg/make_metadata_fixtures.py
Writes pyiceberg-v2-partitioned.metadata.json (two appends, five transforms, a schema change) and
pyiceberg-v1.metadata.json (format-version 1, one append).
"""
import datetime, glob, os, shutil, tempfile
import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.schema import Schema
from pyiceberg.types import (NestedField, LongType, StringType, TimestamptzType, DateType, DoubleType, DecimalType,
                             ListType, MapType, StructType, BooleanType, IntegerType)
from pyiceberg.partitioning import PartitionSpec, PartitionField
from pyiceberg.transforms import HourTransform, BucketTransform, TruncateTransform, DayTransform, IdentityTransform

here = os.path.dirname(os.path.abspath(__file__))
work = tempfile.mkdtemp()
catalog = SqlCatalog("fixtures", uri=f"sqlite:///{work}/catalog.db", warehouse=f"file://{work}/wh")
catalog.create_namespace("db")

schema = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "event_time", TimestamptzType(), required=False),
    NestedField(3, "name", StringType(), required=False),
    NestedField(4, "day", DateType(), required=False),
    NestedField(5, "amount", DecimalType(9, 2), required=False),
    NestedField(6, "tags", ListType(7, StringType(), element_required=False), required=False),
    NestedField(8, "attrs", MapType(9, StringType(), 10, DoubleType(), value_required=False), required=False),
    NestedField(11, "device", StructType(NestedField(12, "os", StringType()), NestedField(13, "ok", BooleanType())), required=False),
    identifier_field_ids=[1],
)
spec = PartitionSpec(
    PartitionField(2, 1000, HourTransform(), "event_time_hour"),
    PartitionField(1, 1001, BucketTransform(8), "id_bucket"),
    PartitionField(3, 1002, TruncateTransform(4), "name_trunc"),
    PartitionField(4, 1003, DayTransform(), "day_day"),
    PartitionField(13, 1004, IdentityTransform(), "device_ok"),
)
table = catalog.create_table("db.events", schema=schema, partition_spec=spec, properties={"owner": "fixtures"})
arrow_schema = table.schema().as_arrow()
def batch(start):
    n = 3
    return pa.Table.from_pylist([{
        "id": start + i,
        "event_time": datetime.datetime(2026, 11, 24, 10 + i, 5, tzinfo=datetime.timezone.utc),
        "name": f"name-{i}", "day": datetime.date(2026, 11, 24), "amount": None,
        "tags": ["a", "b"], "attrs": {"k": 1.5}, "device": {"os": "linux", "ok": True},
    } for i in range(n)], schema=arrow_schema)
table.append(batch(0))
table.append(batch(100))
with table.update_schema() as update:
    update.add_column("extra", IntegerType())
v2 = sorted(glob.glob(f"{work}/wh/db/events/metadata/*.metadata.json"))[-1]
shutil.copy(v2, os.path.join(here, "pyiceberg-v2-partitioned.metadata.json"))

simple = Schema(NestedField(1, "id", LongType(), required=True), NestedField(2, "name", StringType(), required=False))
v1table = catalog.create_table("db.legacy", schema=simple, properties={"format-version": "1"})
v1table.append(pa.Table.from_pylist([{"id": 1, "name": "x"}], schema=v1table.schema().as_arrow()))
v1 = sorted(glob.glob(f"{work}/wh/db/legacy/metadata/*.metadata.json"))[-1]
shutil.copy(v1, os.path.join(here, "pyiceberg-v1.metadata.json"))
shutil.rmtree(work)
print("wrote", os.listdir(here))
