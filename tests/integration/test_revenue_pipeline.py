#!/usr/bin/env python3
"""cl-revenue-ops' decision pipeline end to end under `hive-sim serve`:
traffic -> flow cycle -> fee cycle -> setchannel; fee_changes and
revenue-fee-debug explain it; a fee changed behind the plugin's back is
adopted, not fought; revenue-set-fee with and without force; bad input
gives clear errors; a restart keeps the learned state and the policies."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import ROOT, RpcError, Serve, Tap  # noqa: E402

t = Tap()


def scenario(options=None):
    sc = json.load(open(os.path.join(ROOT, "scenarios", "single-node.json")))
    # Serve runs the plugins on the real clock: start the network three
    # days ago so its forwards fall inside the plugin's windows.
    sc["start_time"] = int(time.time()) - 3 * 86400
    sc.setdefault("traffic", {})["capacity_multiplier"] = 3
    if options:
        sc["nodes"][0]["options"] = options
    # A peer that drops offline during the traffic (flap protection).
    sc["nodes"].append({"alias": "flaky"})
    sc["channels"] = [{"a": "router", "b": "flaky", "capacity_sat": 2000000,
                       "a_balance_sat": 1000000},
                      {"a": "router", "b": "flaky", "capacity_sat": 1000000,
                       "a_balance_sat": 200000}]
    sc["events"] = [{"at_day": 2.5, "node": "flaky", "offline_hours": 100}]
    return sc


def fees(a):
    return {c["short_channel_id"]: c["fee_proportional_millionths"]
            for c in a.call("listpeerchannels")["channels"]
            if c.get("short_channel_id")}


def pipeline(t):
    s = Serve(scenario()).start()
    try:
        a = s.rpc("router")
        before = fees(a)
        a.call("dev-sim-advance", {"seconds": 3 * 86400})
        w = a.call("revenue-wake-all")
        t.eq(w["status"], "ok", "wake-all ran the flow and fee cycles")
        t.eq(w["channels_woken"], len(before), "every channel evaluated")
        before = {k: v for k, v in before.items() if k in fees(a)}
        after = fees(a)
        changed = [k for k in before if after[k] != before[k]]
        t.ok(len(changed) > 0, "fees changed in listpeerchannels after traffic",
             (before, after))
        st = a.call("revenue-status")
        t.eq(len(st["channel_states"]), len(before), "channel_states filled by the flow cycle")
        t.ok(all(c["state"] in ("source", "sink", "balanced", "balanced_active",
                                "dormant", "congested", "unknown")
                 for c in st["channel_states"]), "flow states are the reference strings")
        t.ok(any(c["forward_count"] > 0 for c in st["channel_states"]), "forward counts stored")
        t.eq(len(st["recent_fee_changes"]), min(10, len(changed)), "recent_fee_changes: last 10")
        rc = st["recent_fee_changes"][0]
        t.ok(rc["new_fee_ppm"] == after[rc["channel_id"]] and rc["source"] in ("controller", "policy")
             and rc["applied"] and not rc["dry_run"], "fee_changes row matches the live fee", rc)
        t.eq(st["fee_decision"]["action"], "set", "fee_decision of the last cycle")
        t.eq(st["recent_rebalances"], [], "recent_rebalances empty (no rebalancer yet)")

        # fee-debug explains, and does not mutate anything.
        scid = changed[0]
        n_changes = len(a.call("revenue-status")["recent_fee_changes"])
        fd = a.call("revenue-fee-debug", {"channel_id": scid})
        t.eq(len(fd["channels"]), 1, "fee-debug for one channel")
        ch = fd["channels"][0]
        steps = [s_["step"] for s_ in ch["decision"]["steps"]]
        t.eq(steps, ["policy", "external", "bounds", "congestion", "vegas", "probe",
                     "fire_sale", "thompson", "cold_start", "scarcity", "min_change",
                     "hysteresis", "idempotent", "refresh"], "fee-debug lists every step in priority order")
        t.ok(all({"reached", "applied", "reason", "numbers", "fee_in_ppm", "fee_out_ppm"} <= set(s_)
                 for s_ in ch["decision"]["steps"]), "each step has reached/applied/reason/numbers")
        t.ok(any("preempted_by" in s_ for s_ in ch["decision"]["steps"]), "preempted steps say by what")
        t.ok(ch["decision"]["why"], "fee-debug says why", ch["decision"])
        t.eq(ch["last_cycle"]["outcome"], "applied", "fee-debug shows the last cycle's outcome")
        t.ok(ch["state"]["last_set_fee_ppm"] == after[scid], "learned state holds the fee set", ch["state"])
        t.eq(fees(a), after, "fee-debug changed no fee")
        t.eq(len(a.call("revenue-status")["recent_fee_changes"]), n_changes, "fee-debug recorded nothing")
        # revenue-analyze is read-only as well.
        an = a.call("revenue-analyze", [scid])
        t.eq((an["channel"], an["read_only"]), (scid, True), "revenue-analyze one channel")
        t.ok({"flow_ratio", "state", "confidence", "kalman_flow_ratio", "peer"} <= set(an["analysis"]),
             "analysis has the FlowMetrics fields", an)
        flaky = [c for c in a.call("listpeerchannels")["channels"]
                 if not c["peer_connected"]][0]["short_channel_id"]
        fl = a.call("revenue-analyze", [flaky])["analysis"]["peer"]
        t.ok(fl["disconnects_24h"] >= 1, "a disconnect reached the uptime history", fl)
        up = [c for c in a.call("listpeerchannels")["channels"]
              if c["peer_connected"]][0]["short_channel_id"]
        fl = a.call("revenue-analyze", [up])["analysis"]["peer"]
        t.eq(fl["uptime_24h_pct"], 100.0, "a connected peer is up", fl)
        full = a.call("revenue-analyze")
        t.ok(any(p["n_channels"] == 2 for p in full["peers"]),
             "a peer with two channels is aggregated", full["peers"])
        states1 = a.call("revenue-status")["channel_states"]
        a.call("revenue-analyze")
        t.eq(a.call("revenue-status")["channel_states"], states1, "revenue-analyze wrote nothing")

        # Coexistence: someone else sets a fee; the plugin adopts it.
        other = changed[-1]
        a.call("setchannel", {"id": other, "feeppm": 777})
        a.call("revenue-wake-all")
        t.eq(fees(a)[other], 777, "an outside fee change is not fought")
        fd = a.call("revenue-fee-debug", [other])["channels"][0]
        t.eq(fd["last_cycle"]["action"], "adopt_external", "fee-debug: the cycle adopted it", fd["last_cycle"])
        t.eq(fd["status"], "held", "fee-debug: now held", fd["decision"]["why"])
        ext = [c for c in a.call("revenue-status")["recent_fee_changes"]
               if c["channel_id"] == other and c["source"] == "external"]
        t.ok(ext and ext[0]["new_fee_ppm"] == 777, "adoption recorded in fee_changes", ext)
        t.ok("adopted, holding instead of fighting" in s.log("router"), "adoption logged")

        # revenue-set-fee: clamped without force, exact with force.
        tgt = changed[1]
        r = a.call("revenue-set-fee", [tgt, 15000])
        t.eq((r["status"], r["new_fee_ppm"], r["clamped"]), ("success", 10000, True),
             "set-fee above max is clamped without force")
        t.eq(fees(a)[tgt], 10000, "clamped fee applied")
        r = a.call("revenue-set-fee", {"channel_id": tgt, "fee_ppm": 15000, "force": True})
        t.eq((r["new_fee_ppm"], r["clamped"], r["forced"]), (15000, False, True), "force goes outside the range")
        t.eq(fees(a)[tgt], 15000, "forced fee applied")
        a.call("revenue-wake-all")
        t.eq(fees(a)[tgt], 15000, "the controller does not undo a manual fee")
        man = [c for c in a.call("revenue-status")["recent_fee_changes"] if c["channel_id"] == tgt]
        t.ok(man[0]["manual"] and man[0]["source"] == "manual" and man[0]["new_fee_ppm"] == 15000,
             "manual change recorded", man[:2])
        r = a.call("revenue-set-fee", [tgt, 100, 0])
        t.eq((fees(a)[tgt], r["base_fee_msat"]), (100, 0), "set-fee with a base fee")

        # Bad input.
        t.raises(lambda: a.call("revenue-set-fee", ["1x2x3", 100]), 1101, "unknown scid", "1x2x3")
        t.raises(lambda: a.call("revenue-set-fee", [tgt, -5]), 1102, "negative fee refused")
        t.raises(lambda: a.call("revenue-set-fee", [tgt, 2000000]), 1102, "absurd fee refused")
        t.raises(lambda: a.call("revenue-set-fee", [tgt, 10, -1]), 1102, "negative base refused")
        t.raises(lambda: a.call("revenue-set-fee", ["garbage", 10]), -32602, "malformed channel id")
        t.raises(lambda: a.call("revenue-fee-debug", ["9x9x9"]), 1101, "fee-debug unknown scid", "9x9x9")
        t.raises(lambda: a.call("revenue-analyze", ["9x9x9"]), 1101, "analyze unknown scid")
        t.raises(lambda: a.call("revenue-set-fee", [tgt]), -32602, "missing fee_ppm")
        t.eq(fees(a)[tgt], 100, "failed calls changed nothing")

        # CLBOSS absent: a clear no-op, not an error.
        cs = a.call("revenue-clboss-status")
        t.eq((cs["clboss_available"], cs["message"]), (False, "clboss is not available"),
             "clboss-status without CLBOSS")
        peer = a.call("listpeerchannels")["channels"][0]["peer_id"]
        rm = a.call("revenue-remanage", [peer])
        t.eq(rm["status"], "skipped", "remanage without CLBOSS is a no-op")

        # Restart: learned state and policies survive.
        a.call("revenue-policy", {"action": "set", "peer_id": peer, "strategy": "static",
                                  "fee_ppm": 333})
        state_before = {c["channel_id"]: c["state"] for c in a.call("revenue-fee-debug")["channels"]}
        live_before = fees(a)
        rc = s.stop()
        t.eq(rc, 0, "serve stops cleanly", s.stderr_text())
        s2 = Serve(s.scenario, dirpath=s.dir).start()
        try:
            a2 = s2.rpc("router")
            pol = a2.call("revenue-policy", ["get", peer])["policy"]
            t.eq((pol["strategy"], pol["fee_ppm_target"]), ("static", 333), "policy survived restart")
            fd2 = {c["channel_id"]: c["state"] for c in a2.call("revenue-fee-debug")["channels"]}
            same = all(fd2[k] and state_before[k] and
                       fd2[k]["observations"] == state_before[k]["observations"] and
                       fd2[k]["last_set_fee_ppm"] == state_before[k]["last_set_fee_ppm"]
                       for k in state_before if state_before[k])
            t.ok(same, "learned fee state survived restart")
            t.ok(len(a2.call("revenue-status")["recent_fee_changes"]) == 10, "fee history survived")
            t.ok(fees(a2) is not None and live_before, "node back")
        finally:
            t.eq(s2.stop(), 0, "second run stops cleanly", s2.stderr_text())
    finally:
        s.cleanup()


pipeline(t)
t.done()
