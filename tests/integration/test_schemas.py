#!/usr/bin/env python3
"""Every built-in method of a simulated fleet node, and every notification
and hook payload it sends, against Core Lightning's v26 JSON schemas.

Starts `hive-sim serve` (no plugins at start; cl-hive is started and
stopped at runtime to exercise `plugin` and `setconfig`), makes each
method return real data (a channel opened and closed, invoices paid around
a circle, forwards settled, failed and local_failed, a probe failing at
its destination, a peer outage, a fee spike), and validates each response
against the schema's "response" (CLN's custom types translated into plain
draft-7 JSON Schema). Notifications and hooks are captured through the
node's notifications.jsonl (HIVE_SIM_NOTIFY_LOG=1) and validated against
schemas/notification/*.json and schemas/hook/*.json.

One TAP check per (method, response); one per notification topic / hook.
"""
import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hivetest  # noqa: E402
from hivetest import RpcError, Serve, Tap  # noqa: E402

try:
    import jsonschema
except ImportError:  # pragma: no cover
    print("1..0 # SKIP python3-jsonschema not installed")
    sys.exit(0)

SCHEMAS = os.environ.get("CLN_SCHEMAS", "/work/shared/cln/schemas")
VERSION = "v26.06"

HEX = "^[0-9a-fA-F]*$"
HEX32 = "^[0-9a-fA-F]{64}$"
CUSTOM = {
    "msat": {"type": "integer", "minimum": 0},
    "sat": {"type": "integer", "minimum": 0},
    "u64": {"type": "integer", "minimum": 0, "maximum": 2**64 - 1},
    "u32": {"type": "integer", "minimum": 0, "maximum": 2**32 - 1},
    "u16": {"type": "integer", "minimum": 0, "maximum": 2**16 - 1},
    "u8": {"type": "integer", "minimum": 0, "maximum": 2**8 - 1},
    "pubkey": {"type": "string", "pattern": "^0[23][0-9a-fA-F]{64}$"},
    "short_channel_id": {"type": "string", "pattern": r"^\d+x\d+x\d+$"},
    "short_channel_id_dir": {"type": "string",
                             "pattern": r"^\d+x\d+x\d+/[01]$"},
    "hash": {"type": "string", "pattern": HEX32},
    "txid": {"type": "string", "pattern": HEX32},
    "secret": {"type": "string", "pattern": HEX32},
    "hex": {"type": "string", "pattern": HEX},
    "signature": {"type": "string", "pattern": HEX, "maxLength": 144},
    "bip340sig": {"type": "string", "pattern": "^[0-9a-fA-F]{128}$"},
    "number": {"type": "number"},
    "outpoint": {"type": "string", "pattern": r"^[0-9a-fA-F]{64}:\d+$"},
    "feerate": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
    # Request-only types (amount strings, "all"/"any"): loose on purpose.
    "msat_or_any": {},
    "msat_or_all": {},
    "sat_or_all": {},
    "outputdesc": {"type": "object"},
    "currency": {"type": "string"},
}
NONSTANDARD = {"added", "deprecated", "description", "hidden", "default",
               "pairedWith", "dependentUpon", "comment", "untyped",
               "oneOfMany", "post_return_value_notes",
               "pre_return_value_notes", "example_notes", "examples"}


def translate(node):
    """CLN schema dialect -> draft 7: custom types become patterns and
    ranges; fields deprecated by this version are dropped (lightningd does
    not print them without allow-deprecated-apis), so with
    additionalProperties false they are rejected."""
    if isinstance(node, list):
        return [translate(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k in NONSTANDARD:
            continue
        if k == "properties" and isinstance(v, dict):
            out[k] = {pk: translate(pv) for pk, pv in v.items()
                      if not (isinstance(pv, dict) and "deprecated" in pv)}
        elif k == "type" and isinstance(v, str) and v in CUSTOM:
            for ck, cv in CUSTOM[v].items():
                out[ck] = cv
        else:
            out[k] = translate(v)
    return out


def load(path, part):
    with open(os.path.join(SCHEMAS, path)) as f:
        doc = json.load(f)
    return jsonschema.Draft7Validator(translate(doc[part]))


_validators = {}


def validator(path, part="response"):
    key = (path, part)
    if key not in _validators:
        _validators[key] = load(path, part)
    return _validators[key]


def problems(v, obj):
    errs = sorted(v.iter_errors(obj), key=lambda e: list(e.absolute_path))
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(top)",
                        e.message[:300]) for e in errs[:8]]


class Checker:
    def __init__(self, tap):
        self.tap = tap
        self.seen = set()

    def valid(self, method, obj, label=None, schema=None, part="response"):
        v = validator(schema or (method + ".json"), part)
        errs = problems(v, obj)
        self.seen.add(method)
        name = "%s%s matches the v26 schema" % (
            method, " (%s)" % label if label else "")
        return self.tap.ok(not errs, name,
                           "\n".join(errs) + "\n" +
                           json.dumps(obj)[:1500] if errs else None)

    def call(self, rpc, method, params=None, label=None, schema=None):
        try:
            res = rpc.call(method, params if params is not None else {})
        except RpcError as e:
            self.tap.ok(False, "%s%s answers" % (
                method, " (%s)" % label if label else ""),
                "error %s: %s" % (e.code, e.message))
            return None
        self.valid(method, res, label, schema)
        return res

    def error(self, rpc, method, params, code, label, data_schema=None):
        """A call that must fail with @code; its data (if a schema part
        describes it) validated too."""
        try:
            res = rpc.call(method, params)
        except RpcError as e:
            ok = self.tap.ok(e.code == code, "%s (%s) fails with %d" % (
                method, label, code), "code %s: %s" % (e.code, e.message))
            if data_schema:
                v = jsonschema.Draft7Validator(data_schema)
                errs = problems(v, e.error.get("data"))
                self.tap.ok(not errs and "data" in e.error,
                            "%s (%s) error data matches the v26 schema" % (
                                method, label),
                            "\n".join(errs) + "\n" + json.dumps(e.error)[:1500])
            return e.error if ok else None
        self.tap.ok(False, "%s (%s) fails with %d" % (method, label, code),
                    "no error: %r" % (res,))
        return None


def sendpay_failure_data_schema():
    with open(os.path.join(SCHEMAS, "notification/sendpay_failure.json")) as f:
        doc = json.load(f)
    return translate(doc["response"]["properties"]["data"])


def scenario():
    nodes = [
        {"alias": "alice", "fleet": True, "onchain_sat": 10000000},
        {"alias": "bob", "fleet": True, "onchain_sat": 3000000},
        {"alias": "ext1"}, {"alias": "ext2"}, {"alias": "ext3"},
        {"alias": "ext4"},
    ]

    def ch(a, b, cap, bal, fee_a=None, fee_b=None):
        c = {"a": a, "b": b, "capacity_sat": cap, "a_balance_sat": bal,
             "age_days": 60}
        if fee_a:
            c["a_fee"] = fee_a
        if fee_b:
            c["b_fee"] = fee_b
        return c
    chans = [
        ch("alice", "ext1", 4000000, 2000000, {"base_msat": 1000, "ppm": 200}),
        ch("ext1", "ext2", 5000000, 2500000),
        ch("ext2", "alice", 3000000, 1500000, None,
           {"base_msat": 500, "ppm": 150}),
        ch("alice", "bob", 3000000, 1500000, {"base_msat": 0, "ppm": 100}),
        ch("bob", "ext3", 2000000, 1000000),
        ch("ext3", "ext1", 2000000, 1000000),
        ch("ext2", "ext3", 2000000, 1000000),
        ch("alice", "ext3", 1000000, 100000),
        ch("ext4", "ext2", 2000000, 1000000),
    ]
    return {
        "name": "schemas", "seed": 11, "start_time": 1767225600,
        "nodes": nodes, "channels": chans,
        "traffic": {"capacity_multiplier": 30},
        # A mempool spike from 0.5 to 0.6 days (the fee logic of plugins
        # must be able to see one).
        "chain": {"feerate_perkw": 2000, "block_interval_sec": 600,
                  "spikes": [{"from_day": 0.5, "to_day": 0.6,
                              "feerate_perkw": 40000}]},
        # ext3 (bob's peer) drops off for an hour at 0.1 days.
        "events": [{"at_day": 0.1, "node": "ext3", "offline_hours": 1}],
    }


def route_hops(route):
    return [{"id": h["id"], "channel": h["channel"],
             "amount_msat": h["amount_msat"], "delay": h["delay"]}
            for h in route]


def fee_of(rpc, scid, source, amount):
    for c in rpc.call("listchannels", {"short_channel_id": scid})["channels"]:
        if c["source"] == source:
            return (c["base_fee_millisatoshi"]
                    + amount * c["fee_per_millionth"] // 1000000, c["delay"])
    raise RuntimeError("no channel %s from %s" % (scid, source))


def circular_route(net, payer, first_chan, first_peer, amount, avoid=()):
    """payer -> first_peer over first_chan, then getroute back to payer
    (as a rebalancer builds it)."""
    rpc = net["rpc"][payer]
    back = rpc.call("getroute", {"id": net["ids"][payer],
                                 "fromid": net["ids"][first_peer],
                                 "amount_msat": amount, "riskfactor": 10,
                                 "exclude": [first_chan + "/0",
                                             first_chan + "/1"]
                                 + list(avoid)})["route"]
    # Our peer charges its fee for the first channel of the way back.
    fee, delta = fee_of(rpc, back[0]["channel"], net["ids"][first_peer],
                        back[0]["amount_msat"])
    first = {"id": net["ids"][first_peer], "channel": first_chan,
             "amount_msat": back[0]["amount_msat"] + fee,
             "delay": back[0]["delay"] + delta}
    hops = [first] + route_hops(back)
    return hops, back


def generous_route(path, amount):
    """[(node_id, scid)] from the payer on: amounts and delays with room
    for any fee a hop asks (overpaying is allowed)."""
    hops = []
    amt, delay = amount, 9
    for node, scid in reversed(path):
        hops.insert(0, {"id": node, "channel": scid, "amount_msat": amt,
                        "delay": delay})
        amt += 2000 + amt * 300 // 1000000
        delay += 40
    return hops


def scid_between(rpc, peer_id):
    for c in rpc.call("listpeerchannels", {"id": peer_id})["channels"]:
        if c["state"] == "CHANNELD_NORMAL":
            return c["short_channel_id"]
    return None


def main():
    tap = Tap()
    ck = Checker(tap)
    sf_data = sendpay_failure_data_schema()
    serve = Serve(scenario(), env={"HIVE_SIM_NOTIFY_LOG": "1"})
    try:
        serve.start()
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "hive-sim serve starts", str(e))
        tap.done()
    try:
        run(tap, ck, serve, sf_data)
    except Exception as e:  # noqa: BLE001
        import traceback
        tap.ok(False, "schema test ran to the end", traceback.format_exc())
    finally:
        sock = getattr(serve, "held_sock", None)
        rc = serve.stop()
        tap.eq(rc, 0, "hive-sim exits 0 after SIGTERM")
        if hasattr(serve, "held_sock"):
            replies = read_replies(sock, 1) if sock else []
            tap.ok(replies and replies[0].get("id") == "held-0" and
                   replies[0].get("error", {}).get("code") == -5,
                   "a held wait is answered (-5) when the node shuts down",
                   replies)
            if sock:
                sock.close()
        err = serve.stderr_text()
        tap.ok("LeakSanitizer" not in err and "runtime error" not in err
               and "AddressSanitizer" not in err,
               "no sanitizer report", err[-3000:])
        check_notifications(tap, serve)
        serve.cleanup()
    tap.done()


def run(tap, ck, serve, sf_data):
    alice, bob = serve.rpc("alice"), serve.rpc("bob")
    ids = {a: serve.nodes[a]["id"] for a in ("alice", "bob")}
    adir = serve.nodes["alice"]["dir"]

    # --- lightning-cli compatibility: config names the socket. ---
    with open(os.path.join(adir, "config")) as f:
        conf = f.read()
    sock = os.path.join(adir, "lightning-rpc")
    tap.ok("rpc-file=%s\n" % sock in conf and "network=regtest" in conf,
           "config gives rpc-file and network for lightning-cli", conf)
    cli = shutil.which("lightning-cli")
    if cli:
        out = subprocess.run([cli, "--lightning-dir=%s" % adir, "help"],
                             capture_output=True, text=True, timeout=30)
        tap.ok(out.returncode == 0 and "getinfo" in out.stdout,
               "lightning-cli --lightning-dir finds the socket",
               out.stdout[-500:] + out.stderr[-500:])
    ck.call(alice, "help", {}, "socket from config")

    # --- node and peers ---
    info = ck.call(alice, "getinfo")
    ck.call(bob, "getinfo", label="bob")
    graph = ck.call(alice, "listnodes")
    ids.update({n["alias"]: n["nodeid"] for n in graph["nodes"]
                if "alias" in n})
    tap.ok(all(a in ids for a in ("ext1", "ext2", "ext3", "ext4")),
           "listnodes names every node with a public channel", ids)
    ck.call(alice, "listnodes", {"id": ids["ext1"]}, "id")
    ck.call(alice, "listpeers")
    ck.call(alice, "listpeers", {"id": ids["ext1"]}, "id")
    pcs = ck.call(alice, "listpeerchannels")
    ck.call(alice, "listpeerchannels", {"id": ids["bob"]}, "id")
    a_e1 = scid_between(alice, ids["ext1"])
    a_e2 = scid_between(alice, ids["ext2"])
    a_b = scid_between(alice, ids["bob"])
    b_e3 = scid_between(bob, ids["ext3"])
    ck.call(alice, "listpeerchannels", {"short_channel_id": a_e1}, "scid")
    chans = ck.call(alice, "listchannels")
    tap.ok(len(chans["channels"]) == 18,
           "listchannels lists both directions of the 9 public channels",
           len(chans["channels"]))
    ck.call(alice, "listchannels", {"short_channel_id": a_e1}, "scid")
    ck.call(alice, "listchannels", {"source": ids["ext2"]}, "source")
    ck.call(alice, "listchannels", {"destination": ids["alice"]},
            "destination")
    ck.call(alice, "setchannel", {"id": ids["ext1"], "feeppm": 250,
                                  "feebase": 800})
    ck.call(alice, "setchannel", {"id": "all", "htlcmin": 1000}, "all")
    ck.call(alice, "listconfigs")
    ck.call(alice, "feerates", {"style": "perkw"}, "perkw")
    ck.call(alice, "feerates", {"style": "perkb"}, "perkb")
    ck.call(alice, "listfunds")

    # --- messages ---
    sig = ck.call(alice, "signmessage", {"message": "hive schema test"})
    ck.call(bob, "checkmessage", {"message": "hive schema test",
                                  "zbase": sig["zbase"]}, "graph key")
    ck.call(bob, "checkmessage", {"message": "hive schema test",
                                  "zbase": sig["zbase"],
                                  "pubkey": ids["alice"]}, "pubkey")
    ck.call(alice, "sendcustommsg", {"node_id": ids["bob"],
                                     "msg": "8001" + "00" * 8})

    run_datastore(tap, ck, alice)

    # --- plugins at runtime (cl-hive is dynamic) ---
    hive = os.path.join(hivetest.BUILD, "cl-hive")
    ck.call(alice, "plugin", {"subcommand": "list"}, "list")
    started = ck.call(alice, "plugin", {"subcommand": "start",
                                        "plugin": hive}, "start")
    if started:
        ck.call(alice, "setconfig", {"config": "hive-max-members",
                                     "val": 40})
        ck.call(alice, "listconfigs", label="with plugin")
        ck.call(alice, "help", {"command": "getinfo"}, "one command")
        ck.call(alice, "plugin", {"subcommand": "stop",
                                  "plugin": "cl-hive"}, "stop")

    # --- wait: at once, and held until a forward happens ---
    ck.call(alice, "wait", {"subsystem": "forwards", "indexname": "created",
                            "nextvalue": 0}, "already reached")
    held = {}

    def waiter():
        try:
            held["res"] = serve.rpc("alice").call(
                "wait", {"subsystem": "forwards", "indexname": "created",
                         "nextvalue": 1}, timeout=120)
        except Exception as e:  # noqa: BLE001
            held["err"] = e
    th = threading.Thread(target=waiter)
    th.start()
    held_sp = {}

    def sp_waiter():
        try:
            held_sp["res"] = serve.rpc("bob").call(
                "wait", {"subsystem": "sendpays", "indexname": "updated",
                         "nextvalue": 1}, timeout=120)
        except Exception as e:  # noqa: BLE001
            held_sp["err"] = e
    th2 = threading.Thread(target=sp_waiter)
    th2.start()

    # --- invoices and a circular rebalance from alice (ext1 -> ... ) ---
    inv = ck.call(alice, "invoice", {"amount_msat": 200000000,
                                     "label": "rebalance-1",
                                     "description": "circular"})
    ck.call(alice, "invoice", {"amount_msat": "any", "label": 7,
                               "description": "any amount"}, "any")
    ck.error(alice, "invoice", {"amount_msat": 1000, "label": "rebalance-1",
                                "description": "dup"}, 900, "duplicate label")
    gr = ck.call(alice, "getroute", {"id": ids["ext2"],
                                     "amount_msat": 100000, "riskfactor": 10})
    net = {"rpc": {"alice": alice, "bob": bob}, "ids": ids}
    hops, back = circular_route(net, "alice", a_e1, "ext1", 200000000)
    ck.valid("getroute", {"route": back}, "circular leg")
    sp = ck.call(alice, "sendpay", {"route": hops,
                                    "payment_hash": inv["payment_hash"],
                                    "payment_secret": inv["payment_secret"],
                                    "label": "rebalance"}, "pending")
    tap.eq(sp and sp["status"], "pending", "sendpay answers pending")
    done = ck.call(alice, "waitsendpay",
                   {"payment_hash": inv["payment_hash"]}, "complete")
    tap.ok(done and hashlib.sha256(bytes.fromhex(done["payment_preimage"]))
           .hexdigest() == inv["payment_hash"],
           "the preimage of a payment to self hashes to the invoice's hash")
    ck.call(alice, "sendpay", {"route": hops,
                               "payment_hash": inv["payment_hash"]},
            "already complete")
    ck.call(alice, "wait", {"subsystem": "invoices", "indexname": "updated",
                            "nextvalue": 1}, "invoice paid")

    # --- a probe: random hash to ext2, fails at the destination (203) ---
    probe_hash = hashlib.sha256(b"probe").hexdigest()
    ph = route_hops(alice.call("getroute", {"id": ids["ext2"],
                                            "amount_msat": 50000,
                                            "riskfactor": 1})["route"])
    ck.call(alice, "sendpay", {"route": ph, "payment_hash": probe_hash},
            "probe")
    ck.error(alice, "waitsendpay", {"payment_hash": probe_hash}, 203,
             "probe at destination", sf_data)
    # --- our own channel refuses: 204 at once, nothing recorded ---
    big = [{"id": ids["ext1"], "channel": a_e1, "amount_msat": 3900000000,
            "delay": 9}]
    ck.error(alice, "sendpay", {"route": big,
                                "payment_hash": hashlib.sha256(b"big")
                                .hexdigest()}, 204, "first hop", sf_data)
    ck.error(alice, "waitsendpay", {"payment_hash": hashlib.sha256(b"big")
                                    .hexdigest()}, 208, "never attempted")

    # --- bob pays through alice: settled, failed and local_failed
    #     forwards at alice ---
    binv = ck.call(bob, "invoice", {"amount_msat": 100000000,
                                    "label": "bob-1",
                                    "description": "via alice"}, "bob")
    # (not over alice's nearly empty channel to ext3)
    hops_b, _ = circular_route(net, "bob", a_b, "alice", 100000000,
                               [scid_between(alice, ids["ext3"])])
    ck.call(bob, "sendpay", {"route": hops_b,
                             "payment_hash": binv["payment_hash"],
                             "payment_secret": binv["payment_secret"]},
            "through alice")
    ck.call(bob, "waitsendpay", {"payment_hash": binv["payment_hash"]},
            "through alice")
    # Too much for alice's small channel to ext3: local_failed at alice.
    binv2 = bob.call("invoice", {"amount_msat": 500000000, "label": "bob-2",
                                 "description": "too big for alice"})
    a_e3 = scid_between(alice, ids["ext3"])
    lf = generous_route([(ids["alice"], a_b), (ids["ext3"], a_e3),
                         (ids["bob"], b_e3)], 500000000)
    r = bob.call("sendpay", {"route": lf,
                             "payment_hash": binv2["payment_hash"]})
    ck.valid("sendpay", r, "to be refused downstream")
    ck.error(bob, "waitsendpay", {"payment_hash": binv2["payment_hash"]},
             204, "refused by alice", sf_data)
    # ext1 cannot carry it on to ext3: alice's forward fails downstream.
    binv3 = bob.call("invoice", {"amount_msat": 1200000000, "label": "bob-3",
                                 "description": "fails at ext1"})
    f2 = generous_route([(ids["alice"], a_b), (ids["ext1"], a_e1),
                         (ids["ext3"], scid_of(alice, ids["ext1"],
                                               ids["ext3"])),
                         (ids["bob"], b_e3)], 1200000000)
    bob.call("sendpay", {"route": f2, "payment_hash": binv3["payment_hash"]})
    ck.error(bob, "waitsendpay", {"payment_hash": binv3["payment_hash"]},
             204, "failed after alice", sf_data)
    ck.call(bob, "listsendpays")
    ck.call(bob, "listsendpays", {"status": "failed"}, "failed")
    ck.call(bob, "listsendpays", {"payment_hash": binv["payment_hash"]},
            "hash")
    ck.call(bob, "listsendpays", {"index": "updated", "start": 1,
                                  "limit": 2}, "paginated")

    th.join(60)
    tap.ok("res" in held, "a held wait answers when its forward arrives",
           held.get("err"))
    if "res" in held:
        ck.valid("wait", held["res"], "held forwards")
        tap.ok("forwards" in held["res"], "the held answer carries the "
               "forward", held["res"])
    th2.join(60)
    tap.ok("res" in held_sp, "a held wait answers when a payment resolves",
           held_sp.get("err"))
    if "res" in held_sp:
        ck.valid("wait", held_sp["res"], "held sendpays")

    fwds = ck.call(alice, "listforwards")
    statuses = sorted({f["status"] for f in fwds["forwards"]})
    tap.ok({"settled", "failed", "local_failed"} <= set(statuses),
           "alice has settled, failed and local_failed forwards", statuses)
    for st in statuses:
        ck.call(alice, "listforwards", {"status": st}, st)
    ck.call(alice, "listforwards", {"in_channel": a_b}, "in_channel")
    ck.call(alice, "listforwards", {"out_channel": a_e1}, "out_channel")
    page = ck.call(alice, "listforwards", {"index": "created", "start": 2,
                                           "limit": 1}, "created page")
    tap.ok(page and [f["created_index"] for f in page["forwards"]] == [2],
           "listforwards index=created start=2 limit=1 gives forward 2",
           page)
    ck.call(alice, "listforwards", {"index": "updated", "start": 1},
            "updated")
    ck.error(alice, "listforwards", {"start": 1}, -32602, "start alone")

    # --- connect, fund, lock in, close, forget ---
    conn = ck.call(alice, "connect", {"id": ids["ext4"]})
    ck.call(alice, "connect", {"id": ids["ext1"] + "@127.0.0.1:9737"},
            "already connected")
    ck.error(alice, "connect", {"id": "02" + "11" * 32}, 400, "unknown node")
    ck.call(alice, "listpeers", label="with a channel-less peer")
    fund = ck.call(alice, "fundchannel", {"id": ids["ext4"],
                                          "amount": 1000000,
                                          "feerate": "normal"})
    ck.error(alice, "fundchannel", {"id": ids["ext4"], "amount": 900000000},
             301, "cannot afford")
    opening = ck.call(alice, "listpeerchannels", {"id": ids["ext4"]},
                      "awaiting lockin")
    tap.eq(opening and [c["state"] for c in opening["channels"]],
           ["CHANNELD_AWAITING_LOCKIN"], "a new channel awaits lockin")
    ck.call(alice, "listfunds", label="change unconfirmed")
    adv = ck_advance(tap, alice, 1800)
    ck.call(alice, "listpeerchannels", {"id": ids["ext4"]}, "locked in")
    opened = alice.call("listpeerchannels", {"id": ids["ext4"]})["channels"]
    tap.eq([c["state"] for c in opened], ["CHANNELD_NORMAL"],
           "after 3 blocks the channel is CHANNELD_NORMAL")
    ck.call(alice, "listfunds", label="after lockin")
    new_scid = opened[0].get("short_channel_id")
    ck.call(alice, "listchannels", {"short_channel_id": new_scid},
            "own new channel")
    closed = ck.call(alice, "close", {"id": new_scid})
    ck.call(alice, "listpeerchannels", {"id": ids["ext4"]}, "closing")
    ck.call(alice, "listfunds", label="closing")
    ck_advance(tap, alice, 700)
    onchain = ck.call(alice, "listpeerchannels", {"id": ids["ext4"]},
                      "onchain")
    tap.eq(onchain and [c["state"] for c in onchain["channels"]], ["ONCHAIN"],
           "a confirmed close is ONCHAIN")
    ck.call(alice, "listfunds", label="close output")
    ck.call(alice, "listclosedchannels", label="none yet")
    # Into the fee spike (0.5-0.6 days) and past 100 blocks.
    before = alice.call("feerates", {"style": "perkw"})["perkw"]["opening"]
    ck_advance(tap, alice, int(0.55 * 86400) - 1800 - 700)
    spike = ck.call(alice, "feerates", {"style": "perkw"}, "in a spike")
    tap.ok(spike and spike["perkw"]["opening"] > 5 * before,
           "the scripted mempool spike shows in feerates",
           (before, spike and spike["perkw"]))
    ck_advance(tap, alice, int(0.2 * 86400))
    cc = ck.call(alice, "listclosedchannels", label="after 100 blocks")
    tap.ok(cc and len(cc["closedchannels"]) == 1,
           "a forgotten channel is in listclosedchannels", cc)
    ck.call(alice, "listclosedchannels", {"id": ids["ext4"]}, "id")
    ck.call(alice, "listpeerchannels", label="after the close")
    fw = ck.call(alice, "listforwards", label="after traffic")
    ck.call(bob, "listforwards", label="bob")
    ck.call(alice, "getinfo", label="at the end")
    ck.call(alice, "wait", {"subsystem": "sendpays", "indexname": "created",
                            "nextvalue": 1}, "sendpays")
    ck.call(alice, "wait", {"subsystem": "invoices", "indexname": "created",
                            "nextvalue": 2}, "invoices")
    ck.call(alice, "wait", {"subsystem": "htlcs", "indexname": "deleted",
                            "nextvalue": 0}, "htlcs")
    # A channel between two fleet nodes closed by one: both hear of it,
    # the other as "remote".
    ck.call(bob, "close", {"id": a_b}, "fleet peer")
    ck_advance(tap, alice, 700)
    st = ck.call(alice, "listpeerchannels", {"short_channel_id": a_b},
                 "closed by the peer")
    tap.ok(st and st["channels"] and st["channels"][0]["closer"] == "remote"
           and st["channels"][0]["state"] == "ONCHAIN",
           "the peer's close shows at the other fleet node", st)
    # A wait that can never be reached is answered at shutdown: sent with
    # a getinfo behind it on the same connection, so once getinfo has
    # answered the wait is being held.
    serve.held_sock = hold_forever(serve)
    expected = ["getinfo", "listpeerchannels", "listpeers", "setchannel",
                "plugin", "help", "setconfig", "listconfigs", "signmessage",
                "checkmessage", "sendcustommsg", "listchannels", "listnodes",
                "listforwards", "listfunds", "feerates", "getroute",
                "invoice", "sendpay", "waitsendpay", "listsendpays", "wait",
                "listclosedchannels", "connect", "fundchannel", "close",
                "datastore", "listdatastore", "deldatastore",
                "datastoreusage"]
    missing = [m for m in expected if m not in ck.seen]
    tap.ok(not missing, "every method was validated", missing)
    del fw, adv, fund, closed, conn, gr, pcs, info


def schema_error_codes(method):
    """The codes a schema's "errors" text lists ("- 1202: ...")."""
    with open(os.path.join(SCHEMAS, method + ".json")) as f:
        doc = json.load(f)
    codes = set()
    for line in doc.get("errors", []):
        if not line.startswith("- "):
            continue
        head = line[2:].split(":", 1)[0]
        if head.lstrip("-").isdigit():
            codes.add(int(head))
    return codes


def run_datastore(tap, ck, rpc):
    """datastore, listdatastore (root, parent and leaf), deldatastore and
    datastoreusage with values, parents and binary data; and each error
    code, which the schema's "errors" must list."""
    ck.call(rpc, "datastore", {"key": ["hive-schema", "leaf"],
                               "string": "hello"}, "string")
    ck.call(rpc, "datastore", {"key": ["hive-schema", "leaf"],
                               "string": " world", "mode": "must-append",
                               "generation": 0}, "must-append")
    ck.call(rpc, "datastore", {"key": ["hive-schema", "leaf"],
                               "hex": "c3a9", "mode": "must-replace"},
            "must-replace")
    ck.call(rpc, "datastore", {"key": ["hive-schema", "sub", "deep"],
                               "string": "x", "mode": "create-or-replace"},
            "create-or-replace")
    ck.call(rpc, "datastore", {"key": ["hive-schema", "app"],
                               "string": "a", "mode": "create-or-append"},
            "create-or-append")
    ck.call(rpc, "datastore", {"key": "hive-bin", "hex": "00ff80"},
            "binary, no string")
    root = ck.call(rpc, "listdatastore", {}, "root")
    tap.ok(root and {"key": ["hive-schema"]} in root["datastore"],
           "listdatastore shows a parent by its key alone", root)
    par = ck.call(rpc, "listdatastore", {"key": ["hive-schema"]}, "parent")
    tap.ok(par and [e["key"] for e in par["datastore"]] ==
           [["hive-schema", "app"], ["hive-schema", "leaf"],
            ["hive-schema", "sub"]],
           "listdatastore [parent] lists its direct children", par)
    ck.call(rpc, "listdatastore", {"key": ["hive-schema", "leaf"]}, "leaf")
    ck.call(rpc, "listdatastore", {"key": "hive-bin"}, "binary leaf")
    ck.call(rpc, "datastoreusage", {}, "root")
    ck.call(rpc, "datastoreusage", {"key": ["hive-schema"]}, "key")
    ck.call(rpc, "deldatastore", {"key": "hive-bin", "generation": 0})
    ck.call(rpc, "deldatastore", {"key": ["hive-schema", "sub", "deep"]},
            "last child")
    errors = [
        ("datastore", {"key": ["hive-schema", "leaf"], "string": "x"},
         1202, "key exists"),
        ("datastore", {"key": "hive-none", "string": "x",
                       "mode": "must-replace"}, 1203, "key missing"),
        ("datastore", {"key": ["hive-schema", "leaf"], "string": "x",
                       "mode": "must-append", "generation": 0}, 1204,
         "wrong generation"),
        ("datastore", {"key": "hive-schema", "string": "x",
                       "mode": "create-or-replace"}, 1205, "has children"),
        ("datastore", {"key": ["hive-schema", "leaf", "x"], "string": "x"},
         1206, "parent holds a value"),
        ("datastore", {"key": "hive-x", "string": "x", "hex": "00"},
         -32602, "hex and string"),
        ("deldatastore", {"key": "hive-none"}, 1200, "key missing"),
        ("deldatastore", {"key": ["hive-schema", "leaf"], "generation": 9},
         1201, "wrong generation"),
    ]
    for method, params, code, label in errors:
        ck.error(rpc, method, params, code, label)
        tap.ok(code in schema_error_codes(method),
               "%s's schema lists error %d" % (method, code),
               sorted(schema_error_codes(method)))


def read_replies(sock, n, timeout=60):
    sock.settimeout(timeout)
    buf, out, dec = "", [], json.JSONDecoder()
    while len(out) < n:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        buf += chunk.decode()
        while True:
            buf = buf.lstrip()
            try:
                msg, end = dec.raw_decode(buf)
            except ValueError:
                break
            out.append(msg)
            buf = buf[end:]
    return out


def hold_forever(serve):
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(serve.nodes["alice"]["dir"], "lightning-rpc"))
    for i, (m, p) in enumerate([("wait", {"subsystem": "forwards",
                                          "indexname": "updated",
                                          "nextvalue": 10**12}),
                                ("getinfo", {})]):
        s.sendall(json.dumps({"jsonrpc": "2.0", "id": "held-%d" % i,
                              "method": m, "params": p}).encode())
    first = read_replies(s, 1)
    if not first or first[0].get("id") != "held-1":
        s.close()
        return None
    return s


def scid_of(rpc, a, b):
    for c in rpc.call("listchannels", {"source": a})["channels"]:
        if c["destination"] == b:
            return c["short_channel_id"]
    raise RuntimeError("no channel %s -> %s" % (a, b))


def ck_advance(tap, rpc, seconds):
    try:
        return rpc.call("dev-sim-advance", {"seconds": seconds}, timeout=300)
    except RpcError as e:
        tap.ok(False, "dev-sim-advance %d" % seconds, e.message)
        return None


# Notifications each node must have sent, and the hooks.
EXPECTED = {
    "alice": {"notification": ["block_added", "channel_state_changed",
                               "connect", "forward_event", "invoice_payment",
                               "sendpay_success", "sendpay_failure",
                               "shutdown"],
              "hook": ["peer_connected"]},
    "bob": {"notification": ["disconnect", "connect", "block_added",
                             "invoice_payment", "sendpay_failure",
                             "channel_state_changed", "shutdown"],
            "hook": ["custommsg", "peer_connected"]},
}


def check_notifications(tap, serve):
    for alias, want in EXPECTED.items():
        path = os.path.join(serve.nodes[alias]["dir"], "notifications.jsonl")
        try:
            with open(path) as f:
                lines = [json.loads(x) for x in f if x.strip()]
        except OSError as e:
            tap.ok(False, "%s wrote notifications.jsonl" % alias, e)
            continue
        by = {}
        for ln in lines:
            by.setdefault((ln["kind"], ln["topic"]), []).append(ln["payload"])
        for kind, topics in want.items():
            for t in topics:
                tap.ok((kind, t) in by, "%s sent %s %s" % (alias, kind, t),
                       sorted(by))
        for (kind, topic), payloads in sorted(by.items()):
            if kind == "notification":
                v = validator("notification/%s.json" % topic, "response")
            else:
                v = validator("hook/%s.json" % topic, "request")
            bad = []
            for p in payloads:
                errs = problems(v, p)
                if errs:
                    bad.append("\n".join(errs) + "\n" + json.dumps(p)[:800])
            tap.ok(not bad, "%s: %d %s %s payloads match the v26 schema" % (
                alias, len(payloads), topic, kind), "\n".join(bad[:3]))


if __name__ == "__main__":
    main()
