#!/usr/bin/env python3
"""The fake lightningd's datastore (datastore, listdatastore, deldatastore,
datastoreusage) against Core Lightning's rules: every write mode, the
generation checks, hex and string data (string only when valid UTF-8),
the key hierarchy (a key holds a value or has children, never both;
parents come and go with their children; listdatastore shows direct
children, a parent without its value) and each error code, with the
values lightningd answers. Each fleet node has its own store."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import Serve, Tap  # noqa: E402

# Core Lightning's datastore error codes (common/jsonrpc_errors.h).
DEL_DOES_NOT_EXIST = 1200
DEL_WRONG_GENERATION = 1201
UPDATE_ALREADY_EXISTS = 1202
UPDATE_DOES_NOT_EXIST = 1203
UPDATE_WRONG_GENERATION = 1204
UPDATE_HAS_CHILDREN = 1205
UPDATE_NO_CHILDREN = 1206
INVALID_PARAMS = -32602

SC = {
    "name": "it-datastore", "seed": 3,
    "nodes": [{"alias": "alice", "fleet": True}, {"alias": "bob", "fleet": True},
              {"alias": "ext0"}],
    "channels": [{"a": "alice", "b": "ext0", "capacity_sat": 1000000},
                 {"a": "bob", "b": "ext0", "capacity_sat": 1000000}],
}


def hexof(s):
    return s.encode().hex()


def entry(key, data, generation):
    """What lightningd answers for a key holding @data (str or bytes)."""
    raw = data.encode() if isinstance(data, str) else data
    e = {"key": key, "generation": generation, "hex": raw.hex()}
    try:
        if b"\0" not in raw:
            e["string"] = raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return e


def usage(key, data):
    return len(data) + sum(len(p) for p in key) + len(key) - 1


t = Tap()
s = Serve(SC).start()
try:
    a, b = s.rpc("alice"), s.rpc("bob")
    ds = lambda **kw: a.call("datastore", kw)  # noqa: E731
    ls = lambda key=None: a.call("listdatastore", {} if key is None else {"key": key})["datastore"]  # noqa: E731

    # --- an empty store ---
    t.eq(ls(), [], "a new node's datastore is empty")
    t.eq(a.call("datastoreusage"), {"datastoreusage": {"key": "[]", "total_bytes": 0}},
         "datastoreusage of an empty store")

    # --- must-create (the default); a string key is a one-element key ---
    t.eq(ds(key="otherkey", string="other"), entry(["otherkey"], "other", 0),
         "datastore creates a key at generation 0 (string key -> [key])")
    t.raises(lambda: ds(key=["otherkey"], string="again"), UPDATE_ALREADY_EXISTS,
             "must-create on an existing key: 1202", "Key already exists")
    t.raises(lambda: ds(key="otherkey", string="again", mode="must-create"),
             UPDATE_ALREADY_EXISTS, "explicit must-create on an existing key: 1202")

    # --- must-append with a generation (the schema's example) ---
    appended = "other key: text to be appended to the otherkey"
    t.eq(ds(key="otherkey", string=" key: text to be appended to the otherkey",
            mode="must-append", generation=0),
         entry(["otherkey"], appended, 1), "must-append at the right generation appends, generation 1")
    t.raises(lambda: ds(key="otherkey", string="x", mode="must-append", generation=0),
             UPDATE_WRONG_GENERATION, "must-append at a stale generation: 1204",
             "generation is different")
    t.raises(lambda: ds(key="nokey", string="x", mode="must-append"),
             UPDATE_DOES_NOT_EXIST, "must-append on a missing key: 1203", "Key does not exist")

    # --- must-replace ---
    t.eq(ds(key="otherkey", string="replaced", mode="must-replace"),
         entry(["otherkey"], "replaced", 2), "must-replace replaces, generation 2")
    t.eq(ds(key="otherkey", string="again", mode="must-replace", generation="2"),
         entry(["otherkey"], "again", 3), "must-replace at the right generation (numeric string)")
    t.raises(lambda: ds(key="otherkey", string="x", mode="must-replace", generation=2),
             UPDATE_WRONG_GENERATION, "must-replace at a stale generation: 1204")
    t.raises(lambda: ds(key="nokey", string="x", mode="must-replace"),
             UPDATE_DOES_NOT_EXIST, "must-replace on a missing key: 1203")
    t.raises(lambda: ds(key="nokey", string="x", mode="must-replace", generation=0),
             UPDATE_DOES_NOT_EXIST, "must-replace with a generation on a missing key: 1203")

    # --- create-or-replace, create-or-append ---
    t.eq(ds(key="cor", string="one", mode="create-or-replace"), entry(["cor"], "one", 0),
         "create-or-replace creates")
    t.eq(ds(key="cor", string="two", mode="create-or-replace"), entry(["cor"], "two", 1),
         "create-or-replace replaces")
    t.eq(ds(key="coa", string="ab", mode="create-or-append"), entry(["coa"], "ab", 0),
         "create-or-append creates")
    t.eq(ds(key="coa", hex="6364", mode="create-or-append"), entry(["coa"], "abcd", 1),
         "create-or-append appends (hex after string)")
    for mode in ("must-create", "create-or-replace", "create-or-append"):
        t.raises(lambda: ds(key="cor", string="x", mode=mode, generation=1), INVALID_PARAMS,
                 "generation with %s: -32602" % mode, "generation only valid with must-replace")
    t.raises(lambda: ds(key="cor", string="x", mode="overwrite"), INVALID_PARAMS,
             "an unknown mode: -32602", "mode: should be")
    t.eq(ls("cor"), [entry(["cor"], "two", 1)], "a refused write changes nothing")

    # --- hex and string ---
    cases = [
        ("binary", "00ff10", b"\x00\xff\x10"),
        ("UTF-8 (upper-case hex in, lower-case out)", "C3A9", "\u00e9".encode()),
        ("four-byte UTF-8", "f09f9880", "\U0001F600".encode()),
        ("a truncated sequence", "e282", b"\xe2\x82"),
        ("an overlong form", "c0af", b"\xc0\xaf"),
        ("a surrogate", "eda080", b"\xed\xa0\x80"),
        ("a NUL byte", "610062", b"a\0b"),
        ("nothing", "", b""),
    ]
    for i, (name, hx, raw) in enumerate(cases):
        got = ds(key=["bin", str(i)], hex=hx)
        t.eq(got, entry(["bin", str(i)], raw, 0), "hex data: %s" % name)
        t.eq("string" in got, name in ("UTF-8 (upper-case hex in, lower-case out)",
                                       "four-byte UTF-8", "nothing"),
             "hex data: %s has a string exactly when valid UTF-8" % name)
    t.eq(ds(key="empty", string=""), {"key": ["empty"], "generation": 0, "hex": "", "string": ""},
         "an empty string")
    t.raises(lambda: ds(key="both", string="x", hex="00"), INVALID_PARAMS,
             "both hex and string: -32602", "Cannot have both hex and string")
    t.raises(lambda: ds(key="neither"), INVALID_PARAMS,
             "neither hex nor string: -32602", "Must have either hex or string")
    for bad in ("abc", "zz", 123, -12, True):
        t.raises(lambda: ds(key="badhex", hex=bad), INVALID_PARAMS,
                 "hex %r: -32602" % (bad,), "hex")
    t.eq(ds(key=["bin", "num"], hex=1234), entry(["bin", "num"], b"\x12\x34", 0),
         "hex given as a number is read from its digits, as lightningd does")
    t.eq([e["key"] for e in ls() if e["key"][0] in ("both", "neither", "badhex")], [],
         "failed writes leave no key behind")

    # --- the key hierarchy ---
    idx = "saving employee keys to the store"
    t.eq(ds(key=["employee", "index"], string=idx, mode="must-create"),
         entry(["employee", "index"], idx, 0), "a two-part key (the schema's example)")
    for mode in ("must-create", "create-or-replace", "create-or-append", "must-replace"):
        t.raises(lambda: ds(key=["employee"], string="x", mode=mode), UPDATE_HAS_CHILDREN,
                 "a value on a key with children (%s): 1205" % mode, "Key has children already")
    t.raises(lambda: ds(key=["employee", "index", "x"], string="x"), UPDATE_NO_CHILDREN,
             "a child of a key holding a value: 1206", "Parent key [employee,index] exists")
    t.raises(lambda: ds(key=["otherkey", "a", "b"], string="x", mode="create-or-replace"),
             UPDATE_NO_CHILDREN, "a grandchild of a key holding a value: 1206",
             "Parent key [otherkey] exists")
    ds(key=["employee", "dept", "b"], string="B")
    ds(key=["employee", "dept", "a"], hex="41")
    ds(key=["employee", "dept", "c", "deep"], string="D")
    ds(key=["employee", "zz"], string="Z")

    top = ls()
    t.eq([e["key"] for e in top],
         [["bin"], ["coa"], ["cor"], ["employee"], ["empty"], ["otherkey"]],
         "listdatastore: the root's direct children, in key order")
    t.eq([e for e in top if e["key"] == ["employee"]], [{"key": ["employee"]}],
         "a parent is listed with its key alone (no generation, hex, string)")
    t.eq([e for e in top if e["key"] == ["otherkey"]], [entry(["otherkey"], "again", 3)],
         "a top-level value is listed with its data")
    t.eq(ls(["employee"]),
         [{"key": ["employee", "dept"]}, entry(["employee", "index"], idx, 0),
          entry(["employee", "zz"], "Z", 0)],
         "listdatastore [parent]: direct children; a child with children once, as a key")
    t.eq(ls("employee"), ls(["employee"]), "listdatastore with a string key is the same")
    t.eq(ls(["employee", "dept"]),
         [entry(["employee", "dept", "a"], "A", 0), entry(["employee", "dept", "b"], "B", 0),
          {"key": ["employee", "dept", "c"]}],
         "listdatastore of a second-level parent")
    t.eq(ls(["employee", "index"]), [entry(["employee", "index"], idx, 0)],
         "listdatastore [leaf]: the leaf itself")
    t.eq(ls(["employee", "nobody"]), [], "listdatastore of a missing key: empty")
    t.eq(ls(["employe"]), [], "a key is not a string prefix")
    t.eq(a.call("listdatastore", {"key": ["employee"]},
                filter={"datastore": [{"key": True}]})["datastore"],
         [{"key": ["employee", "dept"]}, {"key": ["employee", "index"]},
          {"key": ["employee", "zz"]}], "listdatastore honours a result filter")

    # --- datastoreusage: data plus the key's parts and separators ---
    t.eq(ds(key=["test", "name"], string="saving data to the store")["generation"], 0,
         "the schema's datastoreusage example key")
    t.eq(a.call("datastoreusage", {"key": ["test", "name"]}),
         {"datastoreusage": {"key": "[test,name]", "total_bytes": 33}},
         "datastoreusage [test,name] is 33 bytes, as the schema's example")
    emp = {("employee", "index"): idx, ("employee", "dept", "a"): "A",
           ("employee", "dept", "b"): "B", ("employee", "dept", "c", "deep"): "D",
           ("employee", "zz"): "Z"}
    want = sum(usage(k, v) for k, v in emp.items())
    t.eq(a.call("datastoreusage", {"key": "employee"}),
         {"datastoreusage": {"key": "[employee]", "total_bytes": want}},
         "datastoreusage of a parent counts every descendant")
    t.eq(a.call("datastoreusage", {"key": ["employee", "dept"]})["datastoreusage"]["total_bytes"],
         usage(["employee", "dept", "a"], "A") + usage(["employee", "dept", "b"], "B")
         + usage(["employee", "dept", "c", "deep"], "D"), "datastoreusage of a second-level parent")
    t.eq(a.call("datastoreusage", {"key": ["nobody"]}),
         {"datastoreusage": {"key": "[nobody]", "total_bytes": 0}}, "datastoreusage of a missing key")
    root = a.call("datastoreusage")["datastoreusage"]
    t.eq(a.call("datastoreusage", {"key": ""})["datastoreusage"], root,
         "datastoreusage with an empty key is the root")
    t.ok(root["total_bytes"] > want + 33, "the root counts everything", root)

    # --- deldatastore ---
    t.raises(lambda: a.call("deldatastore", {"key": "nokey"}), DEL_DOES_NOT_EXIST,
             "deleting a missing key: 1200", "Key does not exist")
    t.raises(lambda: a.call("deldatastore", {"key": ["employee"]}), DEL_DOES_NOT_EXIST,
             "deleting a parent (it holds no value): 1200")
    t.raises(lambda: a.call("deldatastore", {"key": "otherkey", "generation": 2}),
             DEL_WRONG_GENERATION, "deleting at a stale generation: 1201", "generation is different")
    t.eq(a.call("deldatastore", {"key": "otherkey", "generation": 3}),
         entry(["otherkey"], "again", 3), "deldatastore at the right generation returns the entry")
    t.eq(ls("otherkey"), [], "a deleted key is gone")
    t.eq(ds(key=["otherkey", "a"], string="now a parent"), entry(["otherkey", "a"], "now a parent", 0),
         "once its value is deleted a key can have children")
    t.eq(a.call("deldatastore", {"key": ["employee", "zz"]}),
         entry(["employee", "zz"], "Z", 0), "deldatastore without a generation")
    for k in (["employee", "dept", "a"], ["employee", "dept", "b"]):
        a.call("deldatastore", {"key": k})
    t.eq(ls(["employee"]), [{"key": ["employee", "dept"]}, entry(["employee", "index"], idx, 0)],
         "a parent stays while it has a child")
    a.call("deldatastore", {"key": ["employee", "dept", "c", "deep"]})
    t.eq(ls(["employee"]), [entry(["employee", "index"], idx, 0)],
         "parents go with their last child")
    t.eq(ds(key=["employee", "dept"], string="a leaf now"),
         entry(["employee", "dept"], "a leaf now", 0), "a former parent can hold a value")
    for k in (["employee", "dept"], ["employee", "index"]):
        a.call("deldatastore", {"key": k})
    t.eq([e["key"] for e in ls() if e["key"][0] == "employee"], [],
         "with no child left the top-level parent is gone")
    t.eq(ds(key="employee", string="x"), entry(["employee"], "x", 0),
         "and its key can hold a value")

    # --- parameters ---
    t.eq(a.call("datastore", [["pos", "k"], "v", None, "must-create"]),
         entry(["pos", "k"], "v", 0), "datastore takes positional parameters")
    t.eq(a.call("datastore", [["pos", "k"], None, "77", "must-append", 0]),
         entry(["pos", "k"], "vw", 1), "positional hex, mode and generation")
    t.eq(a.call("listdatastore", [["pos"]])["datastore"], [entry(["pos", "k"], "vw", 1)],
         "listdatastore takes a positional key")
    t.eq(a.call("deldatastore", [["pos", "k"], 1]), entry(["pos", "k"], "vw", 1),
         "deldatastore takes positional key and generation")
    t.eq(ds(key=7, string="seven")["key"], ["7"], "a numeric key is its text")
    for name, params in (("no key", {"string": "x"}), ("an empty key", {"key": [], "string": "x"}),
                         ("an object key", {"key": {"a": 1}, "string": "x"}),
                         ("a nested key", {"key": [["a"]], "string": "x"}),
                         ("an unknown parameter", {"key": "k", "string": "x", "value": 1}),
                         ("a string that is a number", {"key": "k", "string": 5}),
                         ("a negative generation", {"key": "otherkey", "string": "x",
                                                    "mode": "must-replace", "generation": -1})):
        t.raises(lambda: a.call("datastore", params), INVALID_PARAMS, "datastore with %s: -32602" % name)
    t.raises(lambda: a.call("deldatastore", {}), INVALID_PARAMS, "deldatastore without a key: -32602")
    t.raises(lambda: a.call("deldatastore", {"key": "employee", "generation": "x"}), INVALID_PARAMS,
             "deldatastore with a bad generation: -32602")
    t.raises(lambda: a.call("listdatastore", {"key": []}), INVALID_PARAMS,
             "listdatastore with an empty key: -32602")
    t.raises(lambda: a.call("datastoreusage", {"key": "a", "x": 1}), INVALID_PARAMS,
             "datastoreusage with an unknown parameter: -32602")

    # --- one store per node ---
    t.eq(b.call("listdatastore")["datastore"], [], "another fleet node has its own, empty store")
    t.eq(b.call("datastore", {"key": "employee", "string": "bob's"}), entry(["employee"], "bob's", 0),
         "the same key is free on another node")
    t.eq(ls("employee"), [entry(["employee"], "x", 0)], "and alice's value is untouched")

    helped = {h["command"].split()[0] for h in a.call("help")["help"]}
    t.ok({"datastore", "listdatastore", "deldatastore", "datastoreusage"} <= helped,
         "help lists the datastore methods", sorted(helped))
finally:
    rc = s.stop()
    t.eq(rc, 0, "hive-sim exits 0 (no leak at exit)", s.stderr_text()[-2000:])
    err = s.stderr_text()
    t.ok("Sanitizer" not in err and "runtime error" not in err, "no sanitizer report", err[-2000:])
    s.cleanup()
t.done()
