#!/usr/bin/env python3
"""hive-sim's yardstick end to end: every baseline runs the same payments
as the plugins; market-median and balance-proportional set the fees they
promise; the oracle is at least as good as every static baseline and is
read back from its cache; reacting competitors change their fees; `hive-sim
compare` runs the real plugin binary and every baseline over two seeds and
writes its table and compare.json; and bad input (an unknown baseline, a
sensitivity outside the three, a competitor share outside 0..1, an oracle
cache for another seed) is a clear error before anything runs."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import SIM, Tap  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="hive-it-compare-")
env = dict(os.environ, HIVE_SIM_CACHE=os.path.join(tmp, "cache"))

SC = {
    "name": "it-compare", "seed": 5,
    "nodes": [{"alias": "hub", "fleet": True, "plugins": ["cl-revenue-ops"]}],
    "generate": {"nodes": 16, "fleet_channels": 4},
    "competitors": {"share": 0.5},
}
DAYS = ["--days", "1.5", "--warmup-days", "0.5"]


def write(name, obj):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def sim(*args, timeout=600):
    return subprocess.run([SIM] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=env)


def report(out):
    with open(os.path.join(tmp, out, "report.json")) as f:
        return json.load(f)


def hub(r):
    return [n for n in r["nodes"] if n["alias"] == "hub"][0]


sc = write("sc.json", SC)
runs = {}
for kind in ("stock", "market-median", "balance-proportional", "oracle"):
    p = sim("run", sc, "--out", os.path.join(tmp, kind), "--baseline", kind, *DAYS)
    t.eq(p.returncode, 0, "--baseline %s runs" % kind, p.stderr[-2000:])
    if p.returncode == 0:
        runs[kind] = report(kind)
        t.eq(runs[kind]["baseline"], kind, "report.json names the baseline %s" % kind)

if len(runs) == 4:
    pays = {k: r["network"]["payments_attempted"] for k, r in runs.items()}
    t.ok(len(set(pays.values())) == 1, "every baseline faces the same payments", pays)
    mm = hub(runs["market-median"])["channel_fees"]
    t.ok(all(c["fee_ppm"] > 0 for c in mm), "market-median set every fee", mm)
    t.eq(hub(runs["market-median"])["fee_updates"] <= len(mm), True,
         "market-median sets each fee once")
    bp = hub(runs["balance-proportional"])
    t.ok(bp["fee_updates"] > len(mm), "balance-proportional keeps adjusting (%d updates)"
         % bp["fee_updates"])
    fees = {k: hub(r)["fees_earned_msat"] for k, r in runs.items()}
    t.ok(fees["oracle"] >= fees["stock"] and fees["oracle"] >= fees["market-median"],
         "the oracle earns at least every static baseline", fees)
    o = runs["oracle"].get("oracle", {})
    t.ok(o.get("runs", 0) > 10 and not o.get("from_cache"),
         "the oracle searched (%s runs)" % o.get("runs"))
    t.eq(o.get("search_fees_earned_msat"), fees["oracle"],
         "the run earns what the search found")
    t.ok(runs["stock"]["competitors"]["nodes"] > 0, "competitors react",
         runs["stock"]["competitors"])
    p = sim("run", sc, "--out", os.path.join(tmp, "oracle2"), "--baseline", "oracle", *DAYS)
    t.ok(p.returncode == 0 and "read from the cache" in p.stdout,
         "the second oracle run reads the cache", p.stdout[-1000:] + p.stderr[-1000:])
    if p.returncode == 0:
        t.eq(hub(report("oracle2"))["fees_earned_msat"], fees["oracle"],
             "and earns the same")

# Competitors that react move their fees; without them nobody does.
def external_updates(r):
    return sum(n["fee_updates"] for n in r["nodes"] if not n["fleet"])


p = sim("run", sc, "--out", os.path.join(tmp, "static"), "--baseline", "--competitor-share", "0",
        *DAYS)
t.eq(p.returncode, 0, "a bare --baseline is the stock one", p.stderr[-1000:])
if p.returncode == 0 and "stock" in runs:
    t.eq(report("static")["baseline"], "stock", "... and says so")
    t.eq(external_updates(report("static")), 0, "share 0: no external fee changes")
    t.ok(external_updates(runs["stock"]) > 0, "share 0.5: external nodes change fees (%d)"
         % external_updates(runs["stock"]))

# Bad input: a clear error, nothing run.
bad = [
    (["run", sc, "--baseline", "median"], "unknown baseline 'median'"),
    (["run", sc, "--sensitivity", "extreme"], "'extreme' is not low, default or high"),
    (["run", sc, "--competitor-share", "1.5"], "'1.5' is not a share in [0, 1]"),
    (["compare", sc, "--baselines", "oracle,cheap"], "unknown baseline 'cheap'"),
    (["compare", sc, "--sensitivity", "medium"], "'medium' is not low, default, high or all"),
    (["compare", sc, "--competitor-share", "-1"], "is not a share in [0, 1]"),
]
for args, want in bad:
    out = os.path.join(tmp, "never-%d" % len(args))
    p = sim(*(args + ["--out", out]))
    t.ok(p.returncode != 0 and want in p.stderr, "%s: %s" % (" ".join(args[2:]), want),
         p.stderr[-500:])
    t.ok(not os.path.exists(out), "... before anything ran")
sc_bad = write("sc-bad.json", dict(SC, competitors={"share": 2}))
p = sim("run", sc_bad, "--out", os.path.join(tmp, "never-share"))
t.ok(p.returncode != 0 and "competitors.share: must be a number in [0, 1]" in p.stderr,
     "a competitor share outside 0..1 in the scenario names the field", p.stderr[-500:])
sc_bad = write("sc-bad2.json", dict(SC, traffic={"fee_sensitivity": "wild"}))
p = sim("run", sc_bad, "--out", os.path.join(tmp, "never-sens"))
t.ok(p.returncode != 0 and "traffic.fee_sensitivity" in p.stderr,
     "a sensitivity outside the three in the scenario names the field", p.stderr[-500:])
cache = os.path.join(tmp, "mine.json")
p = sim("run", sc, "--out", os.path.join(tmp, "o-seed5"), "--baseline", "oracle",
        "--oracle-cache", cache, *DAYS)
t.eq(p.returncode, 0, "an oracle with an explicit cache file", p.stderr[-1000:])
p = sim("run", sc, "--out", os.path.join(tmp, "never-o"), "--baseline", "oracle", "--seed", "6",
        "--oracle-cache", cache, *DAYS)
t.ok(p.returncode != 0 and "it is for seed 5, not 6" in p.stderr,
     "an oracle cache from another seed is refused", p.stderr[-500:])
t.ok(not os.path.exists(os.path.join(tmp, "never-o")), "... before anything ran")

# compare: the real plugin binary against every baseline, two seeds.
out = os.path.join(tmp, "cmp")
p = sim("compare", sc, "--seeds", "1,2", "--out", out, *DAYS)
t.eq(p.returncode, 0, "compare runs", p.stdout[-2000:] + p.stderr[-2000:])
if p.returncode == 0:
    for name in ("cl-revenue-ops", "market-median", "balance-proportional", "oracle"):
        t.ok(any(l.startswith(name) for l in p.stdout.splitlines()),
             "the table has a row for %s" % name, p.stdout[-1500:])
    c = json.load(open(os.path.join(out, "compare.json")))
    d = c["sensitivity"]["default"]
    t.eq(c["seeds"], [1, 2], "compare.json lists the seeds")
    t.eq(d["market-median"]["fees_vs_market_median"]["mean"], 1.0,
         "market-median is the ratio's yardstick")
    t.ok(all(d[k]["fees_earned_sat"]["min"] <= d[k]["fees_earned_sat"]["mean"]
             <= d[k]["fees_earned_sat"]["max"] for k in d), "mean within the spread")
    pl = [json.load(open(os.path.join(out, "default", "seed%d" % s, "plugins", "report.json")))
          for s in (1, 2)]
    t.ok(all(hub(r)["fee_updates"] > 0 for r in pl), "the plugin ran and set fees")
    for s in (1, 2):
        reps = [json.load(open(os.path.join(out, "default", "seed%d" % s, k, "report.json")))
                for k in ("plugins", "market-median", "oracle")]
        t.ok(len({r["network"]["payments_attempted"] for r in reps}) == 1,
             "seed %d: plugin and baselines face the same payments" % s)
    t.ok(d["oracle"]["fees_earned_sat"]["mean"] >= d["market-median"]["fees_earned_sat"]["mean"],
         "the oracle beats market-median on average")
t.done()
