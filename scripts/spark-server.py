#!/usr/bin/env python3
"""One local Spark session with Java Iceberg, driven over stdin/stdout by the test suite.

Spark takes ~20 s to start, so the suite starts this once per test run and sends it requests, one JSON
object per line on stdin; each gets one JSON line on stdout:

    {"catalogs": {"c1": "/abs/warehouse"}, "sql": ["SELECT ...", ...]}
    -> {"ok": true, "results": [{"columns": [...], "rows": [[...], ...]}, ...]}
    -> {"ok": false, "error": "the Java/Python error's message", "statement": 0}

`catalogs` registers Hadoop-type Iceberg catalogs over `file:` warehouses (the object-store catalog's layout;
a name keeps its first warehouse), with table caching off so that every statement sees the newest commit, ours included. Values come back as
JSON: decimals, timestamps, dates and binaries as strings (decimal text, ISO-8601, hex), structs as objects,
maps as lists of [key, value]. Requests are served one at a time. The session stops when stdin closes.

The runtime jar comes from the PyPI package `snowpark-connect-deps-iceberg==1.0.1`
(iceberg-spark-runtime-3.5_2.12-1.9.2); `SPARK_ICEBERG_JAR` overrides it.
"""
import base64
import datetime
import decimal
import glob
import json
import os
import sys


def runtime_jar():
    if os.environ.get("SPARK_ICEBERG_JAR"):
        return os.environ["SPARK_ICEBERG_JAR"]
    import snowpark_connect_deps_iceberg  # noqa: F401 (only its folder is used)
    folder = os.path.dirname(snowpark_connect_deps_iceberg.__file__)
    jars = glob.glob(os.path.join(folder, "**", "iceberg-spark-runtime-3.5_2.12-*.jar"), recursive=True)
    if not jars:
        raise SystemExit(f"spark-server: no iceberg-spark-runtime-3.5_2.12 jar under {folder}")
    return sorted(jars)[-1]


def to_json(value):
    from pyspark.sql import Row
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return repr(value)
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, Row):
        return {k: to_json(v) for k, v in value.asDict(recursive=False).items()}
    if isinstance(value, dict):
        return [[to_json(k), to_json(v)] for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return str(value)


def main():
    # Spark's own chatter goes to stderr; stdout carries only the answers.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("TZ", "UTC")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("iceberg-ingest-tests")
        .config("spark.jars", runtime_jar())
        .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "1g"))
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    registered = {}
    print(json.dumps({"ok": True, "ready": spark.version}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        index = -1
        try:
            for name, warehouse in request.get("catalogs", {}).items():
                if name in registered:
                    if registered[name] != warehouse:
                        raise ValueError(f"catalog {name} is {registered[name]}, not {warehouse}")
                    continue
                prefix = f"spark.sql.catalog.{name}"
                spark.conf.set(prefix, "org.apache.iceberg.spark.SparkCatalog")
                spark.conf.set(prefix + ".type", "hadoop")
                spark.conf.set(prefix + ".warehouse", "file://" + os.path.abspath(warehouse))
                spark.conf.set(prefix + ".cache-enabled", "false")
                registered[name] = warehouse
            results = []
            for index, statement in enumerate(request.get("sql", [])):
                frame = spark.sql(statement)
                rows = frame.collect()
                results.append({"columns": frame.columns, "rows": [[to_json(v) for v in row] for row in rows]})
            answer = {"ok": True, "results": results}
        except Exception as error:  # the test reports it, with the statement
            message = str(error).strip().splitlines()
            answer = {"ok": False, "statement": index, "error": "\n".join(message[:12])}
        print(json.dumps(answer), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
