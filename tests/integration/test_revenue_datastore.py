#!/usr/bin/env python3
"""What cl-revenue-ops publishes in lightningd's datastore after each fee
cycle, read back with `listdatastore revenue` as another plugin or a
dashboard would: revenue/status (operator controls and the cycle's
decision) and revenue/fee-bounds every cycle, revenue/dashboard and
revenue/profitability-summary at most every 6 hours."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import ROOT, Serve, Tap  # noqa: E402

t = Tap()


def scenario():
    sc = json.load(open(os.path.join(ROOT, "scenarios", "single-node.json")))
    sc["start_time"] = int(time.time()) - 2 * 86400
    return sc


def published(a):
    out = {}
    for e in a.call("listdatastore", {"key": ["revenue"]})["datastore"]:
        if e["key"][:1] == ["revenue"] and len(e["key"]) == 2:
            leaf = a.call("listdatastore", {"key": e["key"]})["datastore"][0]
            out[e["key"][1]] = (leaf["generation"], json.loads(leaf["string"]))
    return out


s = Serve(scenario()).start()
try:
    a = s.rpc("router")
    t.eq(published(a), {}, "nothing published before the first fee cycle")
    a.call("revenue-cycle", ["fees"])
    p = published(a)
    t.eq(sorted(p), ["dashboard", "fee-bounds", "profitability-summary", "status"],
         "four keys under revenue/", sorted(p))
    active = [c for c in a.call("listpeerchannels")["channels"] if c["state"] == "CHANNELD_NORMAL"]

    st = p["status"][1]
    t.eq(st["operator_controls"], {"paused": False, "dry_run": False, "fee_authority_enabled": True},
         "status: operator controls")
    t.eq(st["fee_decision"]["evaluated"], len(active), "status: every active channel evaluated")
    t.ok(st["fee_decision"]["time"] == st["timestamp"] > 0, "status: stamped with the cycle's time", st)
    t.eq({k: v for k, v in p["fee-bounds"][1].items() if k != "timestamp"},
         {"min": 10, "max": 10000, "mid": 5005}, "fee-bounds: the configured range and its middle")

    dash = p["dashboard"][1]
    t.eq(dash["period"]["window_days"], 30, "dashboard: 30 days")
    live = a.call("revenue-dashboard")
    # Both read the wall clock, a second apart at most: the window's start
    # follows each one's own clock, everything else must be equal.
    for d in (dash, live):
        t.eq(d["period"]["since"], d["generated_at"] - 30 * 86400,
             "dashboard: the window starts 30 days before it was made")
    def clockless(d):
        return {**d, "timestamp": 0, "generated_at": 0,
                "period": {**d["period"], "since": 0}}
    t.eq(clockless(dash), clockless(live), "dashboard: what revenue-dashboard answers")
    prof = p["profitability-summary"][1]
    t.eq(sorted(c["channel_id"] for c in prof["channels"]),
         sorted(c["short_channel_id"] for c in active), "profitability: every active channel")
    by_class = a.call("revenue-profitability")["channels_by_class"]
    live = {c["channel_id"]: (cls, c["net_profit_sats"]) for cls, lst in by_class.items() for c in lst}
    t.eq({c["channel_id"]: (c["profitability_class"], c["net_profit_sats"]) for c in prof["channels"]},
         live, "profitability: each channel's class and net profit as revenue-profitability shows them")
    t.ok(all({"profitability_class", "roi_percentage", "fee_multiplier", "forward_count",
              "fees_earned_sats", "total_costs_sats"} <= set(c) for c in prof["channels"]),
         "profitability: class, ROI, fee multiplier and counters per channel")

    # The next cycle: status and bounds rewritten, the reports kept (6 h).
    a.call("revenue-config", ["set", "paused", "true"])
    a.call("revenue-config", ["set", "min_fee_ppm", "20"])
    a.call("revenue-cycle", ["fees"])
    q = published(a)
    t.eq((q["status"][0], q["fee-bounds"][0]), (p["status"][0] + 1, p["fee-bounds"][0] + 1),
         "status and fee-bounds rewritten every cycle (generation +1)")
    t.eq((q["dashboard"][0], q["profitability-summary"][0]),
         (p["dashboard"][0], p["profitability-summary"][0]),
         "dashboard and profitability kept within 6 hours")
    t.eq((q["status"][1]["operator_controls"]["paused"], q["status"][1]["fee_decision"]["safety_block"]),
         (True, "paused"), "status: paused, and the cycle says so")
    t.eq(q["fee-bounds"][1]["min"], 20, "fee-bounds follow revenue-config")
    warned = [ln for ln in s.log("router").splitlines() if "datastore" in ln and "warn" in ln]
    t.eq(warned, [], "no datastore warning")

    # lightningd refuses the writes of two cycles: one warning, the cycles
    # still succeed, and the next cycle publishes again.
    a.call("dev-sim-fail", {"method": "datastore", "count": 4, "message": "disk full"})
    a.call("revenue-cycle", ["fees"])
    a.call("revenue-cycle", ["fees"])
    warned = [ln for ln in s.log("router").splitlines() if "datastore" in ln and "warn" in ln]
    t.eq(len(warned), 1, "refused writes: logged at warn once", warned)
    t.ok(warned and "disk full" in warned[0], "the warning says why", warned)
    fee = [c for c in a.call("revenue-status")["cycles"] if c["name"] == "fee-adjustment"][0]
    t.eq(fee.get("last_error"), None, "the fee cycle did not fail", fee)
    a.call("revenue-cycle", ["fees"])
    r = published(a)
    t.eq(r["status"][0], q["status"][0] + 1, "the next cycle publishes again")
finally:
    t.eq(s.stop(), 0, "clean shutdown", s.stderr_text())
    s.cleanup()
t.done()
