#!/usr/bin/env python3
"""Result filters (lightningd's "filter", v23.02+) on a simulated node.

The simulator builds big answers (listpeerchannels, listfunds) already
filtered instead of filtering a whole answer afterwards, so each filtered
answer is checked against lightningd's rule applied to the unfiltered one:
an object keeps the members its filter marks true or describes (nested
objects recursively); an array's filter is its one element, applied to
every element.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hivetest import Serve, Tap, small_scenario  # noqa: E402


def apply_filter(v, f):
    if isinstance(f, dict) and isinstance(v, dict):
        return {k: (v[k] if fk is True else apply_filter(v[k], fk))
                for k, fk in f.items()
                if k in v and (fk is True or isinstance(fk, (dict, list)))}
    if isinstance(f, list) and isinstance(v, list) and len(f) == 1:
        return [apply_filter(e, f[0]) for e in v]
    return v


def steady(res):
    """Drop what moves with the wall clock between two calls."""
    for c in res.get("channels", []) if isinstance(res, dict) else []:
        if isinstance(c, dict):
            c.pop("last_stable_connection", None)
    return res


# What cl-revenue-ops asks for, and filters reaching into nested members.
PEERCHANNELS = [
    {"channels": [{"short_channel_id": True, "peer_id": True,
                   "channel_id": True, "state": True, "opener": True,
                   "peer_connected": True, "total_msat": True,
                   "to_us_msat": True, "spendable_msat": True,
                   "fee_base_msat": True,
                   "fee_proportional_millionths": True,
                   "our_max_htlc_value_in_flight_msat": True,
                   "max_accepted_htlcs": True,
                   "updates": {"local": {"fee_base_msat": True,
                                         "fee_proportional_millionths": True}},
                   "htlcs": [{"amount_msat": True}]}]},
    {"channels": [{"updates": {"remote": {"htlc_minimum_msat": True},
                               "local": False},
                   "htlcs": [{"direction": True, "state": True}]}]},
    {"channels": [{"updates": {"local": True}, "funding": {"pushed_msat": True},
                   "status": [True], "channel_type": {"names": True},
                   "state_changes": [{"new_state": True, "cause": False}],
                   "feerate": {"perkw": True}, "features": True,
                   "state": False}]},
    {"channels": [{"updates": True, "htlcs": True}]},
    {"channels": [{"updates": [{"local": True}], "funding": [True]}]},
    {"channels": True},
    {"channels": {"peer_id": True}},
    {"channels": [{"peer_id": True}, {"state": True}]},
    {"channels": False},
    {"nothing": True},
    {},
]
FUNDS = [
    {"outputs": [{"status": True, "reserved": True, "amount_msat": True}]},
    {"channels": [{"short_channel_id": True, "our_amount_msat": True}]},
    {"outputs": True, "channels": False},
]

t = Tap()
s = Serve(small_scenario(plugins=())).start()
try:
    rpc = s.rpc("alice")
    full = steady(rpc.call("listpeerchannels"))
    t.ok(len(full["channels"]) == 3 and "htlcs" in full["channels"][0],
         "listpeerchannels without a filter is complete", full)
    for i, f in enumerate(PEERCHANNELS):
        got = steady(rpc.call("listpeerchannels", filter=f))
        t.eq(got, apply_filter(full, f), "listpeerchannels, filter %d" % i,
             "filter %s" % f)
    peer = full["channels"][0]["peer_id"]
    one = steady(rpc.call("listpeerchannels", {"id": peer}))
    f = PEERCHANNELS[0]
    t.eq(steady(rpc.call("listpeerchannels", {"id": peer}, filter=f)),
         apply_filter(one, f), "listpeerchannels by peer, filtered")
    funds = rpc.call("listfunds")
    t.ok(len(funds["channels"]) == 3 and "outputs" in funds,
         "listfunds without a filter is complete", funds)
    for i, f in enumerate(FUNDS):
        t.eq(rpc.call("listfunds", filter=f), apply_filter(funds, f),
             "listfunds, filter %d" % i, "filter %s" % f)
finally:
    t.eq(s.stop(), 0, "clean shutdown", s.stderr_text())
    s.cleanup()
t.done()
