#!/usr/bin/env python3
"""`hive-sim serve --sim-clock`: the plugins run on simulated time, which
follows the wall clock and jumps with dev-sim-advance; their cycles run as
simulated time passes, and what they read (listforwards times, their own
clock) is all simulated time."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import ROOT, Serve, Tap  # noqa: E402

t = Tap()
sc = json.load(open(os.path.join(ROOT, "scenarios", "single-node.json")))
start = sc["start_time"]
s = Serve(sc, args=["--sim-clock"]).start()
try:
    a = s.rpc("router")
    st = a.call("revenue-status")
    t.ok(st["uptime_seconds"] < 60, "the plugin's clock starts at the scenario's time", st["uptime_seconds"])
    t.ok(all(c["runs"] == 0 for c in st["cycles"]), "no cycle has run yet", st["cycles"])
    adv = a.call("dev-sim-advance", {"seconds": 7200})
    t.ok(start + 7200 <= adv["now"] < start + 7200 + 60, "simulated time jumped two hours", adv)
    st = a.call("revenue-status")
    t.ok(7200 <= st["uptime_seconds"] < 7260, "the plugin's clock jumped with it", st["uptime_seconds"])
    runs = {c["name"]: c["runs"] for c in st["cycles"]}
    t.ok(runs.get("flow-analysis", 0) >= 1 and runs.get("fee-adjustment", 0) >= 2,
         "the plugin's cycles ran on simulated time", runs)
    t.ok(all(start <= c.get("last_end", start) <= adv["now"] + 60 for c in st["cycles"]),
         "cycle times are simulated times", st["cycles"])
    fw = a.call("listforwards")["forwards"]
    t.ok(len(fw) > 0 and all(start <= f["received_time"] <= adv["now"] + 60 for f in fw),
         "forwards carry simulated times", len(fw))
    t.eq(st["forwards"]["stored"], len(fw), "the plugin stored every forward of the two hours")
finally:
    t.eq(s.stop(), 0, "clean shutdown", s.stderr_text())
    s.cleanup()
t.done()
