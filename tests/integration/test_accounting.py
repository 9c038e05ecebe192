#!/usr/bin/env python3
"""cl-revenue-ops' lifecycle accounting under `hive-sim serve` (no
bookkeeper in the simulator, so the documented fallbacks run): opens we
paid for and opens the peer paid for, revenue from traffic in
revenue-profitability / revenue-dashboard / revenue-report, raw forwards
rolled up past the retention without losing a sat (windows beyond the
retention use the rollups), a close archived with its final P&L including
rolled-up revenue (defect 31), a close missed while the plugin was down
archived by revenue-cleanup-closed, cleanup idempotent and never touching
accounting rows, and everything surviving a restart."""
import math
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import BUILD, Serve, Tap  # noqa: E402

t = Tap()
DAY = 86400
NOW = int(time.time())
START = NOW - 13 * DAY  # serve runs plugins on the real clock


def scenario():
    nodes = [{"alias": "alice", "fleet": True, "plugins": ["cl-revenue-ops"],
              "onchain_sat": 20000000,
              "options": {"revenue-ops-forward-retention-days": 8}},
             {"alias": "bob", "fleet": True, "plugins": [], "onchain_sat": 10000000}]
    nodes += [{"alias": "ext%d" % i} for i in range(4)]
    chans = [{"a": "alice", "b": "ext%d" % i, "capacity_sat": 2000000 + 100000 * i,
              "a_balance_sat": 1000000, "a_fee": {"base_msat": 1000, "ppm": 200},
              "age_days": 30} for i in range(3)]
    chans.append({"a": "ext3", "b": "alice", "capacity_sat": 2300000, "a_balance_sat": 1200000,
                  "opener": "a", "b_fee": {"base_msat": 1000, "ppm": 200}, "age_days": 10})
    chans.append({"a": "bob", "b": "ext0", "capacity_sat": 1000000, "a_balance_sat": 500000})
    return {"name": "it-accounting", "seed": 5, "start_time": START, "nodes": nodes,
            "channels": chans, "traffic": {"capacity_multiplier": 5}}


def channels(a):
    return {c["channel_id"]: c for c in a.call("listpeerchannels")["channels"]}


def by_capacity(a, sat):
    for c in a.call("listpeerchannels")["channels"]:
        if c["total_msat"] == sat * 1000 and c["state"] == "CHANNELD_NORMAL":
            return c
    return None


def settled_fees(a, since=0):
    """lightningd's own truth: exit fees (msat) and count of settled
    forwards received at or after @since."""
    fees, n = 0, 0
    for f in a.call("listforwards", {"status": "settled"})["forwards"]:
        if f["received_time"] >= since:
            fees += f["fee_msat"]
            n += 1
    return fees, n


def db(s):
    return sqlite3.connect(os.path.join(s.nodes["alice"]["dir"], "revenue_ops.db"))


def wait_for(fn, what, timeout=20):
    """Serve delivers notifications at once but the plugin handles them
    asynchronously (it asks lightningd first): poll."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.05)


def archived(a, scid):
    for c in a.call("revenue-history")["closed_channels"]:
        if c["channel_id"] == scid:
            return c
    return None


def prof(a, scid):
    return a.call("revenue-profitability", {"channel_id": scid})["profitability"]


def lifecycle(t):
    s = Serve(scenario()).start()
    try:
        a, b = s.rpc("alice"), s.rpc("bob")
        alice_id = s.nodes["alice"]["id"]
        ext2 = by_capacity(a, 2200000)["peer_id"]
        est = a.call("feerates", {"style": "perkb"})["onchain_fee_estimates"]

        # Opens: one we pay for, one the peer (bob) pays for.
        ours = a.call("fundchannel", {"id": ext2, "amount": 1000000})["channel_id"]
        theirs = b.call("fundchannel", {"id": alice_id, "amount": 1500000})["channel_id"]
        a.call("dev-sim-advance", {"seconds": 3600})
        chans = channels(a)
        t.eq((chans[ours]["state"], chans[theirs]["state"]), ("CHANNELD_NORMAL", "CHANNELD_NORMAL"),
             "both new channels are normal")
        ours_scid, theirs_scid = chans[ours]["short_channel_id"], chans[theirs]["short_channel_id"]
        wait_for(lambda: prof(a, ours_scid)["open_cost_source"] == "feerate_estimate",
                 "open recorded")
        p = prof(a, ours_scid)
        t.eq((p["opener"], p["open_cost_source"], p["open_cost_sats"]),
             ("local", "feerate_estimate", est["opening_channel_satoshis"]),
             "our open: lightningd's estimate at the opening feerate (no bookkeeper)")
        p = prof(a, theirs_scid)
        t.eq((p["opener"], p["open_cost_source"], p["open_cost_sats"]),
             ("remote", "peer_opened", 0), "the peer's open cost us nothing")
        p = prof(a, by_capacity(a, 2000000)["short_channel_id"])
        t.eq((p["open_cost_source"], p["open_cost_sats"]), ("configured_estimate", 5000),
             "a channel that predates us: estimated_open_cost_sats")
        p = prof(a, by_capacity(a, 2300000)["short_channel_id"])
        t.eq((p["opener"], p["open_cost_sats"]), ("remote", 0), "a pre-existing remote open: 0")

        # Traffic: revenue everywhere, matching lightningd's forwards.
        a.call("dev-sim-advance", {"seconds": 12 * DAY})
        fees, n = settled_fees(a)
        t.ok(n > 50, "traffic routed through alice (%d forwards)" % n)
        pr = a.call("revenue-profitability")
        t.eq(pr["summary"]["total_channels"], 6, "profitability covers the 6 open channels")
        t.eq(pr["summary"]["total_revenue_sats"], math.ceil(fees / 1000),
             "summary revenue = lightningd's settled fees, ceiled")
        t.eq(sum(len(v) for v in pr["channels_by_class"].values()), 6, "every channel classified")
        t.ok(set(pr["channels_by_class"]) == {"profitable", "break_even", "underwater",
                                                "stagnant_candidate", "zombie"},
             "the reference's five classes", list(pr["channels_by_class"]))
        d30 = a.call("revenue-dashboard", {"window_days": 30})
        t.eq((d30["period"]["gross_revenue_sats"], d30["period"]["forward_count"]),
             (math.ceil(fees / 1000), n), "dashboard (30 days) = lightningd's forwards")
        h1 = a.call("revenue-history")
        t.eq((h1["lifetime_revenue_sats"], h1["lifetime_forward_count"]), (math.ceil(fees / 1000), n),
             "lifetime revenue and count")
        t.eq(h1["lifetime_opening_costs_sats"], 3 * 5000 + est["opening_channel_satoshis"],
             "lifetime open costs: ours only")
        rep = a.call("revenue-report", ["summary"])
        t.eq((rep["type"], rep["lifetime"]["revenue_sats"], rep["period"]["window_days"]),
             ("summary", h1["lifetime_revenue_sats"], 30), "revenue-report summary")
        t.eq(rep["channels"]["active"], 6, "summary counts channels")
        ext0 = by_capacity(a, 2000000)
        rp = a.call("revenue-report", {"report_type": "peer", "peer_id": ext0["peer_id"]})
        t.eq((rp["type"], rp["peer_id"], len(rp["channels"])), ("peer", ext0["peer_id"], 1),
             "revenue-report peer")
        t.eq(rp["profitability"]["fees_earned_sats"],
             prof(a, ext0["short_channel_id"])["fees_earned_sats"],
             "peer report carries the channel's profitability")

        # Retention: the flow cycle (woken) rolls raw forwards older than
        # 8 days into daily rollups. Nothing may be lost or counted twice.
        per_chan = {c: prof(a, c)["fees_earned_sats"]
                    for c in (ext0["short_channel_id"], ours_scid, theirs_scid)}
        raw_before = db(s).execute("SELECT COUNT(*) FROM forwards").fetchone()[0]
        a.call("revenue-wake-all")
        con = db(s)
        raw_after = con.execute("SELECT COUNT(*) FROM forwards").fetchone()[0]
        rolled = con.execute("SELECT COUNT(*) FROM forward_daily").fetchone()[0]
        con.close()
        t.ok(raw_after < raw_before and rolled > 0,
             "old raw forwards rolled up (%d -> %d raw, %d rollup rows)" % (raw_before, raw_after, rolled))
        h2 = a.call("revenue-history")
        t.eq((h2["lifetime_revenue_sats"], h2["lifetime_forward_count"]),
             (h1["lifetime_revenue_sats"], h1["lifetime_forward_count"]),
             "lifetime totals unchanged by the rollup")
        # The window ends now, so `since` moves with the wall clock.
        p30 = dict(a.call("revenue-dashboard", {"window_days": 30})["period"])
        was = dict(d30["period"])
        t.ok(0 <= p30.pop("since") - was.pop("since") < 60, "the 30-day window moved on with the clock")
        t.eq(p30, was, "a 30-day dashboard (beyond the 8-day retention) unchanged")
        t.eq({c: prof(a, c)["fees_earned_sats"] for c in per_chan}, per_chan,
             "per-channel revenue unchanged by the rollup")
        # A 10-day window starts inside a rolled-up day: rollups count
        # whole days, so it covers from that day's start.
        since = (NOW - 10 * DAY) // DAY * DAY
        f10, n10 = settled_fees(a, since)
        d10 = a.call("revenue-dashboard", [10])
        t.eq((d10["period"]["gross_revenue_sats"], d10["period"]["forward_count"]),
             (math.ceil(f10 / 1000), n10), "a 10-day window over rollups and raw rows")

        # Close a channel whose revenue is mostly rolled up.
        before = prof(a, ext0["short_channel_id"])
        a.call("close", {"id": ext0["short_channel_id"]})
        a.call("dev-sim-advance", {"seconds": 1800})
        wait_for(lambda: archived(a, ext0["short_channel_id"]), "archived")
        h3 = a.call("revenue-history")
        closed = {c["channel_id"]: c for c in h3["closed_channels"]}
        c = closed.get(ext0["short_channel_id"])
        t.ok(c is not None, "the closed channel is archived", h3["closed_channels"])
        if c:
            t.eq(c["total_revenue_sats"], before["total_revenue_sats"],
                 "archived revenue includes the rolled-up days (defect 31)")
            t.eq((c["forward_count"], c["sourced_forward_count"]),
                 (before["forward_count"], before["sourced_forward_count"]), "archived forward counts")
            t.eq((c["close_type"], c["closer"], c["opener"]), ("mutual", "local", "local"),
                 "mutual close, we closed, we had opened")
            t.eq(c["closure_cost_sats"], est["mutual_close_satoshis"],
                 "closure cost: lightningd's mutual-close estimate")
            t.eq(c["open_cost_sats"], 5000, "open cost: the estimate for a channel older than us")
            t.ok(abs(c["net_pnl_sats"] - (c["total_revenue_sats"] - c["open_cost_sats"]
                                          - c["closure_cost_sats"] - c["rebalance_cost_sats"])) <= 2,
                 "net P&L = revenue - costs", c)
            t.ok(c["days_open"] >= 30, "days open counted from its opening", c)
        cs = h3["closed_channels_summary"]
        t.eq((cs["channel_count"], cs["total_revenue"]), (1, before["total_revenue_sats"]),
             "closed_channels_summary")
        t.eq(h3["lifetime_revenue_sats"], h2["lifetime_revenue_sats"] +
             (h3["lifetime_revenue_sats"] - h2["lifetime_revenue_sats"]),
             "lifetime revenue still counts the closed channel once")
        t.eq(h3["lifetime_closure_costs_sats"], est["mutual_close_satoshis"], "lifetime closure costs")
        cp = a.call("revenue-profitability", [ext0["short_channel_id"]])
        t.eq((cp.get("closed"), cp["closed_channel"]["total_revenue_sats"]),
             (True, before["total_revenue_sats"]), "profitability of a closed channel: its archive")
        d = a.call("revenue-dashboard", [30])
        t.eq(d["period"]["closure_cost_sats"], est["mutual_close_satoshis"], "dashboard closure costs")
        costs = a.call("revenue-report", ["costs"])
        t.eq(costs["closure_costs"]["total_sats"], est["mutual_close_satoshis"], "costs report")

        # Cleanup: the flow cycle's rows of the closed channel go; the
        # accounting stays.
        con = db(s)
        ops = con.execute("SELECT COUNT(*) FROM channel_states WHERE channel_id = ?",
                          (ext0["short_channel_id"],)).fetchone()[0]
        acct_rows = [con.execute("SELECT COUNT(*) FROM %s" % tb).fetchone()[0]
                     for tb in ("forwards", "forward_daily", "channel_costs", "closed_channels",
                                "channel_closure_costs")]
        con.close()
        t.ok(ops > 0, "the flow cycle left a channel_states row for the closed channel")
        cl = a.call("revenue-cleanup-closed")
        t.eq((cl["archived"], cl["cleaned"], cl["errors"]), (0, 1, []),
             "cleanup: already archived, operational rows removed", cl)
        con = db(s)
        t.eq(con.execute("SELECT COUNT(*) FROM channel_states WHERE channel_id = ?",
                         (ext0["short_channel_id"],)).fetchone()[0], 0, "channel_states row gone")
        t.eq([con.execute("SELECT COUNT(*) FROM %s" % tb).fetchone()[0]
              for tb in ("forwards", "forward_daily", "channel_costs", "closed_channels",
                         "channel_closure_costs")], acct_rows, "accounting rows untouched")
        con.close()
        cl = a.call("revenue-cleanup-closed")
        t.eq((cl["message"], cl["archived"], cl["cleaned"]),
             ("No closed channels found to clean up", 0, 0), "cleanup is idempotent")
        t.eq(a.call("revenue-history")["closed_channels_summary"], cs, "history unchanged by cleanup")

        # A close while the plugin is down: no notification reaches it;
        # revenue-cleanup-closed finds and archives it.
        ext1 = by_capacity(a, 2100000)
        before1 = prof(a, ext1["short_channel_id"])
        r = a.call("plugin", ["stop", "cl-revenue-ops"])
        t.ok("stopped" in r["result"], "plugin stopped", r)
        a.call("close", {"id": ext1["short_channel_id"]})
        a.call("dev-sim-advance", {"seconds": 1800})
        a.call("plugin", ["start", os.path.join(BUILD, "cl-revenue-ops")])
        h4 = a.call("revenue-history")
        t.eq(h4["closed_channels_summary"]["channel_count"], 1,
             "restart: the archive persisted, the missed close is not in it yet")
        cl = a.call("revenue-cleanup-closed")
        t.eq((cl["archived"], cl["errors"]), (1, []), "cleanup archived the missed close", cl)
        h5 = a.call("revenue-history")
        c1 = {c["channel_id"]: c for c in h5["closed_channels"]}.get(ext1["short_channel_id"])
        t.ok(c1 is not None and c1["total_revenue_sats"] == before1["total_revenue_sats"]
             and c1["close_type"] == "mutual" and c1["closer"] == "local",
             "missed close archived with its revenue; mutual from lightningd's state history", c1)
        t.eq(a.call("revenue-cleanup-closed")["archived"], 0, "and only once")
        log = s.log("alice")
        t.ok("bookkeeper is not running" in log, "the bookkeeper fallback is logged once")
        t.eq(log.count("bookkeeper is not running"), 2, "once per plugin start", log[-2000:])
    finally:
        t.eq(s.stop(), 0, "clean shutdown", s.stderr_text()[-2000:])
        s.cleanup()


lifecycle(t)
t.done()
