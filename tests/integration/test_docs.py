#!/usr/bin/env python3
"""The generated option reference (doc/options-*.md) matches what the
plugins really declare: every option and method of each manifest appears
with its default. Regenerate with scripts/gen-option-docs."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import BUILD, ROOT, Tap  # noqa: E402

t = Tap()
for plugin in ("cl-revenue-ops", "cl-hive"):
    p = subprocess.run([os.path.join(BUILD, plugin)], input=json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "getmanifest", "params": {}}) + "\n\n",
        capture_output=True, text=True, timeout=20)
    m = json.loads(p.stdout.strip().split("\n\n")[0])["result"]
    doc = open(os.path.join(ROOT, "doc", "options-%s.md" % plugin)).read()
    missing = [o["name"] for o in m["options"]
               if "| `%s` | `%s` |" % (o["name"], o.get("default", "") or " ") not in doc]
    t.ok(not missing, "%s: every option documented with its default" % plugin,
         "run scripts/gen-option-docs; missing: %s" % missing[:10])
    missing = [r["name"] for r in m["rpcmethods"] if "| `%s` |" % r["name"] not in doc]
    t.ok(not missing, "%s: every method listed" % plugin, missing)
    t.ok(all(r.get("usage") is not None and r.get("description") for r in m["rpcmethods"]),
         "%s: every method has usage and description" % plugin)
    readme = open(os.path.join(ROOT, "README.md")).read()
    missing = [o["name"] for o in m["options"] if "`%s`" % o["name"] not in readme] + \
        [r["name"] for r in m["rpcmethods"] if "`%s`" % r["name"] not in readme]
    t.ok(not missing, "%s: README lists every option and method" % plugin,
         "run scripts/gen-option-docs; missing: %s" % missing[:10])
    hooks = [h["name"] if isinstance(h, dict) else h for h in m.get("hooks", [])]
    t.ok("htlc_accepted" not in hooks,
         "%s: no htlc_accepted hook (a no-op hook would hold every HTLC; defect 42)" % plugin,
         hooks)
    t.ok(m.get("nonnumericids") is True and m.get("dynamic") is True,
         "%s: nonnumericids and dynamic declared" % plugin)
t.done()
