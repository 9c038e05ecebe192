#!/usr/bin/env python3
"""A stand-in for CLBOSS in integration tests: a plugin (named clboss-*, so
cl-revenue-ops detects it in `plugin list`) with clboss-status,
clboss-unmanage, clboss-manage and clboss-unmanaged-list. It keeps the
unmanaged tags in memory and answers as CLBOSS does."""
import json
import sys

unmanaged = {}


def reply(req_id, result=None, error=None):
    msg = {"jsonrpc": "2.0", "id": req_id}
    if error:
        msg["error"] = error
    else:
        msg["result"] = result
    sys.stdout.write(json.dumps(msg) + "\n\n")
    sys.stdout.flush()


def param(params, i, name):
    if isinstance(params, list):
        return params[i] if i < len(params) else None
    return params.get(name)


def handle(req):
    method, params, rid = req.get("method"), req.get("params", {}), req.get("id")
    if rid is None:
        if method == "shutdown":
            sys.exit(0)
        return  # another notification
    if method == "getmanifest":
        reply(rid, {"options": [], "subscriptions": ["shutdown"], "hooks": [], "dynamic": True,
                    "nonnumericids": True,
                    "rpcmethods": [
                        {"name": "clboss-status", "usage": "", "description": "status"},
                        {"name": "clboss-unmanage", "usage": "nodeid tags",
                         "description": "unmanage"},
                        {"name": "clboss-manage", "usage": "nodeid tags",
                         "description": "manage"},
                        {"name": "clboss-unmanaged-list", "usage": "",
                         "description": "list"}]})
    elif method == "init":
        reply(rid, {})
    elif method == "clboss-status":
        reply(rid, {"info": {"version": "fake-0.13"}})
    elif method == "clboss-unmanage":
        node, tags = param(params, 0, "nodeid"), param(params, 1, "tags") or ""
        unmanaged.setdefault(node, set()).update(t for t in tags.split(",") if t)
        reply(rid, {})
    elif method == "clboss-manage":
        node, tags = param(params, 0, "nodeid"), param(params, 1, "tags") or ""
        unmanaged.get(node, set()).difference_update(tags.split(","))
        reply(rid, {})
    elif method == "clboss-unmanaged-list":
        reply(rid, {"unmanaged": {k: {"tags": sorted(v)} for k, v in unmanaged.items() if v}})
    else:
        reply(rid, error={"code": -32601, "message": "Unknown command '%s'" % method})


buf = ""
dec = json.JSONDecoder()
while True:
    chunk = sys.stdin.readline()
    if not chunk:
        break
    buf += chunk
    while True:
        s = buf.lstrip()
        if not s:
            buf = ""
            break
        try:
            req, end = dec.raw_decode(s)
        except ValueError:
            buf = s
            break
        buf = s[end:]
        handle(req)
