#!/usr/bin/env python3
"""The real Core Lightning `lightning-cli` against a simulated node.

Core Lightning is not packaged for Debian, so this runs only where a
lightning-cli binary is available: $LIGHTNING_CLI, `lightning-cli` on
PATH, or /tmp/cln/cli/lightning-cli. Without one it reports a skip and
counts nothing."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import Serve, Tap, small_scenario  # noqa: E402

cli = os.environ.get("LIGHTNING_CLI") or shutil.which("lightning-cli")
if not cli and os.access("/tmp/cln/cli/lightning-cli", os.X_OK):
    cli = "/tmp/cln/cli/lightning-cli"
if not cli:
    print("# SKIP: no lightning-cli binary (set LIGHTNING_CLI)")
    print("1..0")
    sys.exit(0)

t = Tap()
s = Serve(small_scenario()).start()
d = s.nodes["alice"]["dir"]


def run(*args):
    p = subprocess.run([cli, "--lightning-dir=" + d] + list(args),
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


try:
    rc, out, err = run("getinfo")
    t.ok(rc == 0 and json.loads(out)["alias"] == "alice", "lightning-cli getinfo", err or out)
    rc, out, err = run("revenue-status")
    t.ok(rc == 0 and json.loads(out)["status"] == "running", "lightning-cli reaches a plugin method", err)
    rc, out, err = run("-k", "revenue-config", "action=set", "key=min_fee_ppm", "value=20")
    t.ok(rc == 0 and json.loads(out)["new_value"] == 20, "named parameters (-k)", err or out)
    rc, out, err = run("revenue-config", "get", "min_fee_ppm")
    t.ok(rc == 0 and json.loads(out)["value"] == 20, "positional parameters", err or out)
    rc, out, err = run("help")
    t.ok(rc == 0 and "revenue-config" in out and "hive-status" in out, "help lists plugin methods", err)
    rc, out, err = run("no-such-method")
    t.ok(rc == 1 and json.loads(out)["code"] == -32601, "unknown method: JSON-RPC error, exit 1", out)
    rc, out, err = run("-l", '{"alias":true}', "getinfo")
    t.ok(rc == 0 and json.loads(out) == {"alias": "alice"}, "result filter (-l)", out)
    rc, out, err = run("-H", "getinfo")
    t.ok(rc == 0 and "alias=alice" in out, "human-readable output (-H)", err or out)
finally:
    t.eq(s.stop(), 0, "clean shutdown", s.stderr_text())
    s.cleanup()
t.done()
