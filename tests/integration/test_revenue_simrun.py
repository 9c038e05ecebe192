#!/usr/bin/env python3
"""cl-revenue-ops' cycles on simulated time (`hive-sim run`): the flow and
fee cycles run on their own timers, every fee the simulator saw change is
in fee_changes, and a run replays exactly from its seed."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import ROOT, SIM, Tap  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="hive-it-run-")


def run(name, sc, days=2):
    out = os.path.join(tmp, name)
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(sc, f)
    p = subprocess.run([SIM, "run", path, "--days", str(days), "--out", out],
                       capture_output=True, text=True, timeout=300)
    t.eq(p.returncode, 0, "%s: hive-sim run succeeds" % name, p.stderr[-2000:])
    rep = json.load(open(os.path.join(out, "report.json")))
    db = sqlite3.connect(os.path.join(out, "nodes", "router", "revenue_ops.db"))
    return rep, db, out


try:
    sc = json.load(open(os.path.join(ROOT, "scenarios", "single-node.json")))
    rep, db, out = run("a", sc)
    router = [n for n in rep["nodes"] if n["alias"] == "router"][0]
    n_changes = db.execute("SELECT COUNT(*) FROM fee_changes WHERE applied = 1 "
                           "AND source IN ('controller', 'policy')").fetchone()[0]
    t.ok(router["fee_updates"] > 0, "the fee cycle changed fees on simulated time", router)
    t.eq(n_changes, router["fee_updates"], "every fee change the network saw is in fee_changes")
    t.eq(db.execute("SELECT COUNT(*) FROM channel_states").fetchone()[0], router["channels"],
         "the flow cycle analysed every channel")
    t.ok(db.execute("SELECT COUNT(*) FROM mempool_samples").fetchone()[0] > 10,
         "one mempool sample per fee cycle (Vegas history)")
    t.ok(db.execute("SELECT COUNT(*) FROM peer_reputation").fetchone()[0] > 0,
         "peer reputation counted from forwards")
    st = db.execute("SELECT COUNT(*) FROM fee_state").fetchone()[0]
    t.eq(st, router["channels"], "a learned state per channel")
    log = open(os.path.join(out, "nodes", "router", "log")).read()
    t.ok("BROKEN" not in log and " warn " not in log.replace("warn    cl-revenue-ops: option", ""),
         "no warnings from the cycles", [l for l in log.splitlines() if "warn" in l][:5])

    # Same scenario, same seed: the same decisions.
    rep2, db2, _ = run("b", sc)
    a = db.execute("SELECT channel_id, old_fee_ppm, new_fee_ppm, timestamp FROM fee_changes "
                   "ORDER BY id").fetchall()
    b = db2.execute("SELECT channel_id, old_fee_ppm, new_fee_ppm, timestamp FROM fee_changes "
                    "ORDER BY id").fetchall()
    t.ok(a == b and len(a) > 0, "a run replays exactly from its seed", (len(a), len(b)))

finally:
    if not os.environ.get("HIVE_KEEP"):
        shutil.rmtree(tmp, ignore_errors=True)
t.done()
