#!/usr/bin/env python3
"""cl-revenue-ops' daily accounting cycle on simulated time (`hive-sim
run`): one financial snapshot per day (the first 300 s after start),
every channel that predates the plugin gets its open record, raw
forwards beyond the retention become rollups while the totals stay
exact, and the snapshots' accumulated revenue matches the forwards."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import SIM, Tap  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="hive-it-acct-")
DAYS = 10


def scenario():
    nodes = [{"alias": "router", "fleet": True, "plugins": ["cl-revenue-ops"],
              "onchain_sat": 3000000}]
    nodes += [{"alias": "ext%d" % i} for i in range(4)]
    chans = [{"a": "router", "b": "ext%d" % i, "capacity_sat": 2000000, "a_balance_sat": 1000000,
              "a_fee": {"base_msat": 1000, "ppm": 150}, "age_days": 40} for i in range(3)]
    chans.append({"a": "ext3", "b": "router", "capacity_sat": 2000000, "a_balance_sat": 1000000,
                  "opener": "a", "b_fee": {"base_msat": 1000, "ppm": 150}, "age_days": 20})
    return {"name": "it-acct-run", "seed": 3, "nodes": nodes, "channels": chans,
            "traffic": {"capacity_multiplier": 4}}


try:
    path = os.path.join(tmp, "sc.json")
    out = os.path.join(tmp, "out")
    with open(path, "w") as f:
        json.dump(scenario(), f)
    p = subprocess.run([SIM, "run", path, "--days", str(DAYS), "--warmup-days", "2", "--out", out,
                        "--plugin-opt", "revenue-ops-forward-retention-days=8"],
                       capture_output=True, text=True, timeout=300)
    t.eq(p.returncode, 0, "hive-sim run succeeds (no crash or leak at exit)", p.stderr[-2000:])
    db = sqlite3.connect(os.path.join(out, "nodes", "router", "revenue_ops.db"))
    snaps = db.execute("SELECT day, timestamp, total_revenue_accumulated_msat, channel_count, "
                       "total_local_balance_msat + total_remote_balance_msat, total_capacity_sat, "
                       "total_costs_accumulated_msat FROM financial_snapshots ORDER BY day").fetchall()
    t.ok(DAYS - 1 <= len(snaps) <= DAYS + 1, "one snapshot per day (%d over %d days)" % (len(snaps), DAYS))
    t.eq(len(set(s[0] for s in snaps)), len(snaps), "at most one per UTC day")
    t.ok(all(s[0] <= s[1] < s[0] + 86400 for s in snaps), "keyed by the UTC day of the snapshot")
    t.ok(all(a[2] <= b[2] for a, b in zip(snaps, snaps[1:])), "revenue accumulated never decreases")
    t.ok(all(s[3] == 4 and s[4] == s[5] * 1000 for s in snaps),
         "channel count, and local + remote = capacity")
    t.ok(all(s[6] == 3 * 5000 * 1000 for s in snaps),
         "costs accumulated: the three opens we paid (estimate), not the peer's")
    rows = db.execute("SELECT opener, open_cost_msat, open_cost_source FROM channel_costs").fetchall()
    t.eq(sorted(rows), sorted([("local", 5000000, "configured_estimate")] * 3 +
                              [("remote", 0, "peer_opened")]),
         "the daily cycle recorded the channels that predate the plugin")
    raw_min = db.execute("SELECT MIN(received_time) FROM forwards").fetchone()[0]
    rolled = db.execute("SELECT COUNT(*) FROM forward_daily").fetchone()[0]
    end = db.execute("SELECT MAX(timestamp) FROM financial_snapshots").fetchone()[0]
    t.ok(rolled > 0 and raw_min >= end - 10 * 86400,
         "raw forwards beyond the retention rolled up (%d rollup rows)" % rolled)
    total = db.execute("SELECT (SELECT COALESCE(SUM(fee_msat), 0) FROM forwards WHERE status = "
                       "'settled' AND received_time <= ?1) + (SELECT COALESCE(SUM(fee_msat), 0) "
                       "FROM forward_daily WHERE direction = 0 AND day <= ?1)",
                       (end,)).fetchone()[0]
    t.ok(abs(snaps[-1][2] - total) <= total * 0.05 + 1000,
         "the last snapshot's revenue matches the forward store", (snaps[-1][2], total))
    log = open(os.path.join(out, "nodes", "router", "log")).read()
    # 24 h +- 10 % drifts: now and then two runs share a UTC day (the
    # later one replaces the earlier row).
    n = log.count("financial snapshot:")
    t.ok(len(snaps) <= n <= len(snaps) + 2, "each snapshot run logged (%d runs)" % n)
    t.ok("accounting of channel" not in log and "snapshot: " not in log.replace("financial snapshot: ", ""),
         "no accounting warnings", [l for l in log.splitlines() if "warn" in l][:5])
finally:
    if not os.environ.get("HIVE_KEEP"):
        shutil.rmtree(tmp, ignore_errors=True)
t.done()
