#!/usr/bin/env python3
"""cl-revenue-ops when lightningd refuses its calls (the simulator's
dev-sim-fail makes the next calls of a method fail): a refused setchannel
is logged, that channel keeps its fee and its learned state, the cycle
goes on, and the next cycle succeeds; a refused listpeerchannels skips the
cycle with a warning and a clear RPC error, and nothing is half-written."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import ROOT, RpcError, Serve, Tap  # noqa: E402

t = Tap()
sc = json.load(open(os.path.join(ROOT, "scenarios", "single-node.json")))
# Plugins run on the real clock under serve: put the network's history in
# the recent past so its forwards fall inside the plugin's windows.
sc["start_time"] = int(time.time()) - 3 * 86400
sc.setdefault("traffic", {})["capacity_multiplier"] = 3


def fees(a):
    return {c["short_channel_id"]: c["fee_proportional_millionths"]
            for c in a.call("listpeerchannels")["channels"]}


s = Serve(sc).start()
try:
    a = s.rpc("router")
    a.call("dev-sim-advance", {"seconds": 3 * 86400})
    before = fees(a)
    a.call("dev-sim-fail", {"method": "setchannel", "count": 1000,
                            "message": "Channel is in state CHANNELD_SHUTTING_DOWN"})
    w = a.call("revenue-wake-all")
    t.ok(w["status"] == "ok", "the cycle completes although every setchannel fails", w)
    t.eq(fees(a), before, "no fee changed: lightningd refused them all")
    st = a.call("revenue-status")
    t.ok(all(not c["applied"] for c in st["recent_fee_changes"]),
         "fee_changes records nothing as applied", st["recent_fee_changes"][:3])
    log = s.log("router")
    t.ok("CHANNELD_SHUTTING_DOWN" in log, "the refusal is logged with lightningd's message",
         log[-1500:])
    fd = a.call("revenue-fee-debug")
    stale = [ch["channel_id"] for ch in fd["channels"]
             if (ch.get("state") or {}).get("last_set_fee_ppm", -1) not in (-1, before[ch["channel_id"]])]
    t.eq(stale, [], "the learned state still holds the live fees (kept on failure)")

    # Next cycle, lightningd accepts: fees move.
    a.call("dev-sim-fail", {"method": "setchannel", "count": 0})
    a.call("dev-sim-advance", {"seconds": 12 * 3600})
    a.call("revenue-wake-all")
    after = fees(a)
    t.ok(after != before, "once lightningd accepts, the controller applies its fees",
         (before, after))
    t.ok(any(c["applied"] for c in a.call("revenue-status")["recent_fee_changes"]),
         "and records them as applied")

    # A refused gather: the cycle is skipped, the RPC says why.
    a.call("dev-sim-fail", {"method": "listpeerchannels", "count": 5, "code": -1,
                            "message": "lightningd is busy"})
    try:
        a.call("revenue-wake-all")
        t.ok(False, "wake-all reports the failed gather")
    except RpcError as e:
        t.ok("lightningd is busy" in e.message, "wake-all reports the failed gather", e.message)
    a.call("dev-sim-fail", {"method": "listpeerchannels", "count": 0})
    t.eq(a.call("revenue-status")["status"], "running", "the plugin keeps running")
finally:
    t.eq(s.stop(), 0, "clean shutdown", s.stderr_text())
    s.cleanup()
t.done()
