#!/usr/bin/env python3
"""A new channel (Core Lightning's stock 1000 msat + 10 ppm, no fee state)
starts its learning at what other nodes charge to reach the same peer:
the capacity- and freshness-weighted median of `listchannels
destination=<peer>`, without our own channel, stock pairs or inactive
channels; a peer with too few competitors gets the default prior; a fee
someone chose is its own evidence and costs no call. The option
neighbor_median_min_competitors is live."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import Serve, Tap  # noqa: E402

t = Tap()
STOCK = {"base_msat": 1000, "ppm": 10}


def scenario():
    nodes = [{"alias": "alice", "fleet": True, "plugins": ["cl-revenue-ops"],
              "options": {"revenue-ops-fee-interval": "86400"}}]
    for a in ("p1", "p2", "p3", "x1", "x2", "x3", "x4", "x5"):
        nodes.append({"alias": a})
    ch = []

    def chan(a, b, fee, cap=1000000, **kw):
        c = {"a": a, "b": b, "capacity_sat": cap, "a_balance_sat": cap // 2,
             "a_fee": fee, "b_fee": {"base_msat": 0, "ppm": 50}, "age_days": 30}
        c.update(kw)
        ch.append(c)

    chan("alice", "p1", STOCK)
    chan("alice", "p2", STOCK)
    chan("alice", "p3", {"base_msat": 1000, "ppm": 150})
    # Toward p1: 300, 500 and 2000 ppm on equal channels -> 500. Left
    # out: a bigger channel at the stock pair, and a 20,000 ppm block.
    chan("x1", "p1", {"base_msat": 0, "ppm": 300})
    chan("x2", "p1", {"base_msat": 0, "ppm": 500})
    chan("x3", "p1", {"base_msat": 0, "ppm": 2000})
    chan("x4", "p1", STOCK, cap=5000000)
    chan("x5", "p1", {"base_msat": 0, "ppm": 20000})
    # Toward p2: one competitor, fewer than the default minimum of 2.
    chan("x1", "p2", {"base_msat": 0, "ppm": 700})
    return {"name": "it-neighbours", "seed": 5, "nodes": nodes, "channels": ch}


def seeded(a, scid):
    d = a.call("revenue-fee-debug", [scid])["channels"][0]
    return d, d["decision"].get("seeded")


s = Serve(scenario()).start()
try:
    a = s.rpc("alice")
    chans = {c["peer_id"]: c for c in a.call("listpeerchannels")["channels"]}
    ids = {n["alias"]: n["nodeid"] for n in a.call("listnodes")["nodes"] if "alias" in n}
    scid = {alias: chans[ids[alias]]["short_channel_id"] for alias in ("p1", "p2", "p3")}

    # listchannels toward p1 as the plugin sees it: five other nodes and us.
    lc = a.call("listchannels", {"destination": ids["p1"]})["channels"]
    t.eq(len(lc), 6, "gossip: six channels toward p1", len(lc))

    d, sd = seeded(a, scid["p1"])
    t.eq(d["state"], None, "p1's channel has no fee state yet")
    t.eq(sd, {"prior_mean_ppm": 500, "from": "neighbour_median"},
         "stock-priced new channel: the neighbour median (300/500/2000; stock and 20,000 ppm left out)")
    t.eq(seeded(a, scid["p2"])[1], {"prior_mean_ppm": 200, "from": "default"},
         "one competitor toward p2: the default prior")
    t.eq(seeded(a, scid["p3"])[1], {"prior_mean_ppm": 150, "from": "live_fee"},
         "a fee someone chose (150 ppm) is its own prior")

    # p2 was asked too (no median: one competitor); p3, with a chosen fee, not.
    log = s.log("alice")
    asked = [p for p in ("p1", "p2", "p3") if "peer %s: other nodes charge a median" % ids[p] in log]
    t.eq(asked, ["p1"], "the median is logged for p1 only", asked)

    # The option is live: with 4 competitors needed, p1 falls back too.
    r = a.call("revenue-config", ["set", "neighbor_median_min_competitors", "4"])
    t.eq(r["new_value"], 4, "neighbor_median_min_competitors set")
    t.eq(seeded(a, scid["p1"])[1], {"prior_mean_ppm": 200, "from": "default"},
         "3 competitors < 4: the default prior")
    t.raises(lambda: a.call("revenue-config", ["set", "neighbor_median_min_competitors", "1"]),
             1102, "below 2 refused", "out of range")
    a.call("revenue-config", ["set", "neighbor_median_min_competitors", "2"])

    # A real cycle stores the seeded state; from then on no more calls.
    a.call("revenue-cycle", ["fees"])
    d, sd = seeded(a, scid["p1"])
    t.eq(sd, None, "a stored state is not seeded again")
    t.ok(d["state"] is not None and d["state"]["from_prior"] and
         abs(d["state"]["posterior_mean_ppm"] - 500) < 1e-6,
         "the stored state learns from 500 ppm", d["state"])
finally:
    t.eq(s.stop(), 0, "clean shutdown", s.stderr_text())
    s.cleanup()
t.done()
