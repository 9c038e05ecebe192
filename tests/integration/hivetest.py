"""Integration-test helpers: run `hive-sim serve` on a scenario, talk
JSON-RPC to a simulated node's lightning-rpc socket, and report TAP.

Everything here uses only the Python standard library, so a fresh Debian
machine needs nothing beyond python3 (jsonschema only for the schema test).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("HIVE_BUILD", "build"))
SIM = os.path.join(BUILD, "hive-sim")


class RpcError(Exception):
    def __init__(self, error):
        super().__init__("%s (code %s)" % (error.get("message"), error.get("code")))
        self.error = error
        self.code = error.get("code")
        self.message = error.get("message", "")


class Rpc:
    """A blocking JSON-RPC client on a lightning-rpc socket."""

    def __init__(self, path):
        self.path = path
        self.next_id = 0

    def call(self, method, params=None, timeout=60, filter=None):
        self.next_id += 1
        req = {"jsonrpc": "2.0", "id": "test:%s#%d" % (method, self.next_id),
               "method": method, "params": params if params is not None else {}}
        if filter is not None:
            req["filter"] = filter
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.path)
        try:
            s.sendall(json.dumps(req).encode())
            buf = b""
            dec = json.JSONDecoder()
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("connection closed before reply to %s" % method)
                buf += chunk
                try:
                    msg, _ = dec.raw_decode(buf.decode().lstrip())
                except ValueError:
                    continue
                if "error" in msg:
                    raise RpcError(msg["error"])
                return msg["result"]
        finally:
            s.close()

    def __getattr__(self, name):
        method = name.replace("_", "-") if name.startswith(("revenue_", "hive_")) else name

        def f(*args, **kwargs):
            return self.call(method, list(args) if args else kwargs)
        return f


class Serve:
    """`hive-sim serve SCENARIO --dir DIR` in the background."""

    def __init__(self, scenario, dirpath=None, args=(), env=None):
        self.own_dir = dirpath is None
        self.dir = dirpath or tempfile.mkdtemp(prefix="hive-it-")
        self.scenario = scenario
        self.args = list(args)
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.nodes = {}

    def start(self, timeout=60):
        if isinstance(self.scenario, dict):
            path = os.path.join(self.dir, "scenario.json")
            with open(path, "w") as f:
                json.dump(self.scenario, f)
        else:
            path = self.scenario
        self.stderr = open(os.path.join(self.dir, "serve.stderr"), "w")
        self.proc = subprocess.Popen([SIM, "serve", path, "--dir", self.dir] + self.args,
                                     stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True, env=self.env)
        deadline = time.monotonic() + timeout
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("hive-sim serve exited: %s" % self.stderr_text())
            line = line.strip()
            if line == "ready":
                break
            alias, node_id, d = line.split(" ", 2)
            self.nodes[alias] = {"id": node_id, "dir": d}
            if time.monotonic() > deadline:
                raise RuntimeError("hive-sim serve not ready")
        return self

    def rpc(self, alias):
        return Rpc(os.path.join(self.nodes[alias]["dir"], "lightning-rpc"))

    def stderr_text(self):
        try:
            with open(os.path.join(self.dir, "serve.stderr")) as f:
                return f.read()
        except OSError:
            return ""

    def log(self, alias):
        try:
            with open(os.path.join(self.nodes[alias]["dir"], "log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, timeout=30):
        """SIGTERM, wait; returns hive-sim's exit status."""
        if not self.proc:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()
        self.proc = None
        return rc

    def cleanup(self):
        if self.proc:
            self.stop()
        if self.own_dir and not os.environ.get("HIVE_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


class Tap:
    """TAP output; a failing check prints its detail, the run continues."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=None):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name))
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            if detail is not None:
                for line in str(detail).splitlines()[:40]:
                    print("#   " + line)
        sys.stdout.flush()
        return cond

    def eq(self, got, want, name, detail=None):
        msg = "got %r, want %r" % (got, want)
        if detail:
            msg += "\n" + str(detail)
        return self.ok(got == want, name, msg)

    def raises(self, fn, code, name, contains=None):
        try:
            res = fn()
        except RpcError as e:
            good = (code is None or e.code == code) and (contains is None or contains in e.message)
            return self.ok(good, name, "code %s message %r" % (e.code, e.message))
        return self.ok(False, name, "no error; result %r" % (res,))

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def small_scenario(plugins=("cl-revenue-ops", "cl-hive"), options=None, extra_nodes=3):
    """One fleet node with a few external peers."""
    nodes = [{"alias": "alice", "fleet": True, "plugins": list(plugins),
              "options": options or {}}]
    chans = []
    for i in range(extra_nodes):
        alias = "ext%d" % i
        nodes.append({"alias": alias})
        chans.append({"a": "alice", "b": alias, "capacity_sat": 1000000 * (i + 1),
                      "a_balance_sat": 400000 * (i + 1),
                      "a_fee": {"base_msat": 1000, "ppm": 100 + 50 * i}})
    return {"name": "it-small", "nodes": nodes, "channels": chans}


def busy_node_scenario(name, seed, days_back=15):
    """One cl-revenue-ops node, "alice", with five channels (1-5 M sat,
    100-300 ppm, 60 days old) and steady traffic, started @days_back days
    before now so its history falls inside the plugin's windows."""
    nodes = [{"alias": "alice", "fleet": True, "plugins": ["cl-revenue-ops"],
              "onchain_sat": 5000000}]
    nodes += [{"alias": "ext%d" % i} for i in range(5)]
    chans = [{"a": "alice", "b": "ext%d" % i, "capacity_sat": 1000000 * (i + 1),
              "a_balance_sat": 400000 * (i + 1), "a_fee": {"base_msat": 1000, "ppm": 100 + 50 * i},
              "age_days": 60} for i in range(5)]
    return {"name": name, "seed": seed, "start_time": int(time.time()) - days_back * 86400,
            "nodes": nodes, "channels": chans, "traffic": {"capacity_multiplier": 4}}
