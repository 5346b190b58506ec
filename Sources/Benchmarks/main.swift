// Benchmarks: each hot path timed against its peer (pyarrow, PyIceberg, boto3, DuckDB) in the same run.
print("no benchmarks yet")
