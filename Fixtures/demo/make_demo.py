"""Writes the demo input under Fixtures/demo/events/: three Firehose-style hours (YYYY/MM/DD/HH/) of
click events, as gzip JSON lines, zstd concatenated JSON (Firehose's no-delimiter records) and plain JSON
lines, with two bad records. Deterministic: run it again and the bytes are the same.

    .venv/bin/python Fixtures/demo/make_demo.py
"""
import datetime, gzip, io, json, os, random

import backports.zstd as zstd

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "events")
rng = random.Random(20261124)
countries = ["DE", "FR", "US", "JP", "BR", "IN"]
tags = ["mobile", "web", "promo", "returning", "new"]
next_id = 1


def record(hour_epoch):
    global next_id
    t = hour_epoch + rng.randrange(3600)
    r = {
        "id": next_id,
        # Two timestamp forms, as real producers mix them: ISO-8601 and epoch milliseconds.
        "event_time": (datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if next_id % 2 else t * 1000 + rng.randrange(1000)),
        "user": {"name": f"user{rng.randrange(500)}", "country": rng.choice(countries)},
        "amount": f"{rng.randrange(100000) / 100:.2f}",
        "tags": rng.sample(tags, rng.randrange(0, 3)),
        "attributes": {"campaign": f"c{rng.randrange(5)}"} if rng.random() < 0.5 else {},
        "ok": rng.random() < 0.9,
    }
    next_id += 1
    return r


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


base = 1795507200  # 2026-11-24T08:00:00Z
for h in range(3):
    hour = base + h * 3600
    folder = os.path.join(root, "2026", "11", "24", f"{8 + h:02d}")
    stamp = f"2026-11-24-{8 + h:02d}"
    lines = [json.dumps(record(hour), separators=(",", ":")) for _ in range(150)]
    if h == 1:
        lines.insert(40, '{"id": "not-a-number", "event_time": "2026-11-24T09:10:00Z"}')
        lines.insert(90, '{"id": 999999, "event_time": "yesterday"')
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write(("\n".join(lines) + "\n").encode())
    write(os.path.join(folder, f"clicks-1-{stamp}-00-00-a.gz"), buf.getvalue())
    concatenated = "".join(json.dumps(record(hour), separators=(",", ":")) for _ in range(100))
    write(os.path.join(folder, f"clicks-1-{stamp}-20-00-b.zst"), zstd.compress(concatenated.encode()))
    plain = "".join(json.dumps(record(hour)) + "\n" for _ in range(50))
    write(os.path.join(folder, f"clicks-1-{stamp}-40-00-c.json"), plain.encode())
