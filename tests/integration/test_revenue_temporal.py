#!/usr/bin/env python3
"""Channel temporal profiles end to end: the simulator's demand follows a
daily cycle (peak 21:00 UTC, trough 09:00); after eight simulated days of
the real plugin's cycles (`hive-sim serve --sim-clock`), busy channels have
graduated profiles whose peak hours sit around 21 UTC and quiet hours
around 9 UTC, the profile is stored (migration 6) and shown, and the fee
controller's Thompson step used the profile's time intensity."""
import json
import math
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import ROOT, Serve, Tap  # noqa: E402

t = Tap()
DAY = 86400
PEAK, TROUGH = 21, 9


def scenario():
    sc = json.load(open(os.path.join(ROOT, "scenarios", "single-node.json")))
    # Enough small payments that most channels route tens of forwards a
    # day, with a marked daily rhythm and no weekend dip.
    sc.setdefault("traffic", {}).update({"capacity_multiplier": 2, "amount_median_sat": 3000,
                          "diurnal_amplitude": 0.8,
                          "diurnal_peak_hour": PEAK, "weekend_factor": 1})
    return sc


def hour_dist(a, b):
    d = abs(a - b) % 24
    return min(d, 24 - d)


def circ_mean(hours):
    """Circular mean of hours of the day (None for an empty list)."""
    if not hours:
        return None
    x = sum(math.cos(2 * math.pi * h / 24) for h in hours)
    y = sum(math.sin(2 * math.pi * h / 24) for h in hours)
    return (math.atan2(y, x) * 24 / (2 * math.pi)) % 24


def bucket(intensity):
    """engine/fee_ctl_learn.c's time bucket: low < 0.3, peak > 0.7."""
    if intensity < 0:
        return 1
    return 0 if intensity < 0.3 else 2 if intensity > 0.7 else 1


sc = scenario()
start = sc["start_time"]
s = Serve(sc, args=["--sim-clock"]).start()
try:
    a = s.rpc("router")
    # Eight days and a half hour: now is 00:30 UTC, inside an hour.
    adv = a.call("dev-sim-advance", {"seconds": 8 * DAY + 1800}, timeout=120)
    t.ok(adv["now"] >= start + 8 * DAY, "eight simulated days played", adv)
    cyc = a.call("revenue-cycle", {"subsystem": "all"})
    t.eq(cyc["status"], "ok", "a flow and a fee cycle run now")

    an = a.call("revenue-analyze")
    chans = [c for c in an["channels"] if "temporal" in c]
    t.eq(len(chans), len(an["channels"]), "every channel's analysis has a temporal profile",
         [c for c in an["channels"] if "temporal" not in c][:2])
    tp0 = chans[0]["temporal"]
    t.ok(set(tp0) == {"graduated", "days", "forwards_per_day", "hourly", "peak_hours",
                      "quiet_hours", "burstiness", "diurnal_strength", "intensity_now"}
         and len(tp0["hourly"]) == 24, "temporal fields", sorted(tp0))
    busy = [c for c in chans if c["temporal"]["forwards_per_day"] >= 20]
    t.ok(len(busy) >= len(chans) // 2, "most channels are busy (>= 20 forwards a day)",
         [(c["channel_id"], c["temporal"]["forwards_per_day"]) for c in chans])
    t.ok(all(c["temporal"]["graduated"] == (c["temporal"]["days"] >= 7 and
                                             c["temporal"]["forwards_per_day"] >= 10)
             for c in chans), "graduated exactly when >= 7 days at >= 10 forwards a day",
         [(c["channel_id"], c["temporal"]["days"], c["temporal"]["forwards_per_day"],
           c["temporal"]["graduated"]) for c in chans])
    t.ok(all(c["temporal"]["graduated"] and c["temporal"]["days"] >= 8 for c in busy),
         "busy channels graduated, covering the complete days played",
         [(c["channel_id"], c["temporal"]["days"]) for c in busy])

    one = a.call("revenue-analyze", {"channel_id": busy[0]["channel_id"]})["analysis"]
    t.eq(one["temporal"], busy[0]["temporal"],
         "one channel's analysis shows the profile it has among all "
         "(forwards since arrived today, which is left out)")

    bad = []
    for c in busy:
        tp = c["temporal"]
        peak, quiet = tp["peak_hours"], tp["quiet_hours"]
        # Peaks include the simulated peak (+- 2 h) and most of them
        # (4 of 6) lie within 4 h of it; quiet hours likewise around the
        # trough. Hourly counts of a few dozen forwards a day are noisy:
        # an odd hour may stray.
        if not (len(peak) == 6 and len(quiet) == 6 and not set(peak) & set(quiet)
                and any(hour_dist(h, PEAK) <= 2 for h in peak)
                and sum(hour_dist(h, PEAK) <= 4 for h in peak) >= 4
                and any(hour_dist(h, TROUGH) <= 2 for h in quiet)
                and sum(hour_dist(h, TROUGH) <= 4 for h in quiet) >= 4
                and tp["diurnal_strength"] > 0.3):
            bad.append((c["channel_id"], peak, quiet, round(tp["diurnal_strength"], 2)))
    t.ok(not bad, "busy channels: peak hours around 21 UTC, quiet hours around 9 UTC, "
         "a daily cycle", bad)
    pm = circ_mean([h for c in busy for h in c["temporal"]["peak_hours"]])
    qm = circ_mean([h for c in busy for h in c["temporal"]["quiet_hours"]])
    t.ok(hour_dist(pm, PEAK) <= 1 and hour_dist(qm, TROUGH) <= 1,
         "all busy channels' peak hours centre on 21 UTC and quiet hours on 9 UTC (+- 1 h)",
         (round(pm, 2), round(qm, 2)))
    hourly = [sum(c["temporal"]["hourly"][h] for c in busy) for h in range(24)]
    t.ok(hour_dist(hourly.index(max(hourly)), PEAK) <= 2 and
         hour_dist(hourly.index(min(hourly)), TROUGH) <= 2,
         "summed over busy channels, the busiest hour is 21 +- 2 and the quietest 9 +- 2",
         [round(x, 1) for x in hourly])
    t.ok(all(0 <= c["temporal"]["intensity_now"] <= 1 for c in busy) and
         all(c["temporal"]["intensity_now"] == -1
             for c in chans if not c["temporal"]["graduated"]),
         "intensity_now in 0..1 once graduated, -1 before")

    # The fee controller: the last real cycle and a preview both use the
    # profile's intensity of the current hour, and its context follows.
    dbg = {c["channel_id"]: c for c in a.call("revenue-fee-debug")["channels"]}
    used, mism = 0, []
    for c in busy:
        d = dbg[c["channel_id"]]
        th = [x for x in d["decision"]["steps"] if x["step"] == "thompson"][0]
        last = d.get("last_cycle") or {}
        if not th.get("reached", True) or "time_intensity" not in th["numbers"]:
            continue
        ti = th["numbers"]["time_intensity"]
        lt = last.get("time_intensity")
        ok = (abs(ti - c["temporal"]["intensity_now"]) < 1e-6 and lt is not None
              and abs(lt - ti) < 1e-6 and ti >= 0)
        if "context" in th["numbers"]:
            ok = ok and int(th["numbers"]["context"]) % 3 == bucket(ti)
        used += ok
        if not ok:
            mism.append((c["channel_id"], ti, lt, c["temporal"]["intensity_now"],
                         th["numbers"].get("context")))
    t.ok(used >= len(busy) // 2 and not mism,
         "fee decisions used the profile's non-negative time intensity (%d channels)" % used,
         mism)

    # Stored by the flow cycle (migration 6) and shown by revenue-status.
    st = a.call("revenue-status")
    shown = {c["channel_id"]: c["temporal"] for c in st["channel_states"]}
    t.ok(all(shown.get(c["channel_id"]) and shown[c["channel_id"]]["graduated"] and
             shown[c["channel_id"]]["peak_hours"] == c["temporal"]["peak_hours"] and
             abs(shown[c["channel_id"]]["intensity_now"] - c["temporal"]["intensity_now"]) < 1e-6
             for c in busy),
         "revenue-status shows the stored profile with its intensity now")
    con = sqlite3.connect(os.path.join(s.nodes["router"]["dir"], "revenue_ops.db"))
    try:
        ver = con.execute("PRAGMA user_version").fetchone()[0]
        rows = dict(con.execute("SELECT channel_id, temporal_profile_json FROM channel_states"))
    finally:
        con.close()
    t.ok(ver >= 6, "schema at migration 6 or later", ver)
    stored = {k: json.loads(v) for k, v in rows.items() if v}
    t.ok(all(c["channel_id"] in stored and
             stored[c["channel_id"]]["computed_at"] >= start + 8 * DAY and
             len(stored[c["channel_id"]]["hourly"]) == 24 for c in busy),
         "channel_states.temporal_profile_json holds each busy channel's profile")
    log = s.log("router").splitlines()
    bad = [line for line in log if " debug " not in line and " info " not in line]
    t.ok(not bad, "no warning in the log", bad[:5])
    grad = [int(m.group(1)) for m in
            (re.search(r"(\d+) graduated temporal profiles", line) for line in log) if m]
    t.eq(grad[-1:], [len([c for c in chans if c["temporal"]["graduated"]])],
         "the flow cycle logs how many profiles graduated")
finally:
    t.eq(s.stop(), 0, "clean shutdown", s.stderr_text())
    s.cleanup()
t.done()
