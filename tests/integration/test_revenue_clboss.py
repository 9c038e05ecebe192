#!/usr/bin/env python3
"""cl-revenue-ops beside CLBOSS (a stand-in plugin, clboss-fake.py): it is
detected through `plugin list`, told to leave a peer's fees and balancing
alone before the fee cycle changes them, the unmanaged peers are recorded,
and revenue-remanage hands a peer back."""
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
    sc["nodes"][0]["plugins"] = ["cl-revenue-ops",
                                 os.path.join(ROOT, "tests", "integration", "clboss-fake.py")]
    return sc


def clboss(t):
    s = Serve(scenario()).start()
    try:
        a = s.rpc("router")
        st = a.call("revenue-clboss-status")
        t.eq((st["clboss_enabled"], st["clboss_available"]), (True, True), "CLBOSS detected")
        t.eq(st["clboss_status"]["info"]["version"], "fake-0.13", "raw clboss-status passed through")
        before = {c["short_channel_id"]: (c["peer_id"], c["fee_proportional_millionths"])
                  for c in a.call("listpeerchannels")["channels"]}
        a.call("dev-sim-advance", {"seconds": 2 * 86400})
        a.call("revenue-wake-all")
        after = {c["short_channel_id"]: c["fee_proportional_millionths"]
                 for c in a.call("listpeerchannels")["channels"]}
        changed_peers = sorted({p for k, (p, f) in before.items() if after[k] != f})
        t.ok(changed_peers, "fees changed")
        st = a.call("revenue-clboss-status")
        um = {u["peer_id"]: u["tags"]["tags"] for u in st["unmanaged_peers"]}
        t.ok(all(um.get(p) == ["balance", "lnfee"] for p in changed_peers),
             "every peer whose fee changed was unmanaged for lnfee,balance first", (um, changed_peers))
        rec = {(r["peer_id"], r["tag"]) for r in st["recorded_unmanaged"]}
        t.ok(all((p, "lnfee") in rec and (p, "balance") in rec for p in changed_peers),
             "unmanaged peers recorded")
        peer = changed_peers[0]
        r = a.call("revenue-remanage", {"peer_id": peer, "tag": "lnfee"})
        t.eq((r["status"], r["tag"], r["success"]), ("success", "lnfee", True), "remanage one tag")
        r = a.call("revenue-remanage", [peer])
        t.eq((r["status"], r["tag"]), ("success", "all"), "remanage all tags")
        t.ok(r["message"].startswith("Re-enabled clboss management for"), "reference message", r)
        st = a.call("revenue-clboss-status")
        t.ok(peer not in {u["peer_id"] for u in st["unmanaged_peers"]}, "CLBOSS manages the peer again")
        t.ok(all(x["peer_id"] != peer for x in st["recorded_unmanaged"]), "records removed")
        t.raises(lambda: a.call("revenue-remanage", [peer, "fees"]), -32602, "bad tag refused", "tag")
        # A peer we stop managing (passive) goes back to CLBOSS at the next
        # flow cycle; the others stay unmanaged (defect 44).
        other, keep = changed_peers[1], changed_peers[2]
        a.call("revenue-policy", ["set", other, "passive"])
        a.call("revenue-wake-all")
        st = a.call("revenue-clboss-status")
        um = {u["peer_id"] for u in st["unmanaged_peers"]}
        t.ok(other not in um and keep in um, "passive peer handed back, managed ones kept", um)
        a.call("setconfig", {"config": "revenue-ops-clboss-enabled", "val": "false"})
        st = a.call("revenue-clboss-status")
        t.eq(st["message"], "clboss integration is disabled", "integration switched off")
    finally:
        t.eq(s.stop(), 0, "serve stops cleanly", s.stderr_text())
        s.cleanup()


clboss(t)
t.done()
