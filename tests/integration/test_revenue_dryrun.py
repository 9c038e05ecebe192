#!/usr/bin/env python3
"""cl-revenue-ops safety switches under `hive-sim serve`: dry run (every
decision made and visible, nothing sent), fee authority off (decide and
report, no setchannel) and pause."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import ROOT, Serve, Tap  # noqa: E402

t = Tap()


def scenario(options=None):
    sc = json.load(open(os.path.join(ROOT, "scenarios", "single-node.json")))
    sc["start_time"] = int(time.time()) - 2 * 86400
    sc.setdefault("traffic", {})["capacity_multiplier"] = 3
    if options:
        sc["nodes"][0]["options"] = options
    return sc


def fees(a):
    return {c["short_channel_id"]: c["fee_proportional_millionths"]
            for c in a.call("listpeerchannels")["channels"] if c.get("short_channel_id")}


def dry_run(t):
    s = Serve(scenario({"revenue-ops-dry-run": "true"})).start()
    try:
        a = s.rpc("router")
        before = fees(a)
        a.call("dev-sim-advance", {"seconds": 2 * 86400})
        w = a.call("revenue-wake-all")
        t.eq(w["fee_cycle"]["safety_block"], "dry_run", "wake-all reports the dry run")
        t.ok(w["fee_cycle"]["not_sent"] > 0, "decisions to change fees were made", w)
        t.eq(fees(a), before, "dry run: no fee changed in listpeerchannels")
        st = a.call("revenue-status")
        t.eq((st["config"]["dry_run"], st["fee_decision"]["safety_block"]), (True, "dry_run"),
             "revenue-status shows the dry run")
        rows = st["recent_fee_changes"]
        t.ok(rows and all(r["dry_run"] and not r["applied"] for r in rows),
             "fee_changes rows marked dry_run, not applied", rows[:2])
        a.call("revenue-wake-all")
        t.eq(len(a.call("revenue-status")["recent_fee_changes"]), len(rows),
             "an unchanged proposal is not recorded twice")
        fd = a.call("revenue-fee-debug")
        ch = [c for c in fd["channels"] if c["last_cycle"]["action"] == "set"][0]
        t.eq((ch["would_apply"], ch["not_applied_because"], ch["last_cycle"]["outcome"]),
             (False, "dry_run", "dry_run"), "fee-debug: decided, not applied, because dry run")
        scid = ch["channel_id"]
        r = a.call("revenue-set-fee", [scid, 1500])
        t.eq((r["status"], fees(a)[scid]), ("dry_run", before[scid]), "set-fee in dry run sends nothing")
    finally:
        t.eq(s.stop(), 0, "serve stops cleanly", s.stderr_text())
        s.cleanup()


def authority_and_pause(t):
    s = Serve(scenario()).start()
    try:
        a = s.rpc("router")
        before = fees(a)
        a.call("dev-sim-advance", {"seconds": 2 * 86400})
        a.call("setconfig", {"config": "revenue-ops-fee-authority-enabled", "val": "false"})
        w = a.call("revenue-wake-all")
        t.eq((w["fee_authority_enabled"], w["fee_cycle"]["safety_block"]),
             (False, "fee_authority_disabled"), "authority off: decided, not sent")
        t.eq(fees(a), before, "authority off: no fee changed")
        rows = a.call("revenue-status")["recent_fee_changes"]
        t.ok(rows and all(not r["applied"] and not r["dry_run"] for r in rows),
             "proposals recorded as not applied", rows[:2])
        scid = next(iter(before))
        t.raises(lambda: a.call("revenue-set-fee", [scid, 300]), 1106,
                 "set-fee denied without fee authority", "authority")
        a.call("setconfig", {"config": "revenue-ops-fee-authority-enabled", "val": "true"})
        a.call("revenue-config", ["set", "paused", "true"])
        w = a.call("revenue-wake-all")
        t.eq(w["fee_cycle"]["safety_block"], "paused", "paused: no actions")
        t.eq(fees(a), before, "paused: no fee changed")
        a.call("revenue-config", ["set", "paused", "false"])
        a.call("revenue-wake-all")
        t.ok(fees(a) != before, "unpaused: fees change")
    finally:
        t.eq(s.stop(), 0, "serve stops cleanly", s.stderr_text())
        s.cleanup()


dry_run(t)
authority_and_pause(t)
t.done()
