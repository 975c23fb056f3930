#!/usr/bin/python3
"""The soak suite: Spawning under fire, with loss counts.

Runs every scenario of issue 11 against the real binaries (build/spawning,
build/spawnctl) under continuous load from wrk and from a counting Python
client (tests/soak/client.py), with the libFuzzer target (ASan+UBSan)
running beside them at the lowest CPU priority, and writes
build/soak/report.md and build/soak/report.json. Exits 1 when any verdict
is "fail".

    /usr/bin/python3 tests/soak/soak.py [--quick] [--only NAME[,NAME]] [--no-fuzz]

`make soak` (about 12 minutes) and `make soak SOAK=quick` (under 4) run it.
Only 127.0.0.1 is ever loaded; every run, wait and process is bounded.

How "expected failures" are bounded: a scenario that must lose nothing
expects 0. When a child is killed with SIGKILL, the requests in flight on
it are lost and nothing else may be: the client has at most one request in
flight per connection, so a kill can cost at most as many requests as the
client has connections (its concurrency). The bound is kills x concurrency,
and every failure must also be a broken connection (never a refusal, a
timeout or a wrong status) within a second after a kill.
"""
import argparse
import json
import os
import random
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from client import Load  # noqa: E402

PYTHON = "/usr/bin/python3"
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
SPAWNING = os.path.join(BUILD, "spawning")
SPAWNCTL = os.path.join(BUILD, "spawnctl")
OUT = os.path.join(BUILD, "soak")
NGINX = "/usr/sbin/nginx"
APP = "tests.apps.soak_app:app"
TAG = "soak-%d-%d" % (os.getpid(), random.randrange(1 << 30))
NOFILE_WANTED = 20000
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}

# Durations and counts: (full, quick).
PLAN = {
    "reloads": dict(count=(50, 50)),
    "kill9": dict(seconds=(60, 20)),
    "leak": dict(seconds=(30, 15)),
    "slowloris": dict(rounds=(4, 3), seconds=(4, 3), slowloris=2000, idle=5000),
    "hung": dict(),
    "flood": dict(seconds=(30, 12)),
    "ctlkill": dict(threads=((4, 1, 0), (4, 1, 0))),
    "admin": dict(),
    "rolling": dict(rounds=(3, 1)),
    "fuzz": dict(seconds=(600, 180)),
}


def log(msg):
    sys.stderr.write("[soak %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NOFILE_WANTED if hard == resource.RLIM_INFINITY else min(NOFILE_WANTED, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def tagged_pids():
    """Live processes this run started (SOAK_TAG in their environment)."""
    out = []
    needle = ("SOAK_TAG=" + TAG).encode()
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            try:
                with open("/proc/%s/environ" % d, "rb") as f:
                    if needle in f.read().split(b"\0") and alive(int(d)):
                        out.append(int(d))
            except OSError:
                pass
    return out


def wait_for(pred, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def http_get(port, path="/", timeout=2.0):
    """(status, body) of one GET, or (None, error)."""
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                "http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            return r.status, r.read().decode("latin-1")
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError as e:
        return None, repr(e)


def port_free(port):
    """True when a new server could bind port (what a new start needs)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Server:
    """One `spawning` (controller + children) on 127.0.0.1, with its admin
    socket and status port; its log in build/soak/logs/NAME.log."""

    def __init__(self, name, args, port=None, env=None, status=True):
        self.name = name
        self.port = port or free_port()
        self.status_port = free_port() if status else None
        self.admin = os.path.join(TMP, "%s-%d.sock" % (name, self.port))
        self.logpath = os.path.join(OUT, "logs", name + ".log")
        argv = [SPAWNING, "--host", "127.0.0.1", "--port", str(self.port), "--admin-socket",
                self.admin, "-l", "/dev/null"]
        if status:
            argv += ["--status-port", str(self.status_port)]
        self.processes = 1
        for i, a in enumerate(args):
            if a == "--processes":
                self.processes = int(args[i + 1])
        env = dict(os.environ, SOAK_TAG=TAG, **(env or {}))
        self.logfile = open(self.logpath, "ab")
        self.logstart = self.logfile.tell()
        self.proc = subprocess.Popen(argv + args + [APP], cwd=ROOT, stdin=subprocess.DEVNULL,
                                     stdout=self.logfile, stderr=subprocess.STDOUT, env=env)
        self.pid = self.proc.pid

    def wait_ready(self, timeout=20):
        """Until every child is ready; raises with the log's tail if not."""
        ok = wait_for(lambda: self.proc.poll() is None and
                      (self.status() or {}).get("active_children_count", 0) >= self.processes,
                      timeout, 0.1)
        if not ok:
            raise RuntimeError("%s: not ready within %d s: %s" % (self.name, timeout,
                                                                  self.log_tail()))
        return self

    def admin_request(self, command, **extra):
        req = dict(version=1, command=command, **extra)
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        try:
            s.connect(self.admin)
            s.sendall((json.dumps(req) + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return json.loads(data)
        except (OSError, ValueError):
            return None
        finally:
            s.close()

    def status(self):
        r = self.admin_request("status")
        return r["status"] if r and r.get("ok") else None

    def spawnctl(self, *args):
        return subprocess.run([SPAWNCTL, "--socket", self.admin] + list(args), timeout=10,
                              capture_output=True, text=True)

    def children(self, state=None):
        st = self.status() or {}
        return [int(p) for p, c in st.get("children", {}).items()
                if state is None or c.get("state") == state]

    def log_text(self):
        with open(self.logpath, "rb") as f:
            f.seek(self.logstart)
            return f.read().decode("utf-8", "replace")

    def log_tail(self, n=8):
        return " | ".join(self.log_text().splitlines()[-n:])

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.logfile.close()
        return self.proc.returncode


class Wrk:
    """wrk in the background; result() stops it (SIGINT: it prints its
    summary) if it is still running, and parses the summary."""

    def __init__(self, port, seconds, conns=16, threads=2, path="/"):
        self.proc = subprocess.Popen(
            ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % max(1, int(seconds)),
             "--timeout", "10s", "--latency", "http://127.0.0.1:%d%s" % (port, path)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=dict(os.environ, SOAK_TAG=TAG))

    def result(self, stop=True):
        if stop and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            out, _ = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return parse_wrk(out)


def parse_wrk(text):
    out = dict(rps=0.0, requests=0, errors=0, non2xx=0, socket_errors={}, raw=text)
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                        (int(x) for x in m.groups())))
        out["errors"] = sum(out["socket_errors"].values())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
    return out


def wrk_note(w):
    errs = ", ".join("%s %d" % kv for kv in w["socket_errors"].items() if kv[1]) or "none"
    return "wrk: %d requests, socket errors: %s, non-2xx: %d" % (w["requests"], errs,
                                                                  w["non2xx"])


def load_note(load):
    kinds = load.failures_by_kind()
    return "client (%d connections): %d sent, %d answered%s" % (
        load.concurrency, load.sent, load.answered,
        (", failures: " + ", ".join("%s %d" % kv for kv in sorted(kinds.items()))) if kinds else "")


def result(scenario, load, expected, ok, notes, extra_failed=0, extra_sent=0, extra_answered=0):
    return dict(scenario=scenario, sent=load.sent + extra_sent if load else extra_sent,
                answered=load.answered + extra_answered if load else extra_answered,
                failed=(load.failed if load else 0) + extra_failed,
                expected_failures=expected, verdict="pass" if ok else "fail", notes=notes)


# --- scenarios ---------------------------------------------------------------

def sc_reloads(mode):
    """50 graceful reloads, alternating SIGHUP and `spawnctl reload`, under load."""
    n = pick(PLAN["reloads"]["count"], mode)
    srv = Server("reloads", ["--processes", "2", "--threads", "4"]).wait_ready()
    load = Load(srv.port, threads=4).start()
    wrk = Wrk(srv.port, 600, conns=16)
    done, problems = 0, []
    t0 = time.monotonic()
    try:
        time.sleep(0.5)
        for i in range(n):
            gen = srv.status()["generation"]
            if i % 2 == 0:
                os.kill(srv.pid, signal.SIGHUP)
            else:
                r = srv.spawnctl("reload")
                if r.returncode != 0:
                    problems.append("spawnctl reload: %s" % r.stderr.strip())
            st = wait_for(lambda: (lambda s: s if s and s["generation"] > gen and
                                   not s["pending_generation"] else None)(srv.status()), 20)
            if not st:
                problems.append("reload %d did not complete within 20 s" % (i + 1))
                break
            done += 1
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        load.stop()
        w = wrk.result()
        st = srv.status() or {}
        srv.stop()
    elapsed = time.monotonic() - t0
    killed = st.get("killed_children_count", -1)
    ok = (done == n and load.failed == 0 and w["errors"] == 0 and w["non2xx"] == 0 and
          killed == 0 and not problems)
    notes = ["%d of %d reloads completed in %.0f s (SIGHUP and spawnctl reload alternating)" %
             (done, n, elapsed), load_note(load), wrk_note(w),
             "children killed: %d" % killed] + problems
    return result("50 graceful reloads under load", load, 0, ok, notes)


def sc_kill9(mode):
    """kill -9 of a random child every second: only in-flight requests may fail."""
    seconds = pick(PLAN["kill9"]["seconds"], mode)
    srv = Server("kill9", ["--processes", "3", "--threads", "4"]).wait_ready()
    load = Load(srv.port, threads=4).start()
    wrk = Wrk(srv.port, 600, conns=16)
    kills, problems = [], []
    rng = random.Random(11)
    try:
        time.sleep(1)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready = srv.children("ready")
            if ready:
                victim = rng.choice(ready)
                try:
                    os.kill(victim, signal.SIGKILL)
                    kills.append(time.monotonic())
                except ProcessLookupError:
                    pass
            time.sleep(1)
        time.sleep(1.5)
    finally:
        load.stop()
        w = wrk.result()
        st = srv.status() or {}
        serving = len(srv.children("ready"))
        srv.stop()
    bound = len(kills) * load.concurrency
    stray = [f for f in load.failures
             if f[1] != "reset" or not any(0 <= f[0] - k <= 1.0 for k in kills)]
    if stray:
        problems.append("%d failure(s) not explained by a kill (first: %s)" %
                        (len(stray), stray[0][2]))
    killed = st.get("killed_children_count", -1)
    ok = (load.failed <= bound and not stray and killed == len(kills) and serving == 3 and
          w["non2xx"] == 0 and w["errors"] <= len(kills) * 16)
    notes = ["%d kills in %d s; %d requests lost (bound: %d kills x %d connections = %d); "
             "%.2f lost per kill" % (len(kills), seconds, load.failed, len(kills),
                                     load.concurrency, bound,
                                     load.failed / max(1, len(kills))),
             load_note(load),
             wrk_note(w) + " (bound: %d kills x 16 connections)" % len(kills),
             "controller counted %d killed children; %d serving at the end" % (killed, serving)]
    return result("kill -9 of a random child every second", load, bound, ok, notes + problems)


def rss_total(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/statm" % p) as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total


def sc_leak(mode):
    """A leaking app under --max-memory: recycled, 0 failed."""
    seconds = pick(PLAN["leak"]["seconds"], mode)
    limit_mb = 200
    srv = Server("leak", ["--processes", "2", "--threads", "4", "--max-memory",
                          "%dM" % limit_mb]).wait_ready()
    load = Load(srv.port, threads=2, path="/leak?kb=32").start()
    wrk = Wrk(srv.port, 600, conns=8)
    peak = 0
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            peak = max(peak, rss_total(srv.children()))
            time.sleep(0.5)
    finally:
        load.stop()
        w = wrk.result()
        st = srv.status() or {}
        srv.stop()
    text = srv.log_text()
    recycled = len(re.findall(r"replacing child \d+ \(--max-memory", text))
    killed = st.get("killed_children_count", -1)
    ok = recycled >= 2 and load.failed == 0 and w["errors"] == 0 and w["non2xx"] == 0 and \
        killed == 0
    notes = ["%d children recycled by --max-memory %dM in %d s (peak sum of RSS %d MiB); "
             "the app keeps 32 KiB per request" % (recycled, limit_mb, seconds, peak >> 20),
             load_note(load), wrk_note(w), "children killed: %d" % killed]
    return result("leaking app under --max-memory", load, 0, ok, notes)


class Holder:
    """A helper process holding connections (tests/bench/hold.py or
    tests/soak/slowloris.py), driven over stdin/stdout."""

    def __init__(self, argv):
        self.proc = subprocess.Popen([PYTHON] + argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True,
                                     env=dict(os.environ, SOAK_TAG=TAG))
        self.ready = self.proc.stdout.readline().split()  # ready OPENED FAILED

    def check(self):
        self.proc.stdin.write("check\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().split()

    def close(self):
        try:
            self.proc.stdin.write("close\n")
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """utime + stime of the processes, in seconds."""
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def measure(srv, secs):
    """One wrk run, with the server's CPU seconds per 1,000 requests."""
    kids = srv.children()
    c0 = cpu_seconds(kids)
    r = Wrk(srv.port, secs, conns=50).result(stop=False)
    r["cpu_per_1k"] = 1000 * (cpu_seconds(kids) - c0) / max(1, r["requests"])
    return r


def sc_slowloris(mode):
    """2,000 slowloris + 5,000 idle keep-alive connections while wrk measures.

    The machine is shared, so a single pair of runs can be off by far more
    than 20% for reasons that have nothing to do with the server. Clean and
    loaded runs alternate, and the best of each is compared (noise only ever
    lowers a throughput); the server's CPU time per request, a count that
    noise hardly moves, is reported beside it."""
    p = PLAN["slowloris"]
    rounds, secs = pick(p["rounds"], mode), pick(p["seconds"], mode)
    srv = Server("slowloris", ["--processes", "2", "--threads", "4"]).wait_ready()
    clean, loaded, notes, problems = [], [], [], []
    try:
        Wrk(srv.port, 1, conns=50).result(stop=False)  # warm-up
        for r in range(rounds):
            clean.append(measure(srv, secs))
            idle = Holder([os.path.join(ROOT, "tests", "bench", "hold.py"), str(srv.port),
                           str(p["idle"]), "--deadline", "120"])
            slow = Holder([os.path.join(HERE, "slowloris.py"), str(srv.port),
                           str(p["slowloris"]), "--interval", "3", "--deadline", "120"])
            try:
                time.sleep(0.5)
                loaded.append(measure(srv, secs))
                idle_alive, slow_state = idle.check(), slow.check()
            finally:
                idle.close()
                slow.close()
            notes.append("round %d: clean %.0f req/s (%.3f CPU-ms per request), loaded %.0f "
                         "req/s (%.3f); idle held %s of %d (still open after: %s), slowloris "
                         "%s" % (r + 1, clean[-1]["rps"], clean[-1]["cpu_per_1k"],
                                 loaded[-1]["rps"], loaded[-1]["cpu_per_1k"],
                                 idle.ready[1] if len(idle.ready) > 1 else "?", p["idle"],
                                 idle_alive[1] if len(idle_alive) > 1 else "?",
                                 " ".join(slow_state)))
            if idle.ready[1:2] != [str(p["idle"])] or idle_alive[1:2] != [str(p["idle"])]:
                problems.append("round %d: not all %d idle connections were held" %
                                (r + 1, p["idle"]))
            if slow.ready[1:2] != [str(p["slowloris"])]:
                problems.append("round %d: not all %d slowloris connections opened" %
                                (r + 1, p["slowloris"]))
    finally:
        st = srv.status() or {}
        srv.stop()
    c = max(w["rps"] for w in clean)
    lo = max(w["rps"] for w in loaded)
    ratio = lo / c if c else 0
    cpu_c = statistics.median(w["cpu_per_1k"] for w in clean)
    cpu_l = statistics.median(w["cpu_per_1k"] for w in loaded)
    errors = sum(w["errors"] + w["non2xx"] for w in clean + loaded)
    killed = st.get("killed_children_count", -1)
    ok = ratio >= 0.8 and errors == 0 and killed == 0 and not problems
    sent = sum(w["requests"] for w in loaded)
    notes = ["throughput with %d slowloris + %d idle keep-alive connections: %.0f req/s, "
             "%.0f%% of the clean run's %.0f (best of %d interleaved rounds of %d s each, "
             "wrk -t2 -c50, 2 processes)" % (p["slowloris"], p["idle"], lo, 100 * ratio, c,
                                              rounds, secs),
             "server CPU per request (median): %.3f ms clean, %.3f ms loaded" % (cpu_c, cpu_l)
             ] + notes + ["wrk errors + non-2xx over all runs: %d; children killed: %d" %
                          (errors, killed)]
    return dict(scenario="2,000 slowloris + 5,000 idle keep-alive", sent=sent,
                answered=sent - sum(w["non2xx"] for w in loaded),
                failed=sum(w["errors"] + w["non2xx"] for w in loaded), expected_failures=0,
                verdict="pass" if ok else "fail", notes=notes + problems)


def sc_hung(mode):
    """A hung app under --timeout: replaced, the others keep serving."""
    srv = Server("hung", ["--processes", "2", "--threads", "4", "--timeout", "2",
                          "--graceful-timeout", "3"]).wait_ready()
    load = Load(srv.port, threads=4).start()
    wrk = Wrk(srv.port, 600, conns=16)
    hung = {}

    def hang():
        hung["status"], hung["body"] = http_get(srv.port, "/hang?s=30", timeout=40)

    problems = []
    try:
        time.sleep(1)
        t = threading.Thread(target=hang, daemon=True)
        t_hang = time.monotonic()
        t.start()
        m = wait_for(lambda: re.search(r"replacing child (\d+) \(--timeout",
                                       srv.log_text()), 8)
        if not m:
            problems.append("the hung child was not replaced within 8 s")
            victim = None
        else:
            victim = int(m.group(1))
            if not wait_for(lambda: not alive(victim), 8):
                problems.append("the hung child %d still runs 8 s after its replacement" %
                                victim)
        t_gone = time.monotonic()
        time.sleep(1)
        t.join(10)
        if hung.get("status") != 504:
            problems.append("the hung request got %s, not 504 Gateway Timeout" %
                            (hung.get("status") or hung.get("body")))
    finally:
        load.stop()
        w = wrk.result()
        st = srv.status() or {}
        serving = len(srv.children("ready"))
        srv.stop()
    gap = load.longest_gap(t_hang, t_gone)
    killed = st.get("killed_children_count", -1)
    hung_failed = hung.get("status") != 200
    ok = (not problems and load.failed == 0 and w["errors"] == 0 and w["non2xx"] == 0 and
          gap < 1.0 and serving == 2)
    notes = ["the hung request: %s; its child %s replaced (--timeout 2) and killed after "
             "--graceful-timeout 3 (%.1f s after the request began)" % (
                 "answered %s" % hung.get("status"), victim, t_gone - t_hang),
             "longest time without an answer to the client meanwhile: %.2f s" % gap,
             load_note(load), wrk_note(w),
             "children killed by surprise: %d; %d serving at the end" % (killed, serving)]
    return result("hung app under --timeout", load, 1, ok, notes + problems,
                  extra_sent=1, extra_failed=1 if hung_failed else 0,
                  extra_answered=0 if hung_failed else 1)


def sc_flood(mode):
    """Random bytes and malformed requests: no child crashes."""
    seconds = pick(PLAN["flood"]["seconds"], mode)
    srv = Server("flood", ["--processes", "2", "--threads", "4", "--header-timeout", "5"]
                 ).wait_ready()
    before = sorted(srv.children())
    load = Load(srv.port, threads=2).start()
    try:
        fl = subprocess.run([PYTHON, os.path.join(HERE, "flood.py"), str(srv.port),
                             str(seconds), "16", "11"], capture_output=True, text=True,
                            timeout=seconds + 60, env=dict(os.environ, SOAK_TAG=TAG))
        counts = json.loads(fl.stdout.strip().splitlines()[-1]) if fl.stdout.strip() else {}
        time.sleep(1)
    finally:
        load.stop()
        ctl = srv.spawnctl("status", "--json")
        after = sorted(srv.children())
        srv.stop()
    try:
        killed = json.loads(ctl.stdout)["killed_children_count"]
    except (ValueError, KeyError):
        killed = -1
    crashes = re.findall(r"child \d+ (?:killed by signal \d+|exited with code [1-9]\d*)",
                         srv.log_text())
    sanitizer = re.findall(r"runtime error:|AddressSanitizer", srv.log_text())
    ok = (killed == 0 and before == after and not crashes and not sanitizer and
          load.failed == 0 and counts.get("connections", 0) > 0)
    notes = ["%d flood connections in %d s (%s)" % (
                 counts.get("connections", 0), seconds,
                 ", ".join("%s %d" % kv for kv in sorted(counts.items()) if kv[0] != "connections")),
             "`spawnctl status --json` killed_children_count: %d; children before %s, after %s"
             % (killed, before, after),
             "valid requests meanwhile: " + load_note(load)]
    if crashes:
        notes.append("crashes: %s" % crashes[:3])
    return result("random-bytes and malformed-request flood", load, 0, ok, notes)


def ctlkill_one(threads):
    """One controller SIGKILL; returns (ok, notes, counts)."""
    deadman = 5  # --graceful-timeout: how long an orphan may finish
    srv = Server("ctlkill-t%d" % threads, ["--processes", "2", "--threads", str(threads),
                                           "--graceful-timeout", str(deadman)]).wait_ready()
    kids = srv.children()
    load = Load(srv.port, threads=2).start()
    slow = []

    def slow_request():
        slow.append(http_get(srv.port, "/sleep?s=1.5", timeout=10))

    ts = [threading.Thread(target=slow_request, daemon=True) for _ in range(2)]
    for t in ts:
        t.start()
    time.sleep(0.6)  # in flight (past the standby's takeover of the loop)
    os.kill(srv.pid, signal.SIGKILL)
    t0 = time.monotonic()
    srv.proc.wait(5)
    freed = wait_for(lambda: port_free(srv.port), 5, 0.01)
    t_free = time.monotonic() - t0
    gone = wait_for(lambda: not any(alive(k) for k in kids), 10, 0.02)
    t_gone = time.monotonic() - t0
    for t in ts:
        t.join(10)
    load.stop()
    srv.logfile.close()
    # A new start on the same port, with new code: only new code answers.
    new = Server("ctlkill-t%d-new" % threads, ["--processes", "2", "--threads", str(threads)],
                 port=srv.port, env={"SOAK_VERSION": "2"})
    try:
        new.wait_ready()
        answers = [http_get(new.port, "/")[1] for _ in range(20)]
        new_ok = all(a.startswith("2 ") for a in answers)
        stale = [k for k in kids if alive(k)]
    finally:
        new.stop()
    lost = [f for f in load.failures if f[1] != "refused"]
    slow_ok = len(slow) == 2 and all(s[0] == 200 for s in slow)
    ok = (freed and t_free <= 1.0 and gone and t_gone <= 1.5 + 1.5 and slow_ok and new_ok and
          not stale and len(lost) <= load.concurrency)
    note = ("--threads %d: port free %.2f s after the kill, children gone after %.2f s; the 2 "
            "requests in flight %s; client: %d sent, %d answered, %d refused once the port "
            "closed, %d lost otherwise%s (bound %d); a new start on the port serves only new "
            "code: %s" % (threads, t_free, t_gone,
                          "finished with 200" if slow_ok else "FAILED: %s" % slow,
                          load.sent, load.answered,
                          sum(1 for f in load.failures if f[1] == "refused"), len(lost),
                          " (%s)" % "; ".join(sorted(set(f[2] for f in lost))) if lost else "",
                          load.concurrency, "yes" if new_ok and not stale else "NO"))
    # A connection refused once the port is closed carried no request: not sent.
    refused = sum(1 for f in load.failures if f[1] == "refused")
    return ok, note, (2 + load.sent - refused, 2 * slow_ok + load.answered,
                      len(lost) + 2 * (not slow_ok), load.concurrency)


def sc_ctlkill(mode):
    """The controller killed with SIGKILL: children notice, finish, exit; port free."""
    oks, notes = [], []
    sent = answered = failed = expected = 0
    for threads in pick(PLAN["ctlkill"]["threads"], mode):
        ok, note, (s, a, f, e) = ctlkill_one(threads)
        oks.append(ok)
        notes.append(note)
        sent, answered, failed, expected = sent + s, answered + a, failed + f, expected + e
    notes.append("connections refused once the port closed are not counted as sent: nothing "
                 "listens there until the new start (sent = the 2 slow requests + the client's "
                 "requests that reached a server)")
    return dict(scenario="controller killed with SIGKILL", sent=sent, answered=answered,
                failed=failed, expected_failures=expected,
                verdict="pass" if all(oks) else "fail", notes=notes)


def as_nobody(fn):
    """Runs fn() in a forked process as nobody; returns what it returned."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            out = fn()
        except BaseException as e:  # noqa: BLE001
            out = "error: %r" % e
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data) if data else None


def sc_admin(mode):
    """The admin socket refuses another uid (root runs the server, nobody connects)."""
    if os.geteuid() != 0:
        return dict(scenario="admin socket from another uid", sent=0, answered=0, failed=0,
                    expected_failures=0, verdict="pass",
                    notes=["skipped: needs root to connect as nobody"])
    os.chmod(TMP, 0o755)  # nobody may reach the socket file, not necessarily open it
    srv = Server("admin", ["--processes", "1"], status=False).wait_ready()

    def try_stop():
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        try:
            s.connect(srv.admin)
            s.sendall(b'{"version": 1, "command": "stop"}\n')
            return s.recv(4096).decode()
        except OSError as e:
            return "refused: %s" % e.strerror
        finally:
            s.close()

    try:
        mode_bits = oct(os.stat(srv.admin).st_mode & 0o777)
        first = as_nobody(try_stop)  # the socket file's mode stops it
        os.chmod(srv.admin, 0o666)   # a careless deployment: the peer check must stop it
        second = as_nobody(try_stop)
        ctl = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                              SPAWNCTL, "--socket", srv.admin, "reload"],
                             capture_output=True, text=True, timeout=10)
        time.sleep(0.5)
        st = srv.status() if srv.proc.poll() is None else None
        still = st["reloads"]["count"] if st else None  # reloads done: must be 0
        root_ok = (srv.admin_request("status") or {}).get("ok") is True
    finally:
        srv.stop()
    refused = [first.startswith("refused: Permission denied"),
               '"permission denied"' in second, ctl.returncode == 1]
    ok = all(refused) and still == 0 and root_ok
    notes = ["socket mode %s; as nobody: connect -> %s; with the file opened up to 0666: "
             "%s; `setpriv --reuid=nobody spawnctl reload` -> exit %d (%s)" % (
                 mode_bits, first.strip(), second.strip(), ctl.returncode, ctl.stderr.strip()),
             "the controller kept running with no reload done: %s; root is still served: %s"
             % (still == 0, root_ok)]
    return dict(scenario="admin socket from another uid", sent=3, answered=sum(refused),
                failed=3 - sum(refused), expected_failures=0,
                verdict="pass" if ok else "fail", notes=notes)


NGINX_CONF = """daemon off;
worker_processes 1;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    upstream spawning {
        server 127.0.0.1:%(a)d max_fails=0;
        server 127.0.0.1:%(b)d max_fails=0;
        keepalive 32;
    }
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            proxy_pass http://spawning;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 2s;
            proxy_read_timeout 10s;
        }
    }
}
"""


def start_instance(name, port, version):
    return Server(name, ["--processes", "2", "--threads", "4", "--shutdown-delay", "1"],
                  port=port, env={"SOAK_VERSION": str(version)}).wait_ready()


def stop_instance(srv, how):
    """Graceful stop; returns (healthz during the delay, app port then, exit code)."""
    if how == "SIGTERM":
        os.kill(srv.pid, signal.SIGTERM)
    else:
        srv.spawnctl("stop")
    time.sleep(0.2)
    health = http_get(srv.status_port, "/healthz")[0]
    app = http_get(srv.port, "/")[0]
    try:
        srv.proc.wait(20)
    except subprocess.TimeoutExpired:
        pass
    return health, app, srv.stop()


def sc_rolling(mode):
    """A rolling deploy of two instances behind one nginx upstream: 0 failed."""
    if not os.path.exists(NGINX):
        return dict(scenario="rolling deploy behind nginx", sent=0, answered=0, failed=0,
                    expected_failures=0, verdict="fail", notes=["nginx is not installed"])
    rounds = pick(PLAN["rolling"]["rounds"], mode)
    ndir = os.path.join(TMP, "nginx")
    os.makedirs(ndir, exist_ok=True)
    ports = [free_port(), free_port()]
    nport = free_port()
    with open(os.path.join(ndir, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF % dict(dir=ndir, a=ports[0], b=ports[1], port=nport))
    insts = [start_instance("rolling-a", ports[0], 1), start_instance("rolling-b", ports[1], 1)]
    nginx = subprocess.Popen([NGINX, "-p", ndir, "-c", os.path.join(ndir, "nginx.conf"),
                              "-e", os.path.join(ndir, "error.log")],
                             env=dict(os.environ, SOAK_TAG=TAG), stdin=subprocess.DEVNULL)
    versions = set()
    lock = threading.Lock()

    def seen(body):
        with lock:
            versions.add(body.split()[0] if body else b"?")

    load = wrk = None
    checks, problems, steps = [], [], 0
    try:
        if not wait_for(lambda: http_get(nport, "/")[0] == 200, 10):
            raise RuntimeError("nginx does not pass requests through")
        load = Load(nport, threads=4, on_answer=seen).start()
        wrk = Wrk(nport, 600, conns=16)
        time.sleep(1)
        version = 1
        for r in range(rounds):
            version += 1
            for i in (0, 1):
                how = "SIGTERM" if (steps % 2 == 0) else "spawnctl stop"
                health, app, rc = stop_instance(insts[i], how)
                checks.append((how, health, app, rc))
                if health != 503 or app != 200 or rc != 0:
                    problems.append("%s of %s: /healthz %s and the app %s during the shutdown "
                                    "delay, exit %s" % (how, insts[i].name, health, app, rc))
                insts[i] = start_instance(insts[i].name, ports[i], version)
                steps += 1
                time.sleep(1)
        with lock:
            versions.clear()
        time.sleep(1.5)
    finally:
        if load:
            load.stop()
        w = wrk.result() if wrk else parse_wrk("")
        for s in insts:
            s.stop()
        nginx.send_signal(signal.SIGQUIT)
        try:
            nginx.wait(10)
        except subprocess.TimeoutExpired:
            nginx.kill()
    final = sorted(v.decode() for v in versions)
    errlog = open(os.path.join(ndir, "error.log")).read()
    kinds = {}
    for m in re.finditer(r"\[error\] [^*]*\*\d+ ([^,]*)", errlog):
        kinds[m.group(1)] = kinds.get(m.group(1), 0) + 1
    ok = (load.failed == 0 and w["errors"] == 0 and w["non2xx"] == 0 and not problems and
          final == [str(version)])
    notes = ["%d instance restarts (%d rounds of A then B, SIGTERM and spawnctl stop "
             "alternating, --shutdown-delay 1); nginx: proxy_next_upstream error timeout "
             "http_502 http_503, keepalive 32" % (steps, rounds),
             "during each shutdown delay /healthz answered %s while the app port answered %s"
             % (sorted(set(c[1] for c in checks)), sorted(set(c[2] for c in checks))),
             load_note(load), wrk_note(w),
             "versions answering at the end: %s; nginx's error log (each one retried on the "
             "other instance): %s" % (final, "; ".join("%s: %d" % kv for kv in
                                                       sorted(kinds.items())) or "empty")]
    return result("rolling deploy of 2 instances behind nginx", load, 0, ok, notes + problems)


# --- the fuzzer beside the scenarios -----------------------------------------

class Fuzz:
    """`make fuzz FUZZ_SECONDS=N` in the background at the lowest priority
    (SCHED_IDLE: it takes only CPU time nothing else wants, so it does not
    disturb the throughput comparisons)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.logpath = os.path.join(OUT, "fuzz.log")
        self.log = open(self.logpath, "wb")

        def idle():
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))

        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(["make", "-s", "fuzz", "FUZZ_SECONDS=%d" % seconds,
                                      "BUILD=%s" % os.path.relpath(BUILD, ROOT)], cwd=ROOT,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=idle, env=dict(os.environ, SOAK_TAG=TAG))

    def result(self):
        try:
            rc = self.proc.wait(self.seconds + 300)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "killed (no end in time)"
        self.log.close()
        elapsed = time.monotonic() - self.t0
        text = open(self.logpath, errors="replace").read()
        runs = [int(m) for m in re.findall(r"^#(\d+)\s", text, re.M)]
        execs = max(runs) if runs else 0
        crash = re.findall(r"ERROR: (?:AddressSanitizer|libFuzzer)|runtime error:|"
                           r"Test unit written to .*", text)
        ok = rc == 0 and not crash and execs > 0
        notes = ["libFuzzer over the request parser and environ building (ASan+UBSan), "
                 "regression corpus then %d s of fuzzing (%.0f s with the build), "
                 "SCHED_IDLE beside the scenarios: %d inputs executed" % (self.seconds, elapsed,
                                                                         execs),
                 "make exit %s; %s" % (rc, "crash: %s" % crash[:2] if crash else "no crash")]
        return dict(scenario="fuzz target, ASan+UBSan", sent=execs, answered=execs if ok else 0,
                    failed=len(crash), expected_failures=0, verdict="pass" if ok else "fail",
                    notes=notes)


# --- driver ------------------------------------------------------------------

SCENARIOS = [("reloads", sc_reloads), ("kill9", sc_kill9), ("leak", sc_leak),
             ("slowloris", sc_slowloris), ("hung", sc_hung), ("flood", sc_flood),
             ("ctlkill", sc_ctlkill), ("admin", sc_admin), ("rolling", sc_rolling)]


def pick(pair, mode):
    return pair[1] if mode == "quick" else pair[0]


def cleanup():
    for pid in tagged_pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def table(results):
    lines = ["| scenario | sent | answered | failed | expected failures | verdict |",
             "|---|---:|---:|---:|---:|---|"]
    for r in results:
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            r["scenario"], fmt(r["sent"]), fmt(r["answered"]), fmt(r["failed"]),
            "≤ " + fmt(r["expected_failures"]) if r["expected_failures"] else "0",
            r["verdict"]))
    return lines


def write_report(results, args, elapsed, command):
    with open(os.path.join(OUT, "report.json"), "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    lines = ["# Soak report", "", headline(command, args.mode, elapsed), ""] + table(results)
    lines.append("")
    for r in results:
        lines.append("**%s** (%s)" % (r["scenario"], r["verdict"]))
        lines.append("")
        lines.extend("* " + n for n in r["notes"])
        lines.append("")
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write("\n".join(lines))


def headline(command, mode, elapsed):
    return "`%s` (%s mode), %s, %.1f minutes on %d cores." % (
        command, mode, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), elapsed / 60,
        os.cpu_count())


README_BEGIN, README_END = "<!-- soak-report:begin -->", "<!-- soak-report:end -->"


def update_readme():
    """Puts the last report's table and first notes into README.md, between
    the soak-report markers (`soak.py --readme`, after a run)."""
    with open(os.path.join(OUT, "report.md")) as f:
        head = f.read().splitlines()[2]
    with open(os.path.join(OUT, "report.json")) as f:
        results = json.load(f)
    body = [README_BEGIN, head, ""] + table(results) + [""]
    body += ["* %s: %s" % (r["scenario"], r["notes"][0]) for r in results]
    body.append(README_END)
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        text = f.read()
    a, b = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    with open(path, "w") as f:
        f.write(text[:a] + "\n".join(body) + text[b:])


def fmt(n):
    return "{:,}".format(n) if isinstance(n, int) else str(n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_const", dest="mode", const="quick", default="full")
    ap.add_argument("--only", default="")
    ap.add_argument("--no-fuzz", action="store_true")
    ap.add_argument("--readme", action="store_true",
                    help="only copy the last report into README.md's Reliability section")
    args = ap.parse_args()
    if args.readme:
        update_readme()
        return 0
    global TMP
    os.makedirs(os.path.join(OUT, "logs"), exist_ok=True)
    for f in os.listdir(os.path.join(OUT, "logs")):
        os.unlink(os.path.join(OUT, "logs", f))
    TMP = tempfile.mkdtemp(prefix="spawning-soak.")
    nofile = raise_nofile()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, f: (cleanup(), os._exit(130)))
    only = set(filter(None, args.only.split(",")))
    t0 = time.monotonic()
    fuzz = None
    if not args.no_fuzz and (not only or "fuzz" in only):
        fuzz = Fuzz(pick(PLAN["fuzz"]["seconds"], args.mode))
    results = []
    log("%s mode, RLIMIT_NOFILE %d, logs in %s" % (args.mode, nofile, os.path.join(OUT, "logs")))
    for name, fn in SCENARIOS:
        if only and name not in only:
            continue
        log("%s ..." % name)
        t = time.monotonic()
        try:
            r = fn(args.mode)
        except Exception:  # noqa: BLE001 - a scenario that breaks is a failure
            r = dict(scenario=name, sent=0, answered=0, failed=0, expected_failures=0,
                     verdict="fail", notes=["the scenario broke: " +
                                            traceback.format_exc().strip().replace("\n", " | ")])
        finally:
            cleanup_servers()
        r["seconds"] = round(time.monotonic() - t, 1)
        log("%s: %s in %.0f s (sent %d, answered %d, failed %d, expected %d)" % (
            name, r["verdict"], r["seconds"], r["sent"], r["answered"], r["failed"],
            r["expected_failures"]))
        for n in r["notes"]:
            log("    " + n)
        results.append(r)
    if fuzz:
        log("waiting for the fuzzer ...")
        r = fuzz.result()
        r["seconds"] = round(time.monotonic() - fuzz.t0, 1)
        log("fuzz: %s; %s" % (r["verdict"], " ".join(r["notes"])))
        results.append(r)
    cleanup()
    elapsed = time.monotonic() - t0
    command = "make soak" + (" SOAK=quick" if args.mode == "quick" else "")
    write_report(results, args, elapsed, command)
    failed = [r["scenario"] for r in results if r["verdict"] != "pass"]
    log("%d scenario(s), %d failed, %.1f minutes; report in %s" % (
        len(results), len(failed), elapsed / 60, os.path.join(OUT, "report.md")))
    return 1 if failed else 0


def cleanup_servers():
    """Whatever a scenario left running (except the fuzzer) is killed."""
    for pid in tagged_pids():
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if b"fuzz" in cmd or b"make" in cmd.split(b"\0")[0]:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
