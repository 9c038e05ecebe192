#!/usr/bin/env python3
"""Plugin start-up and idle memory.

For each plugin binary: spawn it as lightningd does (pipes on stdin and
stdout, a lightning-rpc socket in the lightning-dir), send getmanifest and
init, and time process start -> init answered. Then read the idle
resident set size (VmRSS) after the plugin has settled.

Targets (issue: foundation): init answered in under 50 ms; idle RSS under
8 MB per plugin.
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("HIVE_BUILD", os.path.join(os.path.dirname(__file__), "..", "build"))
RUNS = int(os.environ.get("RUNS", "20"))


def serve_socket(path, stop):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(8)
    s.settimeout(0.2)
    conns = []
    while not stop.is_set():
        try:
            c, _ = s.accept()
            conns.append(c)
        except socket.timeout:
            pass
    for c in conns:
        c.close()
    s.close()


def read_msg(f, buf):
    dec = json.JSONDecoder()
    while True:
        text = buf[0].lstrip()
        if text:
            try:
                msg, end = dec.raw_decode(text)
                buf[0] = text[end:]
                return msg
            except ValueError:
                pass
        chunk = os.read(f.fileno(), 65536)
        if not chunk:
            raise RuntimeError("plugin closed stdout")
        buf[0] += chunk.decode()


def one(binary, lightning_dir):
    t0 = time.perf_counter()
    p = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, cwd=lightning_dir)
    buf = [""]

    def req(i, method, params):
        p.stdin.write((json.dumps({"jsonrpc": "2.0", "id": i, "method": method,
                                   "params": params}) + "\n\n").encode())
        p.stdin.flush()
        while True:
            m = read_msg(p.stdout, buf)
            if m.get("id") == i:
                return m

    man = req(1, "getmanifest", {})["result"]
    opts = {o["name"]: o["default"] for o in man["options"] if "default" in o}
    res = req(2, "init", {"options": opts, "configuration": {
        "lightning-dir": lightning_dir, "rpc-file": "lightning-rpc",
        "startup": True, "network": "regtest"}})
    t1 = time.perf_counter()
    if "disable" in res.get("result", {}):
        raise RuntimeError("%s disabled itself: %s" % (binary, res["result"]["disable"]))
    return p, (t1 - t0) * 1000.0


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    print("plugin start-up and idle memory (%d runs each, build %s)" % (RUNS, BUILD))
    print("%-16s %10s %10s %10s %12s" % ("plugin", "median ms", "p95 ms", "max ms", "idle RSS MB"))
    ok = True
    for name in ("cl-revenue-ops", "cl-hive"):
        binary = os.path.abspath(os.path.join(BUILD, name))
        times = []
        rss = 0
        for i in range(RUNS):
            d = tempfile.mkdtemp(prefix="bench-start-")
            stop = threading.Event()
            th = threading.Thread(target=serve_socket, args=(os.path.join(d, "lightning-rpc"), stop))
            th.start()
            time.sleep(0.01)
            p, ms = one(binary, d)
            times.append(ms)
            if i == RUNS - 1:
                time.sleep(1.0)
                rss = rss_kb(p.pid)
            p.stdin.close()
            p.wait(timeout=10)
            stop.set()
            th.join()
            for f in os.listdir(d):
                os.unlink(os.path.join(d, f))
            os.rmdir(d)
        times.sort()
        med = statistics.median(times)
        p95 = times[int(len(times) * 0.95) - 1]
        print("%-16s %10.1f %10.1f %10.1f %12.2f" % (name, med, p95, times[-1], rss / 1024.0))
        ok &= med < 50 and rss < 8 * 1024
    print("targets: init < 50 ms, idle RSS < 8 MB: %s" % ("met" if ok else "NOT MET"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
