#!/usr/bin/env python3
"""cl-revenue-ops policies under `hive-sim serve`: static fees applied
exactly (even outside min/max), hive at 0 ppm, passive channels left alone,
expiry, batch (all or nothing), the per-peer rate limit, the ignore trio,
and the validation errors."""
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
    sc.setdefault("traffic", {})["capacity_multiplier"] = 3
    return sc


def chans(a):
    return [c for c in a.call("listpeerchannels")["channels"] if c.get("short_channel_id")]


def fee_of(a, peer):
    return [c["fee_proportional_millionths"] for c in chans(a) if c["peer_id"] == peer][0]


def policies(t):
    s = Serve(scenario()).start()
    try:
        a = s.rpc("router")
        cs = chans(a)
        peers = [c["peer_id"] for c in cs]
        p_static, p_hive, p_passive, p_dyn = peers[0], peers[1], peers[2], peers[3]
        a.call("dev-sim-advance", {"seconds": 2 * 86400})

        r = a.call("revenue-policy", {"action": "set", "peer_id": p_static,
                                      "strategy": "static", "fee_ppm": 7777})
        t.eq((r["status"], r["policy"]["strategy"], r["policy"]["fee_ppm_target"]),
             ("success", "static", 7777), "set static 7777 (above max_fee_ppm 5000)")
        a.call("revenue-policy", ["set", p_hive, "hive"])
        r = a.call("revenue-policy", ["set", p_passive, "passive", "disabled"])
        t.eq(r["policy"]["rebalance_mode"], "disabled", "positional strategy and rebalance")
        passive_fee = fee_of(a, p_passive)
        a.call("setchannel", {"id": p_passive, "feeppm": 1234})
        a.call("revenue-wake-all")
        t.eq(fee_of(a, p_static), 7777, "static fee applied exactly, outside min/max")
        t.eq(fee_of(a, p_hive), 0, "hive strategy: 0 ppm (hive-fee-ppm), not clamped to min")
        t.eq(fee_of(a, p_passive), 1234, "passive channel untouched")
        ch = [c for x in a.call("revenue-fee-debug")["channels"]
              if x["peer_id"] in (p_static, p_hive) for c in x["recent_fee_changes"][:1]]
        t.ok(len(ch) == 2 and all(c["source"] == "policy" for c in ch), "policy fees recorded as policy", ch)
        n = len(a.call("revenue-status")["recent_fee_changes"])
        a.call("revenue-wake-all")
        t.eq(len(a.call("revenue-status")["recent_fee_changes"]), n, "policy fee not re-sent every cycle")
        fd = a.call("revenue-fee-debug", [[c for c in cs if c["peer_id"] == p_passive][0]["short_channel_id"]])
        t.eq(fd["channels"][0]["decision"]["skip_reason"], "policy_passive", "fee-debug: passive")
        del passive_fee

        # list / get / find / tag / untag / changes / delete.
        lst = a.call("revenue-policy")
        t.eq(lst["count"], 3, "list counts policies")
        t.ok({"peer_id", "strategy", "rebalance_mode", "fee_ppm_target", "tags", "updated_at",
              "fee_multiplier_min", "fee_multiplier_max", "expires_at", "is_expired"}
             <= set(lst["policies"][0]), "policy dict fields", lst["policies"][0])
        a.call("revenue-policy", {"action": "tag", "peer_id": p_dyn, "tag": "friend"})
        t.eq(a.call("revenue-policy", ["find", "friend"])["peers"], [p_dyn], "find by tag (positional)")
        a.call("revenue-policy", {"action": "untag", "peer_id": p_dyn, "tag": "friend"})
        t.eq(a.call("revenue-policy", {"action": "find", "tag": "friend"})["count"], 0, "untag")
        d = a.call("revenue-policy", ["get", peers[5]])["policy"]
        t.eq((d["strategy"], d["is_default"]), ("dynamic", True), "get: default policy when none")
        t.ok(len(a.call("revenue-policy", ["changes"])["changes"]) >= 5, "changes lists writes")
        a.call("revenue-policy", ["delete", p_dyn])
        t.raises(lambda: a.call("revenue-policy", ["delete", p_dyn]), 1101, "delete twice: no policy")

        # Dynamic with fee bounds around a target.
        r = a.call("revenue-policy", {"action": "set", "peer_id": p_dyn, "strategy": "dynamic",
                                      "fee_ppm": 400, "fee_multiplier_min": 0.5,
                                      "fee_multiplier_max": 2.0})
        t.eq((r["policy"]["fee_multiplier_min"], r["policy"]["fee_multiplier_max"]), (0.5, 2.0),
             "fee multipliers stored")
        a.call("revenue-wake-all")
        fd = a.call("revenue-fee-debug", [[c for c in cs if c["peer_id"] == p_dyn][0]["short_channel_id"]])
        dec = fd["channels"][0]["decision"]
        t.ok(dec["floor_ppm"] in (0, 200) and dec["ceiling_ppm"] in (0, 800),
             "bounds follow the policy multipliers", dec)

        # Expiry.
        a.call("revenue-policy", {"action": "set", "peer_id": peers[6], "strategy": "passive",
                                  "expires_in_hours": 0.0004})
        time.sleep(2)
        g = a.call("revenue-policy", ["get", peers[6]])["policy"]
        t.eq(g["is_default"], True, "an expired policy reads as the default")
        a.call("revenue-wake-all")
        ch = [c for c in a.call("revenue-policy", ["changes"])["changes"] if c["peer_id"] == peers[6]]
        t.eq(ch[-1]["action"], "expire", "the flow cycle deleted the expired policy", ch)
        t.raises(lambda: a.call("revenue-policy", {"action": "set", "peer_id": peers[6],
                                                   "strategy": "passive", "expires_in_hours": 721}),
                 1102, "expiry over 30 days refused", "720")

        # Batch: all or nothing.
        good = [{"peer_id": peers[7], "strategy": "static", "fee_ppm": 111},
                {"peer_id": peers[8], "strategy": "hive", "rebalance": "sink_only"}]
        r = a.call("revenue-policy", {"action": "batch", "policies": good})
        t.eq((r["status"], r["count"]), ("success", 2), "batch of two")
        bad = [{"peer_id": peers[9], "strategy": "passive"},
               {"peer_id": peers[10], "strategy": "bogus"}]
        t.raises(lambda: a.call("revenue-policy", {"action": "batch", "policies": bad}), -32602,
                 "batch with a bad entry refused, naming it", "policies[1]")
        t.eq(a.call("revenue-policy", ["get", peers[9]])["policy"]["is_default"], True,
             "nothing of a refused batch was written")
        t.raises(lambda: a.call("revenue-policy", {"action": "batch",
                                                   "policies": [{"peer_id": peers[9], "fee_ppm": "x"}]}),
                 -32602, "malformed batch JSON names the field", "policies[0].fee_ppm")
        t.raises(lambda: a.call("revenue-policy", {"action": "batch", "policies": "nope"}), -32602,
                 "batch needs an array", "policies")

        # Validation.
        t.raises(lambda: a.call("revenue-policy", {"action": "set", "peer_id": peers[9],
                                                   "strategy": "static"}),
                 -32602, "static without a fee target refused", "fee_ppm")
        t.raises(lambda: a.call("revenue-policy", {"action": "set", "peer_id": peers[9],
                                                   "strategy": "turbo"}),
                 -32602, "unknown strategy refused", "Invalid strategy")
        t.raises(lambda: a.call("revenue-policy", {"action": "set", "peer_id": peers[9],
                                                   "fee_ppm": -3}),
                 1102, "negative fee target refused")
        t.raises(lambda: a.call("revenue-policy", {"action": "set", "peer_id": peers[9],
                                                   "fee_ppm": 100, "fee_multiplier_min": 9}),
                 1102, "multiplier out of range refused")
        t.raises(lambda: a.call("revenue-policy", {"action": "set", "peer_id": "02" + "11" * 32,
                                                   "strategy": "passive"}),
                 1101, "unknown peer refused, named", "02" + "11" * 32)
        t.raises(lambda: a.call("revenue-policy", {"action": "set", "peer_id": "xyz",
                                                   "strategy": "passive"}),
                 -32602, "malformed peer id", "peer_id")
        t.raises(lambda: a.call("revenue-policy", ["explode"]), -32602, "unknown action", "action")

        # Rate limit: 10 changes a minute per peer.
        codes = []
        for i in range(12):
            try:
                a.call("revenue-policy", {"action": "set", "peer_id": peers[11],
                                          "strategy": "static", "fee_ppm": 100 + i})
                codes.append("ok")
            except Exception as e:  # noqa: BLE001
                codes.append(getattr(e, "code", str(e)))
        t.eq(codes, ["ok"] * 10 + [1105, 1105], "11th change in a minute is rate limited (1105)")

        # The ignore trio.
        r = a.call("revenue-ignore", [peers[12], "flaky"])
        t.eq((r["status"], r["policy"]["strategy"], r["policy"]["rebalance_mode"],
              r["policy"]["tags"]), ("success", "passive", "disabled", ["ignored", "flaky"]),
             "ignore: passive, rebalancing disabled, tagged")
        li = a.call("revenue-list-ignored")
        t.ok(any(p["peer_id"] == peers[12] and p["reason"] == "flaky" for p in li["ignored_peers"]),
             "list-ignored shows it with its reason", li)
        r = a.call("revenue-unignore", [peers[12]])
        t.eq((r["policy"]["strategy"], r["policy"]["rebalance_mode"]), ("dynamic", "enabled"),
             "unignore: dynamic and enabled again")
        t.ok(all(p["peer_id"] != peers[12] for p in a.call("revenue-list-ignored")["ignored_peers"]),
             "no longer listed")
        t.raises(lambda: a.call("revenue-ignore", ["02" + "22" * 32]), 1101, "ignore unknown peer")
        t.raises(lambda: a.call("revenue-unignore", [peers[13]]), 1101, "unignore without a policy")
    finally:
        t.eq(s.stop(), 0, "serve stops cleanly", s.stderr_text())
        s.cleanup()


policies(t)
t.done()
