#!/usr/bin/env python3
"""hive-sim run: determinism, identical demand with --baseline, options
passed to plugins, scenario errors naming file and path, and plugins that
crash, hang or write garbage reported with their node and stderr, with no
orphan processes left."""
import copy
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import BUILD, ROOT, SIM, Tap  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="hive-it-sim-")
FIXTURE = os.path.join(ROOT, "tests", "integration", "fixtures", "bad-plugin.py")

SC = {
    "name": "it-sim", "seed": 5,
    "nodes": [{"alias": "hub", "fleet": True, "plugins": ["cl-revenue-ops", "cl-hive"]}],
    "generate": {"nodes": 20, "fleet_channels": 6, "competing_paths": 1},
    "traffic": {"capacity_multiplier": 1.0},
}


def write(name, obj):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        if isinstance(obj, str):
            f.write(obj)
        else:
            json.dump(obj, f)
    return path


def run(scenario_path, out, *args, timeout=300):
    p = subprocess.run([SIM, "run", scenario_path, "--out", os.path.join(tmp, out)] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return p


def report(out):
    with open(os.path.join(tmp, out, "report.json")) as f:
        r = json.load(f)
    r.pop("wall", None)
    return r


def orphans():
    # Plugins run in their node's directory under this test's tmp: other
    # tests and other checkouts running at the same time are not ours.
    p = subprocess.run(["pgrep", "-f", "bad-plugin.py|" + os.path.join(BUILD, "cl-")],
                       capture_output=True, text=True)
    mine = []
    for pid in p.stdout.split():
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue  # gone already
        if cwd.startswith(os.path.realpath(tmp) + os.sep):
            mine.append(pid)
    return mine


sc = write("sc.json", SC)

# Determinism: same scenario and seed, byte-identical report (wall aside).
a = run(sc, "a", "--days", "2", "--warmup-days", "1")
b = run(sc, "b", "--days", "2", "--warmup-days", "1")
t.eq(a.returncode, 0, "run succeeds", a.stderr[-2000:])
t.eq(b.returncode, 0, "second run succeeds", b.stderr[-2000:])
if a.returncode == 0 and b.returncode == 0:
    ra, rb = report("a"), report("b")
    t.ok(ra == rb, "same scenario and seed give the same report.json", "differs")
    ta = open(os.path.join(tmp, "a", "timeseries.csv")).read()
    tb = open(os.path.join(tmp, "b", "timeseries.csv")).read()
    t.ok(ta == tb, "and the same timeseries.csv")
    for key in ("scenario", "seed", "days", "nodes", "fleet", "network"):
        t.ok(key in ra, "report has '%s'" % key)
    hub = [n for n in ra["nodes"] if n["alias"] == "hub"][0]
    for key in ("id", "alias", "fleet", "channels", "capacity_sats", "forwards_settled",
                "forwards_failed", "fees_earned_msat", "rebalance_fees_paid_msat",
                "net_profit_msat", "fee_updates"):
        t.ok(key in hub, "node entry has '%s'" % key)
    for key in ("members", "fees_earned_msat", "net_profit_msat", "gini_net_profit"):
        t.ok(key in ra["fleet"], "fleet has '%s'" % key)
    for key in ("payments_attempted", "payments_succeeded", "volume_sats"):
        t.ok(key in ra["network"], "network has '%s'" % key)
    t.ok(ra["network"]["payments_attempted"] > 100, "traffic flowed",
         ra["network"])
    c = run(sc, "c", "--days", "2", "--warmup-days", "1", "--seed", "99")
    t.ok(c.returncode == 0 and report("c")["network"] != ra["network"],
         "another seed gives another run")

# --baseline faces exactly the same payments.
base = run(sc, "base", "--days", "2", "--warmup-days", "1", "--baseline")
t.eq(base.returncode, 0, "baseline run succeeds", base.stderr[-2000:])
if base.returncode == 0 and a.returncode == 0:
    t.eq(report("base")["network"]["payments_attempted"], report("a")["network"]["payments_attempted"],
         "baseline faces the same number of payments")
    t.ok(not os.path.exists(os.path.join(tmp, "base", "nodes", "hub", "revenue_ops.db")),
         "baseline starts no plugin")

# --disable-plugin and --plugin-opt reach only the plugins concerned.
d = run(sc, "dis", "--days", "0.2", "--warmup-days", "0.1", "--disable-plugin", "cl-hive",
        "--plugin-opt", "revenue-ops-min-fee-ppm=33")
t.eq(d.returncode, 0, "run with a disabled plugin and a plugin option", d.stderr[-2000:])
hub_dir = os.path.join(tmp, "dis", "nodes", "hub")
t.ok(os.path.exists(os.path.join(hub_dir, "revenue_ops.db")) and
     not os.path.exists(os.path.join(hub_dir, "cl_hive.db")),
     "--disable-plugin cl-hive starts only cl-revenue-ops")

# Scenario errors name the file, the path inside it and the problem.
cases = [
    ("missing alias", {"name": "x", "nodes": [{"fleet": True}]}, "nodes[0].alias: missing"),
    ("wrong type", {"name": "x", "nodes": [{"alias": "a", "fleet": "yes"}]}, "nodes[0].fleet: must be true or false"),
    ("unknown node", {"name": "x", "nodes": [{"alias": "a"}, {"alias": "b"}],
                      "channels": [{"a": "a", "b": "carol", "capacity_sat": 100000}]},
     "channels[0].b: unknown node 'carol'"),
    ("impossible balance", {"name": "x", "nodes": [{"alias": "a"}, {"alias": "b"}],
                            "channels": [{"a": "a", "b": "b", "capacity_sat": 100000, "a_balance_sat": 200000}]},
     "channels[0].a_balance_sat: impossible balance"),
    ("typo'd field", {"name": "x", "nodes": [{"alias": "a", "flet": True}]}, "nodes[0].flet: unknown field"),
    ("bad traffic", {"name": "x", "nodes": [{"alias": "a"}], "traffic": {"amount_median_sat": -1}},
     "traffic.amount_median_sat"),
    ("bad generate", {"name": "x", "nodes": [{"alias": "a"}], "generate": {"nodes": "many"}},
     "generate.nodes"),
]
for name, doc, want in cases:
    path = write("bad-%s.json" % name.replace(" ", "_").replace("'", ""), doc)
    p = run(path, "bad", "--days", "0.1")
    t.ok(p.returncode == 1 and path in p.stderr and want in p.stderr,
         "scenario error (%s) names file and path" % name, p.stderr)
p = run(write("notjson.json", "{\"name\": \"x\",\n \"nodes\": [}"), "bad")
t.ok(p.returncode == 1 and "notjson.json" in p.stderr and "line 2" in p.stderr,
     "malformed JSON: file and line", p.stderr)

# Misbehaving plugins: reported with node and stderr; the run ends cleanly.
for mode, want in (("crash", "crashing on purpose"), ("garbage", "non-JSON"),
                   ("hang", "hung")):
    doc = copy.deepcopy(SC)
    doc["nodes"][0]["plugins"] = [FIXTURE]
    doc["nodes"][0]["options"] = {"bad-plugin-mode": mode}
    path = write("bad-%s.json" % mode, doc)
    extra = ["--timeout-ms", "3000"] if mode == "hang" else []
    p = run(path, "bad-" + mode, "--days", "0.2", "--warmup-days", "0.1", *extra, timeout=120)
    t.ok(p.returncode == 1 and "hub" in p.stderr and want in p.stderr,
         "a plugin that does '%s' is reported with its node and evidence" % mode, p.stderr[-1500:])
t.eq(orphans(), [], "no plugin processes left behind")

subprocess.run(["rm", "-rf", tmp])
t.done()
