#!/usr/bin/env python3
"""cl-revenue-ops' operational RPCs under `hive-sim serve`:
revenue-health (its numbers against lightningd's own listforwards, read
only), revenue-forward-history (per-day totals, one channel, rollups beyond
the retention, validation), revenue-cycle / revenue-fee-cycle,
revenue-fee-authority-status (transitions through revenue-config and
setconfig), the ban trio, and a lightningd call that never returns
(rpc_timeout_seconds: the cycle fails and is retried, nothing hangs)."""
import math
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import RpcError, Serve, Tap, busy_node_scenario  # noqa: E402

t = Tap()
DAY = 86400
UNKNOWN_PEER = "02" + "cd" * 32


def scenario():
    return busy_node_scenario("it-health", 11)


def dump(s):
    con = sqlite3.connect(os.path.join(s.nodes["alice"]["dir"], "revenue_ops.db"))
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%'")]
    out = {tb: sorted(con.execute("SELECT * FROM %s" % tb).fetchall(), key=repr) for tb in tables}
    con.close()
    return out


def forwards(a):
    return a.call("listforwards")["forwards"]


def health(t, s, a):
    scids = sorted(c["short_channel_id"] for c in a.call("listpeerchannels")["channels"])
    a.call("revenue-wake-all")  # the forward store is reconciled by the cycle
    before = dump(s)
    h = a.call("revenue-health")
    t.eq(dump(s), before, "revenue-health writes nothing")
    t.ok({"generated_at", "financials", "channels", "fees", "rebalancer", "budget",
          "top_routes", "loops"} <= set(h), "revenue-health fields", sorted(h))
    now = h["generated_at"]
    fw = forwards(a)
    settled = [f for f in fw if f["status"] == "settled"]

    for name, since in (("today", now - now % DAY), ("week", now - 7 * DAY)):
        win = [f for f in settled if f["received_time"] >= since]
        got = h["financials"][name]
        want = (len(win), math.ceil(sum(f["fee_msat"] for f in win) / 1000),
                sum(f["out_msat"] for f in win) // 1000)
        t.eq((got["forward_count"], got["revenue_sats"], got["volume_sats"]), want,
             "financials.%s match listforwards (count, fees, volume)" % name)
        t.eq((got["costs_sats"], got["net_profit_sats"]),
             (0, sum(f["fee_msat"] for f in win) // 1000),
             "financials.%s: no costs, net = revenue (rounded toward zero)" % name)
    t.ok(h["financials"]["week"]["forward_count"] >= h["financials"]["today"]["forward_count"]
         and h["financials"]["week"]["forward_count"] > 0, "a busy week",
         (h["financials"]["week"]["forward_count"], h["financials"]["today"]["forward_count"]))
    d7 = a.call("revenue-dashboard", {"window_days": 7})
    t.eq((h["financials"]["week"]["operating_margin_pct"],
          h["financials"]["week"]["annualized_roc_pct"]),
         (d7["financial_health"]["operating_margin_pct"],
          d7["financial_health"]["annualized_roc_pct"]),
         "week margin and ROC equal the 7-day dashboard's")

    t.eq(h["channels"]["total"], len(scids), "channels.total")
    t.eq(sum(h["channels"]["classifications"].values()), len(scids),
         "every channel has one class")
    prof = a.call("revenue-profitability")["summary"]
    t.eq(h["channels"]["classifications"]["profitable"], prof["profitable_count"],
         "profitable count agrees with revenue-profitability")

    fees = h["fees"]
    t.eq(fees["managed_channels"], len(scids), "the fee controller manages every channel")
    t.eq(fees["converged"] + fees["still_learning"], fees["managed_channels"],
         "converged + still_learning = managed")

    # Top routes: lightningd's forwards of the last 7 days, grouped by
    # (in, out), at least 2, by fees.
    pairs = {}
    for f in settled:
        if f["received_time"] >= now - 7 * DAY:
            p = pairs.setdefault((f["in_channel"], f["out_channel"]), [0, 0])
            p[0] += f["fee_msat"]
            p[1] += 1
    want = sorted(((k[0], k[1], v[0], v[1]) for k, v in pairs.items() if v[1] >= 2),
                  key=lambda r: (-r[2], -r[3], r[0], r[1]))[:5]
    got = [(r["in_channel"], r["out_channel"], r["fee_msat_7d"], r["forward_count"])
           for r in h["top_routes"]]
    t.eq(got, want, "top_routes: the 5 best (in, out) pairs of the week")
    t.ok(len(got) == 5, "a busy node has 5 top routes", got)
    t.ok(all(r["fee_sats_7d"] == math.ceil(r["fee_msat_7d"] / 1000) for r in h["top_routes"]),
         "fee_sats_7d rounds the msat up")

    loops = h["loops"]
    t.eq(sorted(loops["threads"]), ["fee-adjustment", "financial-snapshot", "flow-analysis"],
         "loops: the three cycles")
    t.ok(loops["all_alive"] and loops["stalled"] == [], "all cycles alive", loops)
    fee_loop = loops["threads"]["fee-adjustment"]
    t.ok(fee_loop["runs"] >= 1 and 0 <= fee_loop["last_tick_age_seconds"] < 600 and
         fee_loop["state"] == "waiting" and fee_loop["stall_threshold_seconds"] >= 900,
         "the fee cycle ticked recently", fee_loop)

    budget = h["budget"]
    daily = a.call("revenue-config", ["get", "daily_budget_sats"])["value"]
    t.eq((budget["effective_budget_sats"], budget["total_spent_sats"], budget["remaining_sats"]),
         (daily, 0, daily), "budget: the daily budget, nothing spent")
    t.eq(h["rebalancer"]["available"], False, "no rebalancer in this version, and it says so")


def history(t, s, a):
    now = a.call("revenue-health")["generated_at"]
    until = now - now % DAY + DAY
    since = until - 30 * DAY
    fh = a.call("revenue-forward-history")
    t.eq((fh["history_since"], fh["history_until"]), (since, until),
         "defaults: the 30 days up to the end of today")
    fw = [f for f in forwards(a) if since <= f["received_time"] < until]
    settled = [f for f in fw if f["status"] == "settled"]
    failed = [f for f in fw if f["status"] in ("failed", "local_failed")]
    tot = lambda rows, k: sum(r[k] for r in rows)  # noqa: E731
    t.eq((tot(fh["days"], "forward_count"), tot(fh["days"], "fee_msat"),
          tot(fh["days"], "out_msat"), tot(fh["days"], "failed_count")),
         (len(settled), tot(settled, "fee_msat"), tot(settled, "out_msat"), len(failed)),
         "per-day totals add up to listforwards (count, fees, volume, failures)")
    by_day = {}
    for f in settled:
        d = int(f["received_time"]) // DAY * DAY
        by_day[d] = by_day.get(d, 0) + f["fee_msat"]
    t.eq({r["day"]: r["fee_msat"] for r in fh["days"] if r["fee_msat"]}, by_day,
         "each day's fees")
    t.ok(all(r["date"] == time.strftime("%Y-%m-%d", time.gmtime(r["day"])) for r in fh["days"]),
         "dates are the UTC days")

    outs = [f["out_channel"] for f in settled]
    scid = max(set(outs), key=outs.count)
    ch = a.call("revenue-forward-history", {"channel_id": scid})
    out = [f for f in settled if f["out_channel"] == scid]
    inn = [f for f in settled if f["in_channel"] == scid]
    t.eq((tot(ch["days"], "forward_count"), tot(ch["days"], "fee_msat"),
          tot(ch["days"], "entry_count"), tot(ch["days"], "sourced_fee_msat")),
         (len(out), tot(out, "fee_msat"), len(inn), tot(inn, "fee_msat")),
         "one channel: as exit (earned) and as entry (sourced)")

    lim = a.call("revenue-forward-history", {"limit": 3})
    t.ok(len(lim["days"]) == 3 and lim["truncated"] and lim["days"] == fh["days"][:3],
         "limit keeps the oldest days and says it truncated")

    # Beyond the raw retention: the rollups answer the same.
    a.call("revenue-config", ["set", "forward_retention_days", "8"])
    a.call("revenue-wake-all")
    con = sqlite3.connect(os.path.join(s.nodes["alice"]["dir"], "revenue_ops.db"))
    rolled = con.execute("SELECT COUNT(*) FROM forward_daily").fetchone()[0]
    con.close()
    t.ok(rolled > 0, "forwards older than 8 days rolled up (%d rows)" % rolled)
    fh2 = a.call("revenue-forward-history")
    old = [r for r in fh["days"] if r["day"] < until - 9 * DAY]
    old2 = [r for r in fh2["days"] if r["day"] < until - 9 * DAY]
    t.eq(old2, old, "rolled-up days report the same totals")
    ch2 = a.call("revenue-forward-history", {"channel_id": scid})
    t.eq([r for r in ch2["days"] if r["day"] < until - 9 * DAY],
         [r for r in ch["days"] if r["day"] < until - 9 * DAY], "and per channel")
    a.call("revenue-config", ["reset", "forward_retention_days"])

    for params, name in (({"history_since": since + 5}, "since not at midnight"),
                         ({"history_since": until, "history_until": since}, "until before since"),
                         ({"history_since": until - 401 * DAY, "history_until": until},
                          "span over 400 days"),
                         ({"limit": 0}, "limit 0"), ({"limit": 5001}, "limit 5001"),
                         ({"channel_id": "nope"}, "bad channel id")):
        t.raises(lambda: a.call("revenue-forward-history", params), -32602, "rejected: " + name)


def cycles(t, a):
    r = a.call("revenue-cycle", ["fees"])
    t.ok(r["status"] == "ok" and r["subsystem"] == "fees" and r["fee_cycle"]["evaluated"] == 5
         and isinstance(r["adjusted_channels"], int), "revenue-cycle fees", r)
    r = a.call("revenue-cycle", {"subsystem": "flow"})
    t.ok(r["subsystem"] == "flow" and "fee_cycle" not in r and r["flow_cycle"]["runs"] >= 1,
         "revenue-cycle flow runs the flow cycle only", r)
    r = a.call("revenue-cycle")
    t.ok(r["subsystem"] == "all" and r["fee_cycle"]["evaluated"] == 5, "default: all", r)
    r = a.call("revenue-fee-cycle")
    t.ok(r["subsystem"] == "fees" and "adjusted_channels" in r, "revenue-fee-cycle", r)
    t.raises(lambda: a.call("revenue-cycle", ["rebalance"]), -32602,
             "rebalance: no rebalancer, said plainly", contains="no rebalancer")
    t.raises(lambda: a.call("revenue-cycle", ["bogus"]), -32602, "unknown subsystem",
             contains="Valid subsystems: fees, flow, all")


def authority(t, a):
    s0 = a.call("revenue-fee-authority-status")
    t.eq((s0["schema"], s0["enabled"], s0["generation"], s0["reason"]),
         ("revenue_ops_fee_authority/v1", True, 0, "init"), "initial fee authority")
    a.call("revenue-config", ["set", "fee_authority_enabled", "false"])
    s1 = a.call("revenue-fee-authority-status")
    t.eq((s1["enabled"], s1["generation"], s1["reason"]), (False, 1, "revenue-config"),
         "disabled through revenue-config: generation 1")
    t.ok(s1["transitioned_at"] >= s0["transitioned_at"] and
         s1["observed_at"] >= s1["transitioned_at"], "transition times", s1)
    a.call("revenue-config", ["set", "fee_authority_enabled", "false"])
    t.eq(a.call("revenue-fee-authority-status")["generation"], 1, "no flip, no new generation")
    r = a.call("revenue-cycle", ["fees"])
    t.eq(r["fee_cycle"]["safety_block"], "fee_authority_disabled",
         "without authority the cycle decides but does not send")
    a.call("revenue-config", ["reset", "fee_authority_enabled"])
    a.call("setconfig", {"config": "revenue-ops-fee-authority-enabled", "val": False})
    s3 = a.call("revenue-fee-authority-status")
    t.eq((s3["enabled"], s3["generation"], s3["reason"]), (False, 3, "setconfig"),
         "reset (on) then setconfig (off): generation 3, through setconfig")
    a.call("setconfig", {"config": "revenue-ops-fee-authority-enabled", "val": True})
    t.eq(a.call("revenue-fee-authority-status")["enabled"], True, "back on")


def bans(t, a):
    peers = [c["peer_id"] for c in a.call("listpeerchannels")["channels"]]
    scid0 = [c["short_channel_id"] for c in a.call("listpeerchannels")["channels"]
             if c["peer_id"] == peers[0]][0]
    a.call("revenue-policy", {"action": "set", "peer_id": peers[1], "strategy": "static",
                              "fee_ppm": 300, "expires_in_hours": 2})
    a.call("revenue-policy", {"action": "tag", "peer_id": peers[1], "tag": "friend"})
    r = a.call("revenue-ban", [peers[0], "spam"])
    t.ok(r["status"] == "success" and r["action"] == "ban" and r["reason"] == "spam" and
         "banned" in r["tags"] and r["policy"]["strategy"] == "passive" and
         r["policy"]["rebalance_mode"] == "disabled", "ban: passive, no rebalancing, tagged", r)
    r = a.call("revenue-ban", {"peer_id": peers[1]})
    t.ok(r["reason"] == "operator" and r["policy"]["expires_at"] is None and
         sorted(r["tags"]) == ["banned", "friend"], "a ban is durable and keeps other tags", r)
    lb = a.call("revenue-list-banned")
    t.eq((lb["count"], sorted(b["peer_id"] for b in lb["banned_peers"])),
         (2, sorted(peers[:2])), "list-banned")
    a.call("revenue-cycle", ["fees"])
    fd = a.call("revenue-fee-debug", [scid0])["channels"][0]["decision"]
    t.eq(fd["skip_reason"], "policy_passive", "the fee controller leaves a banned peer alone")
    r = a.call("revenue-unban", [peers[0]])
    t.ok(r["action"] == "unban" and "banned" not in r["tags"] and
         r["policy"]["strategy"] == "dynamic" and r["policy"]["rebalance_mode"] == "enabled",
         "unban: dynamic and rebalancing again", r)
    t.eq(a.call("revenue-list-banned")["count"], 1, "one ban left")
    t.raises(lambda: a.call("revenue-unban", [peers[2]]), 1101, "unban a peer not banned",
             contains="not banned")
    t.raises(lambda: a.call("revenue-ban", [UNKNOWN_PEER]), 1101, "ban an unknown peer")
    t.raises(lambda: a.call("revenue-ban", ["02xyz"]), -32602, "ban a malformed id")
    a.call("revenue-unban", [peers[1]])


def timeout(t, s, a):
    a.call("revenue-config", ["set", "rpc_timeout_seconds", "1"])
    # feerates is advisory: without an answer the cycle uses defaults.
    a.call("dev-sim-fail", {"method": "feerates", "count": 1, "hang": True})
    r = a.call("revenue-cycle", ["fees"])
    t.ok(r["status"] == "ok" and r["fee_cycle"]["evaluated"] == 5,
         "an unanswered advisory call (feerates): the cycle still decides", r)
    a.call("dev-sim-fail", {"method": "feerates", "count": 0})  # its late reply
    # getinfo is needed: the cycle fails after the timeout, not never.
    a.call("dev-sim-fail", {"method": "getinfo", "count": 1, "hang": True})
    start = time.monotonic()
    t.raises(lambda: a.call("revenue-cycle", ["fees"]), 1104,
             "a needed call lightningd never answers fails the cycle",
             contains="getinfo: no reply from lightningd within 1000 ms")
    t.ok(time.monotonic() - start < 30, "after the timeout, not never")
    h = a.call("revenue-health")
    fee = h["loops"]["threads"]["fee-adjustment"]
    t.ok("no reply from lightningd" in fee.get("last_error", "") and h["loops"]["all_alive"],
         "health shows why the last fee cycle failed", fee)
    a.call("dev-sim-fail", {"method": "getinfo", "count": 0})
    r = a.call("revenue-cycle", ["fees"])
    t.eq(r["status"], "ok", "the next cycle runs normally")
    t.ok("last_error" not in a.call("revenue-health")["loops"]["threads"]["fee-adjustment"],
         "and health clears the error")
    a.call("revenue-config", ["reset", "rpc_timeout_seconds"])


s = Serve(scenario()).start()
try:
    a = s.rpc("alice")
    a.call("dev-sim-advance", {"seconds": 14 * DAY})
    health(t, s, a)
    history(t, s, a)
    cycles(t, a)
    authority(t, a)
    bans(t, a)
    timeout(t, s, a)
    t.eq(a.call("revenue-status")["status"], "running", "the plugin keeps running")
finally:
    t.eq(s.stop(), 0, "clean shutdown", s.stderr_text())
    s.cleanup()
t.done()
