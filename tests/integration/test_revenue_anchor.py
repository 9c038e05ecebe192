#!/usr/bin/env python3
"""revenue-fee-anchor end to end under `hive-sim serve`: set / get / list /
clear / clear-all, every validation error, expiry (an expired anchor is
not listed, and reads leave its row for the next write to delete), the
anchor's effect on the fee (revenue-fee-debug shows the blend in the
Thompson step; the next cycle moves the fee the full damping step toward
the target), a policy still winning, and anchors surviving a restart."""
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import ROOT, Serve, Tap  # noqa: E402

t = Tap()
BAD = -32602
UNKNOWN = 1101


def scenario():
    sc = json.load(open(os.path.join(ROOT, "scenarios", "single-node.json")))
    # Serve runs the plugins on the real clock: start the network three
    # days ago so its forwards fall inside the plugin's windows.
    sc["start_time"] = int(time.time()) - 3 * 86400
    sc.setdefault("traffic", {})["capacity_multiplier"] = 3
    return sc


def fees(a):
    return {c["short_channel_id"]: c["fee_proportional_millionths"]
            for c in a.call("listpeerchannels")["channels"]
            if c.get("short_channel_id")}


def step(ch, name):
    return [s_ for s_ in ch["decision"]["steps"] if s_["step"] == name][0]


def anchor_rows(s):
    con = sqlite3.connect(os.path.join(s.nodes["router"]["dir"], "revenue_ops.db"))
    try:
        return [r[0] for r in con.execute("SELECT channel_id FROM fee_anchors ORDER BY channel_id")]
    finally:
        con.close()


def anchor(a, **kw):
    return a.call("revenue-fee-anchor", kw)


def run(t):
    s = Serve(scenario()).start()
    try:
        a = s.rpc("router")
        a.call("dev-sim-advance", {"seconds": 3 * 86400})
        lpc = {c["short_channel_id"]: c for c in a.call("listpeerchannels")["channels"]
               if c.get("short_channel_id")}
        before = fees(a)

        # No cycle has run yet, so every channel samples (no window to
        # wait for): pick channels the Thompson step decides, warm and
        # without scarcity, so nothing after it moves the fee.
        dbg = {c["channel_id"]: c for c in a.call("revenue-fee-debug")["channels"]}
        plain = sorted(k for k, c in dbg.items()
                       if c["decision"]["decided_by"] == "thompson"
                       and step(c, "cold_start")["reason"] == "warm"
                       and step(c, "scarcity")["reason"] == "none"
                       and not any(n.startswith("anchor_") for n in step(c, "thompson")["numbers"]))
        t.ok(len(plain) >= 4, "four channels priced by Thompson alone", sorted(dbg))
        hi, lo, mid, other = plain[:4]

        # ---- set / get / list ----
        r = anchor(a, action="set", channel_id=hi, target_fee_ppm=3000,
                   confidence=1, base_weight=1, ttl_hours=48, reason="market moved")
        t.eq((r["channel_id"], r["target_fee_ppm"], r["confidence"], r["base_weight"],
              r["effective_weight"], r["reason"], r["ttl_seconds_remaining"]),
             (hi, 3000, 1.0, 1.0, 1.0, "market moved", 48 * 3600), "set returns the anchor")
        t.eq(r["expires_at"] - r["created_at"], 48 * 3600, "expires 48 h after it was made")
        t.eq(r["peer_id"], lpc[hi]["peer_id"], "the anchor names the peer")
        # Positional, with ':' separators.
        r = a.call("revenue-fee-anchor", ["set", lo.replace("x", ":"), 0, 1.0, 1.0])
        t.eq((r["channel_id"], r["target_fee_ppm"], r["ttl_seconds_remaining"]), (lo, 0, 86400),
             "positional set, ':' normalised, ttl 24 h by default")
        # By 64-hex channel id; confidence 0.8 x base weight 0.5.
        r = anchor(a, action="set", channel_id=lpc[mid]["channel_id"].upper(),
                   target_fee_ppm=2000, confidence=0.8, base_weight=0.5)
        t.eq((r["channel_id"], r["effective_weight"], r["base_weight"]), (mid, 0.4, 0.5),
             "set by 64-hex channel id")
        r = anchor(a, action="set", channel_id=other, target_fee_ppm=10)
        t.eq((r["confidence"], r["base_weight"], r["effective_weight"]), (1.0, 0.7, 0.7),
             "defaults: confidence 1, base weight 0.7")
        r = anchor(a, action="set", channel_id=other, target_fee_ppm=99, ttl_hours=0.5)
        t.eq((r["target_fee_ppm"], r["ttl_seconds_remaining"]), (99, 1800),
             "set again replaces (fractional ttl)")
        g = anchor(a, action="get", channel_id=other)
        t.eq((g["channel_id"], g["target_fee_ppm"]), (other, 99), "get")
        g = anchor(a, action="get", channel_id=lpc[other]["channel_id"])
        t.eq(g["channel_id"], other, "get by channel id answers with the scid")
        ls = anchor(a, action="list")
        t.eq((ls["count"], sorted(x["channel_id"] for x in ls["anchors"])),
             (4, sorted([hi, lo, mid, other])), "list: the four anchors")

        # ---- validation: -32602, 1101, and nothing stored ----
        t.raises(lambda: anchor(a, action="pin", channel_id=hi), BAD, "unknown action", "pin")
        t.raises(lambda: a.call("revenue-fee-anchor", {}), BAD, "action is required", "action")
        t.raises(lambda: anchor(a, action="set", target_fee_ppm=5), BAD, "set needs channel_id",
                 "channel_id")
        t.raises(lambda: anchor(a, action="set", channel_id="garbage", target_fee_ppm=5), BAD,
                 "malformed channel id", "garbage")
        t.raises(lambda: anchor(a, action="set", channel_id="9x9x9", target_fee_ppm=5), UNKNOWN,
                 "unknown channel named", "9x9x9")
        t.raises(lambda: anchor(a, action="set", channel_id=hi), BAD, "set needs a target",
                 "target_fee_ppm")
        t.raises(lambda: anchor(a, action="set", channel_id=hi, target_fee_ppm=-1), BAD,
                 "target -1", "target_fee_ppm")
        t.raises(lambda: anchor(a, action="set", channel_id=hi, target_fee_ppm=100001), BAD,
                 "target above 100000", "target_fee_ppm")
        t.raises(lambda: anchor(a, action="set", channel_id=hi, target_fee_ppm=5, confidence=1.5),
                 BAD, "confidence 1.5", "confidence")
        t.raises(lambda: anchor(a, action="set", channel_id=hi, target_fee_ppm=5, base_weight=-0.1),
                 BAD, "base weight -0.1", "base_weight")
        t.raises(lambda: anchor(a, action="set", channel_id=hi, target_fee_ppm=5, ttl_hours=0),
                 BAD, "ttl 0", "ttl_hours")
        t.raises(lambda: anchor(a, action="set", channel_id=hi, target_fee_ppm=5, ttl_hours=168.01),
                 BAD, "ttl over 7 days", "ttl_hours")
        t.raises(lambda: anchor(a, action="set", channel_id=hi, target_fee_ppm=5, reason="x" * 300),
                 BAD, "reason too long", "reason")
        t.raises(lambda: anchor(a, action="set", channel_id=hi, target_fee_ppm="many"),
                 BAD, "target not an integer", "target_fee_ppm")
        t.raises(lambda: anchor(a, action="get", channel_id="9x9x9"), UNKNOWN, "get: unknown channel",
                 "9x9x9")
        none = [k for k in lpc if k not in (hi, lo, mid, other)][0]
        t.raises(lambda: anchor(a, action="get", channel_id=none), UNKNOWN,
                 "get: no anchor on that channel", none)
        t.raises(lambda: anchor(a, action="clear", channel_id=none), UNKNOWN,
                 "clear: no anchor on that channel", none)
        t.eq(anchor(a, action="get", channel_id=hi)["target_fee_ppm"], 3000,
             "refused calls changed nothing")

        # ---- the effect: revenue-fee-debug shows the blend ----
        d = {c["channel_id"]: c for c in a.call("revenue-fee-debug")["channels"]}
        th = step(d[hi], "thompson")
        n = th["numbers"]
        t.eq((n.get("anchor_target_ppm"), n.get("anchor_weight"), n.get("anchored_ppm")),
             (3000, 1.0, 3000),
             "fee-debug: full weight blends to the target", n)
        damp = int(n["damp_limit_ppm"])
        want_hi = min(d[hi]["decision"]["ceiling_ppm"], before[hi] + damp)
        t.eq(th["fee_out_ppm"], want_hi,
             "fee-debug: the Thompson step moves the whole damping step up", th)
        t.ok("fee anchor 3000 ppm" in d[hi]["decision"]["why"], "why names the anchor",
             d[hi]["decision"]["why"])
        n = step(d[mid], "thompson")["numbers"]
        t.ok(n.get("anchor_weight") == 0.4 and n.get("anchor_confidence") == 0.8
             and n.get("anchor_base_weight") == 0.5
             and abs(n.get("anchored_ppm", 0) - (0.4 * 2000 + 0.6 * n.get("sampled_ppm", 1e9))) < 1e-6
             and n.get("sampled_ppm") == n["sample_ppm"],
             "fee-debug: 0.4 x 2000 + 0.6 x sample", n)
        n_lo = step(d[lo], "thompson")["numbers"]
        want_lo = max(d[lo]["decision"]["floor_ppm"], before[lo] - int(n_lo["damp_limit_ppm"]))
        t.eq(fees(a), before, "fee-debug changed no fee")

        # ---- clear ----
        r = anchor(a, action="clear", channel_id=mid.replace("x", ":"))
        t.eq((r["status"], r["cleared"], r["channel_id"], r["anchor"]["target_fee_ppm"]),
             ("success", 1, mid, 2000), "clear returns what it removed")
        t.raises(lambda: anchor(a, action="get", channel_id=mid), UNKNOWN, "cleared: get fails")
        n = step(a.call("revenue-fee-debug", [mid])["channels"][0], "thompson")["numbers"]
        t.ok("sample_ppm" in n and not any(k.startswith("anchor_") for k in n),
             "cleared: the channel samples without the anchor", n)

        # ---- expiry: not listed, not used; reads leave the row ----
        r = anchor(a, action="set", channel_id=mid, target_fee_ppm=1234, ttl_hours=2 / 3600.0)
        t.eq(r["ttl_seconds_remaining"], 2, "a 2-second anchor")
        time.sleep(3.5)
        t.raises(lambda: anchor(a, action="get", channel_id=mid), UNKNOWN, "expired: get fails")
        t.ok(mid not in [x["channel_id"] for x in anchor(a, action="list")["anchors"]],
             "expired: not listed")
        n = step(a.call("revenue-fee-debug", [mid])["channels"][0], "thompson")["numbers"]
        t.ok("sample_ppm" in n and "anchor_weight" not in n, "expired: the sample is not blended", n)
        t.ok(mid in anchor_rows(s), "reads did not delete the expired row", anchor_rows(s))
        anchor(a, action="set", channel_id=other, target_fee_ppm=77)
        t.ok(mid not in anchor_rows(s), "the next write deleted it", anchor_rows(s))

        # ---- the next cycle moves the fees ----
        # (The expectations above come from a preview of this same first
        # cycle: no timer may have run one in between.)
        t.ok(all(c["runs"] == 0 for c in a.call("revenue-status")["cycles"]),
             "no cycle ran since the preview")
        w = a.call("revenue-wake-all")
        t.eq(w["status"], "ok", "wake-all ran")
        after = fees(a)
        t.eq(after[hi], want_hi, "the cycle moved the fee %d -> %d toward 3000" % (before[hi], want_hi))
        t.ok(after[hi] > before[hi], "up toward a high anchor", (before[hi], after[hi]))
        t.eq(after[lo], want_lo, "the cycle moved the fee %d -> %d toward 0 (floor %d)"
             % (before[lo], want_lo, d[lo]["decision"]["floor_ppm"]))
        t.ok(after[lo] < before[lo] or after[lo] == d[lo]["decision"]["floor_ppm"],
             "down toward a low anchor, never under the floor", (before[lo], after[lo]))

        # A policy wins over an anchor.
        peer = lpc[hi]["peer_id"]
        a.call("revenue-policy", {"action": "set", "peer_id": peer, "strategy": "static",
                                  "fee_ppm": 444})
        r = anchor(a, action="set", channel_id=hi, target_fee_ppm=3000, confidence=1, base_weight=1,
                   ttl_hours=48, reason="market moved")
        t.ok("static policy" in r.get("warning", ""), "set warns that a policy decides the fee", r)
        a.call("revenue-wake-all")
        t.eq(fees(a)[hi], 444, "the static policy wins over the anchor")
        th = step(a.call("revenue-fee-debug", [hi])["channels"][0], "thompson")
        t.eq((th["reached"], "anchor_weight" in th["numbers"]), (False, False),
             "no Thompson step, no anchor numbers, under a policy")
        a.call("revenue-policy", {"action": "delete", "peer_id": peer})

        # ---- restart: anchors survive ----
        kept = {x["channel_id"]: x for x in anchor(a, action="list")["anchors"]}
        t.eq(sorted(kept), sorted([hi, lo, other]), "three anchors before the restart")
        t.eq(s.stop(), 0, "serve stops cleanly", s.stderr_text())
        s2 = Serve(s.scenario, dirpath=s.dir).start()
        try:
            a2 = s2.rpc("router")
            ls = {x["channel_id"]: x for x in anchor(a2, action="list")["anchors"]}
            same = sorted(ls) == sorted(kept) and all(
                {k: v for k, v in ls[c].items() if k != "ttl_seconds_remaining"} ==
                {k: v for k, v in kept[c].items() if k != "ttl_seconds_remaining"} for c in ls)
            t.ok(same, "anchors survived the restart unchanged", (kept, ls))
            g = anchor(a2, action="get", channel_id=hi)
            t.eq((g["target_fee_ppm"], g["reason"]), (3000, "market moved"), "get after restart")
            r = anchor(a2, action="clear-all")
            t.eq((r["status"], r["cleared"]), ("success", 3), "clear-all removes and counts them")
            t.eq(anchor(a2, action="list"), {"anchors": [], "count": 0}, "list empty after clear-all")
            t.eq(anchor(a2, action="clear-all")["cleared"], 0, "clear-all again: nothing")
        finally:
            t.eq(s2.stop(), 0, "second run stops cleanly", s2.stderr_text())
    finally:
        s.cleanup()


run(t)
t.done()
