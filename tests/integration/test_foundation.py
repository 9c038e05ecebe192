#!/usr/bin/env python3
"""Both plugins under a simulated node: every RPC of the foundation,
setconfig, runtime plugin stop/start, shutdown, restart with the database
intact, and the bad-input paths (wrong params, bad option values, a newer
or locked database)."""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import BUILD, RpcError, Serve, Tap, small_scenario  # noqa: E402

t = Tap()


def basic(t):
    s = Serve(small_scenario()).start()
    try:
        a = s.rpc("alice")
        st = a.call("revenue-status")
        t.eq(st["status"], "running", "revenue-status: running")
        t.eq(st["config"]["fee_range_ppm"], [10, 10000], "revenue-status: default fee range")
        t.eq(st["channels"], {"total": 3, "active": 3}, "revenue-status counts channels from listpeerchannels")
        t.eq(st["database"]["schema_version"] >= 1, True, "revenue-status: database migrated")

        hs = a.call("hive-status")
        t.eq(hs["status"], "no_members", "hive-status: no members yet")
        t.eq(hs["limits"]["max_members"], 50, "hive-status: default max members")

        rh = a.call("revenue-hive-status")
        t.eq(rh["cl_hive_available"], True, "revenue-hive-status sees cl-hive in `plugin list`")
        t.eq(rh["mode"], "standalone", "revenue-hive-status: not a member, so standalone")

        # revenue-config: typed, ranged, persisted, applied at once.
        t.eq(a.call("revenue-config", ["get", "min_fee_ppm"])["value"], 10, "config get: default")
        r = a.call("revenue-config", {"action": "set", "key": "min_fee_ppm", "value": 25})
        t.eq((r["status"], r["new_value"], r["source"]), ("success", 25, "override"), "config set: applied")
        t.eq(a.call("revenue-status")["config"]["fee_range_ppm"], [25, 10000], "config set visible at once in revenue-status")
        t.raises(lambda: a.call("revenue-config", ["set", "min_fee_ppm", "12000"]), 1108,
                 "config set: min above max refused", "max_fee_ppm")
        t.raises(lambda: a.call("revenue-config", ["set", "min_fee_ppm", "-4"]), 1102,
                 "config set: out of range refused", "out of range")
        t.raises(lambda: a.call("revenue-config", ["set", "min_fee_ppm", "abc"]), 1102,
                 "config set: not an integer refused", "not an integer")
        t.raises(lambda: a.call("revenue-config", ["set", "enable_vegas_reflex", "maybe"]), 1102,
                 "config set: bad boolean refused", "boolean")
        t.raises(lambda: a.call("revenue-config", ["set", "dry_run", "true"]), 1106,
                 "config set: immutable key refused", "cannot be changed at runtime")
        t.raises(lambda: a.call("revenue-config", ["set", "no_such_key", "1"]), 1101,
                 "config set: unknown key refused", "Unknown config key")
        t.raises(lambda: a.call("revenue-config", ["frobnicate"]), -32602,
                 "config: unknown action refused", "action")
        t.eq(a.call("revenue-config", ["get", "min_fee_ppm"])["value"], 25, "failed sets changed nothing")
        muts = a.call("revenue-config", ["list-mutable"])
        t.ok("min_fee_ppm" in muts["mutable_keys"] and "dry_run" not in muts["mutable_keys"],
             "list-mutable lists runtime keys and not immutable ones")
        r = a.call("revenue-config", ["set", "fee_profile", "CONSERVATIVE"])
        t.eq(r["new_value"], "conservative", "string choices are case-insensitive and canonical")

        # setconfig through lightningd for a dynamic option.
        r = a.call("setconfig", {"config": "revenue-ops-max-fee-ppm", "val": "4000"})
        t.eq(r["config"]["config"], "revenue-ops-max-fee-ppm", "setconfig accepted")
        t.eq(a.call("revenue-config", ["get", "max_fee_ppm"])["value"], 4000, "setconfig applied to memory")
        t.raises(lambda: a.call("setconfig", {"config": "revenue-ops-max-fee-ppm", "val": "999999"}),
                 -32602, "setconfig out of range refused", "out of range")
        t.raises(lambda: a.call("setconfig", {"config": "revenue-ops-max-fee-ppm", "val": "5"}),
                 -32602, "setconfig breaking min<=max refused", "min_fee_ppm")
        t.eq(a.call("revenue-config", ["get", "max_fee_ppm"])["value"], 4000, "refused setconfig left the value")
        t.raises(lambda: a.call("setconfig", {"config": "revenue-ops-db-path", "val": "x.db"}),
                 -32602, "setconfig on a non-dynamic option refused", "dynamic")
        a.call("setconfig", {"config": "hive-max-members", "val": "60"})
        t.eq(a.call("hive-status")["limits"]["max_members"], 60, "cl-hive setconfig applied")

        # An override wins over setconfig, and setconfig says so instead of
        # being silently undone later (defect 22).
        a.call("revenue-config", ["set", "max_fee_ppm", "3500"])
        t.raises(lambda: a.call("setconfig", {"config": "revenue-ops-max-fee-ppm", "val": "3000"}),
                 -32602, "setconfig on an overridden option refused, naming the override",
                 "revenue-config override")
        t.eq(a.call("revenue-config", ["get", "max_fee_ppm"])["value"], 3500,
             "the override still applies")
        a.call("revenue-config", ["reset", "max_fee_ppm"])

        # reset restores the option/default value in memory at once.
        r = a.call("revenue-config", ["reset", "min_fee_ppm"])
        t.eq((r["new_value"], r["source"]), (10, "default"), "config reset restores the default at once")

        # Bad params and unknown methods: clear JSON-RPC errors.
        t.raises(lambda: a.call("revenue-status", ["extra"]), -32602, "too many params refused")
        t.raises(lambda: a.call("revenue-config", {"bogus": 1}), -32602, "unknown named param refused", "bogus")
        t.raises(lambda: a.call("revenue-config", [5]), -32602, "wrongly typed param refused", "action")
        t.raises(lambda: a.call("no-such-method"), -32601, "unknown method refused")

        # Runtime plugin stop and start (dynamic plugins).
        r = a.call("plugin", ["stop", "cl-hive"])
        t.ok("stopped" in r["result"], "plugin stop cl-hive", r)
        rh = a.call("revenue-hive-status")
        t.eq((rh["cl_hive_available"], rh["mode"]), (False, "standalone"), "without cl-hive: standalone")
        t.raises(lambda: a.call("hive-status"), -32601, "hive-status gone after stop")
        # A plugin whose name merely contains "cl-hive" is not cl-hive
        # (defect 41: identity by substring).
        import shutil, stat
        impostor = os.path.join(s.dir, "my-cl-hive-tools")
        shutil.copy(os.path.join(os.path.dirname(__file__), "fixtures", "bad-plugin.py"), impostor)
        os.chmod(impostor, os.stat(impostor).st_mode | stat.S_IEXEC)
        a.call("plugin", ["start", impostor])
        rh = a.call("revenue-hive-status")
        t.eq(rh["cl_hive_available"], False, "a plugin named my-cl-hive-tools is not taken for cl-hive")
        a.call("plugin", ["stop", "my-cl-hive-tools"])
        r = a.call("plugin", ["start", os.path.join(BUILD, "cl-hive")])
        t.ok(any(p["name"].endswith("/cl-hive") and p["active"] for p in r["plugins"]),
             "plugin start cl-hive at runtime", r)
        t.eq(a.call("hive-status")["status"], "no_members", "restarted cl-hive answers")

        # Persisted override survives a restart of the whole node.
        a.call("revenue-config", ["set", "daily_budget_sats", "7000"])
        rc = s.stop()
        t.eq(rc, 0, "hive-sim (and both plugins) exit cleanly on shutdown", s.stderr_text())
        log = open(os.path.join(s.dir, "alice", "log")).read()
        t.ok("BROKEN" not in log, "no broken log lines", log[-2000:])
        s2 = Serve(small_scenario(), dirpath=s.dir).start()
        try:
            a2 = s2.rpc("alice")
            g = a2.call("revenue-config", ["get", "daily_budget_sats"])
            t.eq((g["value"], g["source"]), (7000, "override"), "override persisted across restart")
            t.eq(a2.call("revenue-config", ["get", "fee_profile"])["value"], "conservative",
                 "string override persisted across restart")
        finally:
            t.eq(s2.stop(), 0, "second run exits cleanly", s2.stderr_text())
    finally:
        s.cleanup()


def bad_option(t):
    sc = small_scenario(options={"revenue-ops-min-fee-ppm": "lots", "hive-max-members": "1000"})
    s = Serve(sc).start()
    try:
        a = s.rpc("alice")
        t.raises(lambda: a.call("revenue-status"), -32601, "bad option value: plugin disabled, node still up")
        t.raises(lambda: a.call("hive-status"), -32601, "out-of-range option: cl-hive disabled")
        info = a.call("getinfo")
        t.eq(info["alias"], "alice", "lightningd keeps running with both plugins disabled")
        log = s.log("alice")
        t.ok("revenue-ops-min-fee-ppm='lots' is not an integer" in log,
             "the operator's log names the option and the problem", log[-1500:])
        t.ok("hive-max-members=1000 is out of range" in log, "range error logged", log[-1500:])
    finally:
        t.eq(s.stop(), 0, "disabled plugins do not make shutdown fail", s.stderr_text())
        s.cleanup()


def newer_and_locked_db(t):
    import tempfile
    d = tempfile.mkdtemp(prefix="hive-it-db-")
    os.makedirs(os.path.join(d, "alice"))
    db = os.path.join(d, "alice", "revenue_ops.db")
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE keepme (x INTEGER)")
    con.execute("INSERT INTO keepme VALUES (42)")
    con.execute("PRAGMA user_version = 999")
    con.commit()
    con.close()
    hdb = os.path.join(d, "alice", "cl_hive.db")
    lock = sqlite3.connect(hdb, timeout=0.1, isolation_level=None)
    lock.execute("PRAGMA journal_mode=DELETE")
    lock.execute("CREATE TABLE t (x)")
    lock.execute("BEGIN EXCLUSIVE")
    s = Serve(small_scenario(), dirpath=d, args=["--timeout-ms", "20000"]).start()
    try:
        a = s.rpc("alice")
        t.raises(lambda: a.call("revenue-status"), -32601, "newer schema: cl-revenue-ops disabled")
        t.raises(lambda: a.call("hive-status"), -32601, "locked database: cl-hive disabled")
        log = s.log("alice")
        t.ok("newer" in log and "999" in log, "newer-schema reason logged", log[-1500:])
        t.ok("locked" in log, "locked-database reason logged", log[-1500:])
    finally:
        lock.execute("ROLLBACK")
        lock.close()
        t.eq(s.stop(), 0, "clean exit after disabling", s.stderr_text())
        con = sqlite3.connect(db)
        t.eq((con.execute("PRAGMA user_version").fetchone()[0],
              con.execute("SELECT x FROM keepme").fetchone()[0]), (999, 42),
             "the newer database was left untouched")
        con.close()
        import shutil
        shutil.rmtree(d, ignore_errors=True)


basic(t)
bad_option(t)
newer_and_locked_db(t)
t.done()
