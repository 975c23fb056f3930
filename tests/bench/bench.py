#!/usr/bin/python3
"""Benchmark Spawning against gunicorn, uWSGI and nginx, in one run.

Every server serves the same app (tests/bench/app.py) on a free port of
127.0.0.1 with the same process/thread counts. Each round starts every server
in turn (A B C ... A B C ...), runs every scenario it takes with
`wrk -t2 -c100` (the conditions of the reference figures in the issue),
measures the RSS of its whole process tree, stops it and checks that no
process of it is left. The medians over the rounds go to a
table, build/bench/results.json and a chart (build/bench/results.png, copied
to tests/bench/results.png).

    /usr/bin/python3 tests/bench/bench.py [--quick] [--rounds N] [--duration S]
                                          [--only SCENARIO[,..]] [--servers NAME[,..]]

Run from anywhere; it works from the repository root. `make bench` installs
the packages, builds, and runs it.
"""
import argparse
import http.client
import json
import os
import platform
import re
import resource
import select
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "tests", "bench")
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
OUT = os.path.join(BUILD, "bench")
APP = "tests.bench.app:app"
PYTHON = "/usr/bin/python3"
CONNECTIONS = 100
WRK_THREADS = 2  # wrk -t2 -c100: the reference figures' conditions
CLK_TCK = os.sysconf("SC_CLK_TCK")
NOISE_WARN = 10.0           # % of the machine used by others during a run: flagged
IDLE_KEEPALIVE = 300        # seconds peers keep idle connections (gunicorn's default is 2)
NOFILE_WANTED = 20000       # 10,000 idle sockets + wrk + headroom, in client and server

SCENARIOS = {
    "hello":    dict(desc="hello world, keep-alive, 1 process", path="/"),
    "close":    dict(desc="hello world, Connection: close, 1 process", path="/",
                     headers=["Connection: close"]),
    "resp64k":  dict(desc="64 KiB response, keep-alive, 1 process", path="/64k"),
    "upload1m": dict(desc="1 MiB POST read by the app, 1 process", path="/upload",
                     script="upload.lua"),
    "idle1k":   dict(desc="hello while 1,000 idle keep-alive connections are held, 1 process",
                     path="/", idle=1000),
    "idle10k":  dict(desc="hello while 10,000 idle keep-alive connections are held, 1 process",
                     path="/", idle=10000),
    "hello2p":  dict(desc="hello world, keep-alive, 2 processes", path="/"),
    "tls":      dict(desc="hello world over TLS, keep-alive, 1 process", path="/", tls=True),
    "tlsnew":   dict(desc="hello world over TLS, a new connection (full handshake) per request,"
                     " 1 process: the handshake rate", path="/", tls=True,
                     headers=["Connection: close"]),
}

ALL_P1 = ["hello", "close", "resp64k", "upload1m", "idle1k", "idle10k"]
BLOCKING = ["hello", "close", "resp64k", "upload1m"]
BLOCKING_NOTE = ("one connection per worker thread: N idle keep-alive connections "
                 "would need N workers (or the server closes after each response)")


def srv(name, kind, procs, threads, scenarios, ref=None, note=None, access_log=False, tls=False,
        no_log=False):
    """A server configuration. ref: the Spawning config its ratios use.
    access_log: Spawning writes its access log to a file (-l). tls: it
    serves HTTPS (the tls* scenarios) with a certificate made for the run.
    no_log: Spawning's access log is off (-l /dev/null), as nginx's is here."""
    return dict(name=name, kind=kind, procs=procs, threads=threads,
                scenarios=scenarios, ref=ref, note=note, access_log=access_log, tls=tls,
                no_log=no_log)


SERVERS = [
    srv("spawning-t1", "spawning", 1, 1, ALL_P1),
    srv("spawning-t4", "spawning", 1, 4, ALL_P1),
    srv("spawning-t1-nolog", "spawning", 1, 1, ["hello"], "spawning-t1",
        "--threads 1 with the access log off (-l /dev/null), as nginx-1w's is", no_log=True),
    srv("spawning-t1-accesslog", "spawning", 1, 1, ["hello"], "spawning-t1",
        "--threads 1 with an access log to a file (-l)", access_log=True),
    srv("spawning-green", "spawning", 1, 0, ALL_P1),
    srv("uwsgi-t1", "uwsgi", 1, 1, BLOCKING, "spawning-t1", BLOCKING_NOTE),
    srv("uwsgi-t4", "uwsgi", 1, 4, BLOCKING, "spawning-t4", BLOCKING_NOTE),
    srv("uwsgi-http11-t1", "uwsgi11", 1, 1, ["hello"], "spawning-t1",
        "--http11-socket: uWSGI's keep-alive HTTP socket, for reference"),
    srv("gunicorn-sync", "gunicorn-sync", 1, 1, BLOCKING, "spawning-t1", BLOCKING_NOTE),
    srv("gunicorn-gthread-t4", "gunicorn-gthread", 1, 4, ALL_P1, "spawning-t4"),
    srv("gunicorn-gevent", "gunicorn-gevent", 1, 0, ALL_P1, "spawning-green"),
    srv("spawning-p2-t1", "spawning", 2, 1, ["hello2p"]),
    srv("spawning-p2-t4", "spawning", 2, 4, ["hello2p"]),
    srv("uwsgi-p2-t1", "uwsgi", 2, 1, ["hello2p"], "spawning-p2-t1"),
    srv("gunicorn-gevent-p2", "gunicorn-gevent", 2, 0, ["hello2p"], "spawning-p2-t4"),
    srv("spawning-tls-t1", "spawning", 1, 1, ["tls", "tlsnew"], tls=True),
    srv("nginx-tls-1w", "nginx", 1, 0, ["tls", "tlsnew"], "spawning-tls-t1",
        "nginx terminating TLS with 1 worker, `return 200`", tls=True),
    srv("nginx-1w", "nginx", 1, 0, ["hello"], "spawning-t1",
        "nginx `return 200` with 1 worker: the practical C ceiling for one process"),
    srv("nginx-2w", "nginx", 2, 0, ["hello2p"], "spawning-p2-t1",
        "nginx `return 200` with 2 workers: the ceiling, not a WSGI server"),
]

# Processes and helpers this run started, so every exit path can end them.
LIVE = []


class Abort(Exception):
    """Raised by the SIGTERM/SIGHUP handler so the finally blocks run."""


def log(msg):
    sys.stdout.flush()
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_table():
    """{pid: (ppid, sid)} for every live (not zombie) process now."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            table[int(entry)] = (int(fields[1]), int(fields[3]))
    return table


def tree_pids(root):
    """root and all its descendants (a list, root first)."""
    table = proc_table()
    if root not in table:
        return []
    pids, i = [root], 0
    while i < len(pids):
        pids += [p for p, (pp, _) in table.items() if pp == pids[i]]
        i += 1
    return pids


def session_pids(sid):
    return [p for p, (_, s) in proc_table().items() if s == sid]


def rss_kb(pids):
    """Sum of VmRSS over pids (kB); processes already gone count 0."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_busy_seconds():
    """Machine-wide non-idle CPU time so far (all cores, steal included)."""
    with open("/proc/stat") as f:
        vals = [int(v) for v in f.readline().split()[1:9]]
    return (sum(vals) - vals[3] - vals[4]) / CLK_TCK


def tree_cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def kill_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def cleanup_all():
    """SIGKILL whatever this run started and is still alive."""
    for entry in list(LIVE):
        proc = entry["proc"]
        if entry.get("group"):
            kill_group(proc, signal.SIGKILL)
            for pid in session_pids(proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        elif proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        LIVE.remove(entry)


def on_signal(signum, frame):
    raise Abort("signal %d" % signum)


def raise_nofile():
    """Raise RLIMIT_NOFILE (inherited by the servers); return the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < NOFILE_WANTED:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE_WANTED, NOFILE_WANTED))
            return NOFILE_WANTED
        except (ValueError, OSError):
            pass
    want = NOFILE_WANTED if hard == resource.RLIM_INFINITY else max(soft, min(hard, NOFILE_WANTED))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


# ---------------------------------------------------------------- servers

NGINX_CONF = """daemon off;
master_process on;
worker_processes %(procs)d;
worker_rlimit_nofile %(nofile)d;
pid %(prefix)s/nginx.pid;
error_log stderr warn;
events { worker_connections 12000; }
http {
    access_log off;
    keepalive_timeout %(keepalive)ds;
    keepalive_requests 1000000000;
    client_body_temp_path %(prefix)s/body;
    server {
        listen 127.0.0.1:%(port)d%(ssl)s;
        location / { default_type text/plain; return 200 "Hello, World!\\n"; }
    }
}
"""


def make_certificate(tmpdir):
    """A self-signed ECDSA P-256 certificate for 127.0.0.1 (made once a run)."""
    cert, key = os.path.join(tmpdir, "bench.pem"), os.path.join(tmpdir, "bench.key")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def server_command(cfg, port, tmpdir):
    """argv that serves APP (or nginx's `return 200`) on 127.0.0.1:port."""
    kind, procs, threads = cfg["kind"], cfg["procs"], cfg["threads"]
    if kind == "spawning":
        argv = [os.path.join(BUILD, "spawning"), "--host", "127.0.0.1", "--port", str(port),
                "--processes", str(procs), "--threads", str(threads), APP]
        if cfg.get("tls"):
            cert, key = make_certificate(tmpdir)
            argv[1:1] = ["--certfile", cert, "--keyfile", key]
        if cfg.get("no_log"):
            argv[1:1] = ["-l", "/dev/null"]
        if cfg.get("access_log"):
            path = os.path.join(tmpdir, "access.log")
            if os.path.exists(path):
                os.unlink(path)  # one run's lines at a time in tmpdir
            argv[1:1] = ["-l", path]
        return argv
    if kind.startswith("gunicorn-"):
        argv = ["/usr/bin/gunicorn", "-w", str(procs), "-k", kind.split("-")[1],
                "-b", "127.0.0.1:%d" % port, "--keep-alive", str(IDLE_KEEPALIVE),
                "--worker-connections", "12000", "--graceful-timeout", "5",
                "--log-level", "warning", APP]
        if kind == "gunicorn-gthread":
            argv[5:5] = ["--threads", str(threads)]
        return argv
    if kind in ("uwsgi", "uwsgi11"):
        sock = "--http-socket" if kind == "uwsgi" else "--http11-socket"
        argv = ["/usr/bin/uwsgi", "--plugin", "python3", sock, "127.0.0.1:%d" % port,
                "--master", "--processes", str(procs), "--die-on-term", "--need-app",
                "--disable-logging", "--pythonpath", ROOT, "--module", APP]
        if threads > 1:
            argv += ["--threads", str(threads)]
        return argv
    if kind == "nginx":
        conf = os.path.join(tmpdir, "nginx.conf")
        with open(conf, "w") as f:
            nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            ssl = ""
            if cfg.get("tls"):
                cert, key = make_certificate(tmpdir)
                ssl = (" ssl; ssl_certificate %s; ssl_certificate_key %s; "
                       "ssl_protocols TLSv1.2 TLSv1.3" % (cert, key))
            f.write(NGINX_CONF % dict(procs=procs, nofile=nofile, prefix=tmpdir,
                                      keepalive=IDLE_KEEPALIVE, port=port, ssl=ssl))
        return ["/usr/sbin/nginx", "-p", tmpdir, "-c", conf, "-e", "stderr"]
    raise ValueError(kind)


def http_get(port, path="/", timeout=1.0, tls=False):
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def start_server(cfg, logpath, tmpdir, timeout=30.0):
    """Start cfg on a free port and wait until every worker is up and it answers.

    Returns the server dict; raises RuntimeError (after stopping it) on failure.
    """
    port = free_port()
    argv = server_command(cfg, port, tmpdir)
    logf = open(logpath, "w")
    logf.write("$ %s\n" % " ".join(argv))
    logf.flush()
    # A process group of its own (to stop it whole), but the bench's session:
    # with sched_autogroup_enabled, a new session is a scheduling group of
    # its own that shares the CPUs with wrk's group as a unit, which on this
    # kernel made multi-threaded servers pay ~40% more CPU per request
    # (Spawning --threads 4: 62k vs 108k req/s), an artefact of running the
    # load generator on the same machine.
    proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=logf,
                            stderr=subprocess.STDOUT, process_group=0)
    server = dict(cfg=cfg, port=port, proc=proc, log=logpath, logf=logf, group=True,
                  argv=argv)
    LIVE.append(server)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if server_ready(server):
            time.sleep(0.2)
            return server
        time.sleep(0.1)
    tail = log_tail(logpath)
    stop_server(server)
    raise RuntimeError("did not come up (exit %s): %s" % (proc.returncode, tail))


def server_ready(server):
    cfg, proc = server["cfg"], server["proc"]
    if len(tree_pids(proc.pid)) < 1 + cfg["procs"]:
        return False
    if cfg["kind"] == "spawning":
        with open(server["log"]) as f:
            if len(re.findall(r"\[INFO\] child \d+ ready", f.read())) < cfg["procs"]:
                return False
    try:
        return http_get(server["port"], tls=cfg.get("tls")) == 200
    except OSError:
        return False


def log_tail(path, lines=3):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(l.strip() for l in f.readlines()[-lines:])
    except OSError:
        return ""


def stop_server(server, timeout=15.0):
    """SIGTERM the server, wait, SIGKILL what is left. Returns a list of problems."""
    proc, problems = server["proc"], []
    pids = set(tree_pids(proc.pid)) | set(session_pids(proc.pid))
    t0 = time.monotonic()
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        problems.append("still running %.0f s after SIGTERM" % timeout)
    server["stop_seconds"] = round(time.monotonic() - t0, 2)
    deadline = time.monotonic() + 5
    while True:
        live = proc_table()
        left = sorted(p for p in live if p in pids or live[p][1] == proc.pid)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if left:
        problems.append("processes left after stop: %s" %
                        "; ".join("%d %s" % (p, cmdline(p)) for p in left))
    kill_group(proc, signal.SIGKILL)
    for pid in session_pids(proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if proc.poll() is None:
        proc.wait(timeout=5)
    if proc.returncode not in (0, -signal.SIGTERM) and not problems:
        problems.append("exit status %s after SIGTERM" % proc.returncode)
    server["logf"].close()
    if server in LIVE:
        LIVE.remove(server)
    return problems


def log_problems(path):
    """Error lines a server wrote (tracebacks, ERROR/CRITICAL, crashes)."""
    pat = re.compile(r"Traceback|\[ERROR\]|\[CRITICAL\]|Segmentation|core dumped|"
                     r"\[emerg\]|\[alert\]|\[crit\]|\[error\]|Too many open files", re.I)
    try:
        with open(path, errors="replace") as f:
            hits = [l.strip() for l in f if pat.search(l)]
    except OSError:
        return []
    return hits[:5]


# ---------------------------------------------------------------- load

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def parse_wrk(text):
    """wrk --latency output -> dict(rps, p99_ms, requests, errors, non2xx)."""
    out = dict(rps=None, p99_ms=None, requests=0, errors=0, non2xx=0)
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["rps"] = float(m.group(1))
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    if m:
        out["p99_ms"] = float(m.group(1)) * UNITS[m.group(2)]
    m = re.search(r"(\d+) requests in", text)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["errors"] = sum(int(x) for x in m.groups())
        out["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                        (int(x) for x in m.groups())))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
    return out


def run_wrk(port, scenario, duration, pids=()):
    """One wrk run. noise_pct: the share of the machine's CPU (all cores) that
    processes other than the server (pids) and wrk used meanwhile."""
    sc = SCENARIOS[scenario]
    argv = ["wrk", "-t%d" % WRK_THREADS, "-c%d" % CONNECTIONS, "-d%ss" % duration, "--latency",
            "--timeout", "5s"]
    for h in sc.get("headers", []):
        argv += ["-H", h]
    if sc.get("script"):
        argv += ["-s", os.path.join(HERE, sc["script"])]
    argv.append("%s://127.0.0.1:%d%s" % ("https" if sc.get("tls") else "http", port, sc["path"]))
    busy0, srv0, kids0, t0 = cpu_busy_seconds(), tree_cpu_seconds(pids), os.times(), time.monotonic()
    res = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30)
    busy1, srv1, kids1, t1 = cpu_busy_seconds(), tree_cpu_seconds(pids), os.times(), time.monotonic()
    wrk_cpu = (kids1.children_user - kids0.children_user +
               kids1.children_system - kids0.children_system)
    other = busy1 - busy0 - (srv1 - srv0) - wrk_cpu
    out = parse_wrk(res.stdout)
    out["server_cpu_pct"] = round(100 * (srv1 - srv0) / (t1 - t0), 1)
    # The server's own CPU per answer: what the shared load generator cannot blur.
    out["cpu_us_per_req"] = (round(1e6 * (srv1 - srv0) / out["requests"], 1)
                             if out["requests"] else None)
    out["wrk_cpu_pct"] = round(100 * wrk_cpu / (t1 - t0), 1)
    out["noise_pct"] = round(max(0.0, 100 * other / ((t1 - t0) * (os.cpu_count() or 1))), 1)
    if out["rps"] is None:
        out["wrk_error"] = (res.stderr or res.stdout).strip()[-300:]
    return out


def read_line(proc, timeout):
    """One line from proc.stdout within timeout seconds, or None."""
    r, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().strip() if r else None


def hold_idle(port, n):
    """Start hold.py; returns (proc, opened, failed)."""
    proc = subprocess.Popen([PYTHON, os.path.join(HERE, "hold.py"), str(port), str(n),
                             "--deadline", "60"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    LIVE.append(dict(proc=proc))
    line = read_line(proc, 90) or ""
    m = re.match(r"ready (\d+) (\d+)", line)
    if not m:
        return proc, 0, n
    return proc, int(m.group(1)), int(m.group(2))


def release_idle(proc):
    """Ask hold.py how many are still open, close them; returns that count."""
    alive = None
    try:
        proc.stdin.write("check\n")
        proc.stdin.flush()
        line = read_line(proc, 30) or ""
        if line.startswith("alive "):
            alive = int(line.split()[1])
        proc.stdin.write("close\n")
        proc.stdin.close()
        proc.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
    for entry in list(LIVE):
        if entry["proc"] is proc:
            LIVE.remove(entry)
    return alive


def run_scenario(server, scenario, duration):
    """One measurement of scenario against a running server."""
    port, root = server["port"], server["proc"].pid
    n = SCENARIOS[scenario].get("idle")
    if not n:
        out = run_wrk(port, scenario, duration, tree_pids(root))
        out["rss_kb"] = rss_kb(tree_pids(root))
        return out
    rss0 = rss_kb(tree_pids(root))
    holder, opened, failed = hold_idle(port, n)
    try:
        time.sleep(0.5)
        rss1 = rss_kb(tree_pids(root))
        out = run_wrk(port, scenario, duration, tree_pids(root))
        out["rss_kb"] = rss_kb(tree_pids(root))
    finally:
        alive = release_idle(holder)
    out.update(idle=n, opened=opened, open_failed=failed, alive_after=alive,
               rss_idle_base_kb=rss0, rss_idle_held_kb=rss1,
               rss_per_conn_bytes=round((rss1 - rss0) * 1024 / n) if opened else None)
    return out


# ---------------------------------------------------------------- driver

def probe_green(tmpdir):
    """Try `spawning --threads 0`; returns None if it serves, else why not."""
    cfg = dict(name="spawning-green-probe", kind="spawning", procs=1, threads=0)
    logpath = os.path.join(OUT, "logs", "spawning-green-probe.log")
    try:
        server = start_server(cfg, logpath, tmpdir, timeout=10)
    except RuntimeError as e:
        return str(e)
    stop_server(server)
    return None


def plan(args):
    """The server configs to run and the scenarios each takes (after filters)."""
    only = set(s for arg in args.only for s in arg.split(",") if s)
    bad = only - set(SCENARIOS)
    if bad:
        sys.exit("unknown scenario(s): %s (known: %s)" % (", ".join(sorted(bad)),
                                                          ", ".join(SCENARIOS)))
    names = set(s for arg in args.servers for s in arg.split(",") if s)
    chosen = []
    for cfg in SERVERS:
        if names and cfg["name"] not in names:
            continue
        scen = [s for s in cfg["scenarios"] if not only or s in only]
        if scen:
            chosen.append(dict(cfg, scenarios=scen))
    return chosen


def run_round(rnd, configs, args, results, problems, tmpdir):
    for cfg in configs:
        name = cfg["name"]
        logpath = os.path.join(OUT, "logs", "%s-r%d.log" % (name, rnd))
        log("[round %d] %s" % (rnd, name))
        try:
            server = start_server(cfg, logpath, tmpdir)
        except RuntimeError as e:
            problems.append(dict(server=name, round=rnd, problem="start: %s" % e))
            continue
        try:
            if args.warmup > 0:
                run_wrk(server["port"], "tls" if cfg.get("tls") else "hello", args.warmup)
            for scen in cfg["scenarios"]:
                out = run_scenario(server, scen, args.duration)
                out["round"] = rnd
                results.setdefault(name, {}).setdefault(scen, []).append(out)
                log("    %-9s %s" % (scen, brief(out)))
        finally:
            for p in stop_server(server):
                problems.append(dict(server=name, round=rnd, problem=p))
            for line in log_problems(logpath):
                problems.append(dict(server=name, round=rnd, problem="log: " + line))


def brief(out):
    if out.get("rps") is None:
        return "wrk failed: %s" % out.get("wrk_error")
    s = "%10.0f req/s  p99 %8.2f ms  rss %6.1f MiB  err %d  cpu %.0f%%  noise %.0f%%" % (
        out["rps"], out["p99_ms"] or 0, out["rss_kb"] / 1024.0, out["errors"] + out["non2xx"],
        out["server_cpu_pct"], out["noise_pct"])
    if out.get("idle"):
        s += "  held %s/%d alive %s  %s B/conn" % (out["opened"], out["idle"],
                                                   out["alive_after"], out["rss_per_conn_bytes"])
    return s


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(results):
    summary = {}
    for name, scens in results.items():
        for scen, runs in scens.items():
            summary.setdefault(name, {})[scen] = dict(
                rps=med(r["rps"] for r in runs), p99_ms=med(r["p99_ms"] for r in runs),
                rss_kb=med(r["rss_kb"] for r in runs),
                noise_pct=max(r["noise_pct"] for r in runs),
                server_cpu_pct=med(r["server_cpu_pct"] for r in runs),
                cpu_us_per_req=med(r.get("cpu_us_per_req") for r in runs),
                errors=sum(r["errors"] + r["non2xx"] for r in runs),
                rss_per_conn_bytes=med(r.get("rss_per_conn_bytes") for r in runs),
                held=min((r["opened"] for r in runs if "opened" in r), default=None),
                alive=min((r["alive_after"] or 0 for r in runs if "opened" in r), default=None),
                rounds=len(runs))
    return summary


def ref_of(cfg, summary):
    """The Spawning config a server is compared with (None for Spawning itself)."""
    ref = cfg["ref"]
    if ref == "spawning-green" and ref not in summary:
        ref = "spawning-t4"
    return ref


def ratio(a, b):
    return a / b if a and b else None


# ---------------------------------------------------------------- targets

# (label, scenario, Spawning config, peer, lower bound, upper bound): ratios of
# median req/s.
TARGETS = [
    ("hello keep-alive: Spawning 1 process vs uWSGI --http-socket 1 process",
     "hello", "spawning-t1", "uwsgi-t1", 3.5, None),
    ("hello keep-alive: Spawning 1 process vs uWSGI --http11-socket 1 process (info)",
     "hello", "spawning-t1", "uwsgi-http11-t1", None, None),
    ("hello keep-alive: Spawning --threads 1, access log off, vs nginx 1 worker (no log)",
     "hello", "spawning-t1-nolog", "nginx-1w", 1.2, None),
    ("hello keep-alive: Spawning --threads 1 (access log to stdout) vs nginx 1 worker (info)",
     "hello", "spawning-t1", "nginx-1w", None, None),
    ("hello keep-alive: Spawning green (--threads 0) vs gunicorn gevent (info)",
     "hello", "spawning-green", "gunicorn-gevent", None, None),
    ("Connection: close: Spawning vs uWSGI --http-socket",
     "close", "spawning-t1", "uwsgi-t1", 1.0, None),
    ("hello keep-alive: Spawning 2 processes (--threads 1) vs nginx 2 workers",
     "hello2p", "spawning-p2-t1", "nginx-2w", 0.8, None),
    ("hello keep-alive: Spawning 2 processes (--threads 4) vs nginx 2 workers",
     "hello2p", "spawning-p2-t4", "nginx-2w", 0.8, None),
    ("hello keep-alive: Spawning --threads 4 vs --threads 1",
     "hello", "spawning-t4", "spawning-t1", 0.95, None),
    ("hello keep-alive: Spawning green (--threads 0) vs --threads 1",
     "hello", "spawning-green", "spawning-t1", 0.70, None),
    ("hello over TLS, keep-alive: Spawning --threads 1 vs nginx 1 worker",
     "tls", "spawning-tls-t1", "nginx-tls-1w", 0.8, None),
    ("TLS handshakes (a new connection per request): Spawning vs nginx 1 worker (info)",
     "tlsnew", "spawning-tls-t1", "nginx-tls-1w", None, None),
    ("hello keep-alive: Spawning --threads 1 with an access log file vs without",
     "hello", "spawning-t1-accesslog", "spawning-t1", 0.80, None),
]

# (label, scenario, Spawning config, summary field, upper bound): absolute limits.
LIMITS = [
    ("idle keep-alive connection in green mode: bytes of RSS each (of 10,000 held)",
     "idle10k", "spawning-green", "rss_per_conn_bytes", 1024),
]


def targets(results, summary):
    out = []
    for label, scen, a, b, lo, hi in TARGETS:
        sa, sb = summary.get(a, {}).get(scen), summary.get(b, {}).get(scen)
        if not sa or not sb:
            continue
        r = ratio(sa["rps"], sb["rps"])
        by_round = {x["round"]: x["rps"] for x in results[b][scen]}
        per_round = [round(ratio(x["rps"], by_round.get(x["round"])) or 0, 2)
                     for x in results[a][scen]]
        ok = None
        if lo is not None and r is not None:
            ok = r >= lo and (hi is None or r <= hi)
        out.append(dict(target=label, scenario=scen, a=a, b=b, ratio=r, per_round=per_round,
                        min=lo, max=hi, met=ok))
    for label, scen, a, field, hi in LIMITS:
        sa = summary.get(a, {}).get(scen)
        if not sa or sa.get(field) is None:
            continue
        per_round = [x.get(field) for x in results[a][scen]]
        out.append(dict(target=label, scenario=scen, a=a, b=None, value=sa[field],
                        per_round=per_round, max=hi, met=sa[field] <= hi))
    return out


# ---------------------------------------------------------------- output

def fmt(v, spec, width):
    if isinstance(v, str):
        return v.rjust(width)
    return format(v, spec).rjust(width) if v is not None else "-".rjust(width)


def print_table(configs, summary, notes):
    print("\nmedians over the rounds. x > 1 means Spawning is better (its req/s / the peer's;"
          " the peer's p99 or RSS / Spawning's), against the Spawning config in [ref].\n"
          "cpu%%: the server's CPU (100 = one core); noise%%: the most the rest of the machine"
          " used in any round (!: over %.0f%%, those numbers are suspect);\n"
          "cpu us/r: the server's CPU microseconds per answered request (all its processes)\n"
          % NOISE_WARN)
    for scen, sc in SCENARIOS.items():
        rows = [c for c in configs if scen in summary.get(c["name"], {})]
        if not rows:
            continue
        idle = sc.get("idle")
        print("%s: %s" % (scen, sc["desc"]))
        head = "  %-20s %10s %7s %9s %7s %8s %6s %7s %5s %6s" % (
            "server", "req/s", "x", "p99 ms", "x", "RSS MiB", "x", "errors", "cpu%", "noise%")
        head += " %8s" % "cpu us/r"
        if idle:
            head += " %11s %9s %6s" % ("held/alive", "B/conn", "x")
        print(head + "  [ref]")
        for cfg in rows:
            print(table_row(cfg, scen, summary, idle))
        print()
    for n in notes:
        print("note: " + n)


def table_row(cfg, scen, summary, idle):
    s = summary[cfg["name"]][scen]
    ref = ref_of(cfg, summary)
    r = summary.get(ref, {}).get(scen) if ref else None

    def x(field, spawning_first):
        if not ref:
            return "ref"
        if not r:
            return None
        return ratio(r[field], s[field]) if spawning_first else ratio(s[field], r[field])
    line = "  %-20s %10s %7s %9s %7s %8s %6s %7d %5.0f %5.0f%s" % (
        cfg["name"], fmt(s["rps"], ",.0f", 10), fmt(x("rps", True), ".2f", 7),
        fmt(s["p99_ms"], ".2f", 9), fmt(x("p99_ms", False), ".2f", 7),
        fmt(s["rss_kb"] and s["rss_kb"] / 1024.0, ".1f", 8),
        fmt(x("rss_kb", False), ".2f", 6), s["errors"], s["server_cpu_pct"], s["noise_pct"],
        "!" if s["noise_pct"] > NOISE_WARN else " ")
    line += " %8s" % fmt(s.get("cpu_us_per_req"), ".1f", 8)
    if idle:
        line += " %11s %9s %6s" % ("%s/%s" % (s["held"], s["alive"]),
                                   fmt(s["rss_per_conn_bytes"], ",.0f", 9),
                                   fmt(x("rss_per_conn_bytes", False), ".2f", 6))
    return line + "  [%s]" % (ref or "-")


def print_targets(tgts):
    print("\ntargets (ratio of median req/s; per round in brackets)")
    for t in tgts:
        verdict = {True: "MET", False: "NOT MET", None: "info"}[t["met"]]
        if "value" in t:
            print("  %-78s %6s  %-16s %-8s %s" % (
                t["target"], fmt(t["value"], ".0f", 6), "<= %d" % t["max"], verdict,
                t["per_round"]))
            continue
        bound = ">= %.2f" % t["min"] if t["min"] is not None else ""
        if t["max"] is not None:
            bound += " and <= %.2f" % t["max"]
        print("  %-78s %6s  %-16s %-8s %s" % (
            t["target"], fmt(t["ratio"], ".2f", 6), bound, verdict, t["per_round"]))


def write_chart(configs, summary, path):
    """A PNG with one bar panel per scenario (gnuplot); returns an error or None."""
    if not shutil.which("gnuplot"):
        return "gnuplot not installed"
    datadir = os.path.join(OUT, "chart")
    os.makedirs(datadir, exist_ok=True)
    panels = []
    for scen, sc in SCENARIOS.items():
        panels.append((scen, "req/s: " + sc["desc"], "rps", 1.0))
        if sc.get("idle") == 10000:
            panels.append((scen + "-conn", "RSS per idle connection, bytes (10,000 held)",
                           "rss_per_conn_bytes", 1.0))
    script = ['set terminal pngcairo size 1900,1000 font "DejaVu Sans,9"',
              'set output "%s"' % path, "set style fill solid 0.85 border -1",
              "set boxwidth 0.7", "set xtics rotate by 35 right nomirror",
              "set grid ytics", "set key off", "set yrange [0:*]", "set format y \"%.1s%c\"",
              "set multiplot layout 2,4 title \"Spawning vs peers (medians, same run)\""]
    for key, title, field, _ in panels:
        scen = key.split("-")[0]
        rows = [(c["name"], summary[c["name"]][scen][field]) for c in configs
                if scen in summary.get(c["name"], {})
                and summary[c["name"]][scen][field] is not None]
        if not rows:
            continue
        data = os.path.join(datadir, key + ".dat")
        with open(data, "w") as f:
            for name, v in rows:
                color = "0x1f77b4" if name.startswith("spawning") else (
                    "0x7f7f7f" if name.startswith("nginx") else "0xff7f0e")
                f.write('"%s" %f %s\n' % (name, v, color))
        script.append('set title "%s"' % title.replace('"', "'"))
        script.append('plot "%s" using 0:2:3:xtic(1) with boxes lc rgb variable' % data)
    script.append("unset multiplot")
    res = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True,
                         capture_output=True, timeout=60)
    return res.stderr.strip()[-300:] if res.returncode else None


def versions():
    def first(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None
    cpu = None
    with open("/proc/cpuinfo") as f:
        m = re.search(r"model name\s*:\s*(.*)", f.read())
        cpu = m.group(1) if m else None
    git = first(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    if git and git.startswith("fatal"):
        git = None
    return dict(spawning=first([os.path.join(BUILD, "spawning"), "--version"]),
                git=git, gunicorn=first(["/usr/bin/gunicorn", "--version"]),
                uwsgi=first(["/usr/bin/uwsgi", "--version"]),
                nginx=first(["/usr/sbin/nginx", "-v"]), wrk=first(["wrk", "-v"]),
                python=platform.python_version(), kernel=platform.release(),
                cpu=cpu, cpus=os.cpu_count())


# ---------------------------------------------------------------- main

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=4, help="seconds per wrk run (4)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds over all servers (3)")
    ap.add_argument("--warmup", type=float, default=1, help="seconds of wrk before measuring (1)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 round of 1 s runs, 0.25 s warm-up")
    ap.add_argument("--only", action="append", default=[], metavar="SCENARIO",
                    help="run only these scenarios: %s" % ", ".join(SCENARIOS))
    ap.add_argument("--servers", action="append", default=[], metavar="NAME",
                    help="run only these servers: %s" % ", ".join(c["name"] for c in SERVERS))
    args = ap.parse_args()
    if args.quick:
        args.duration, args.rounds, args.warmup = 1, 1, 0.25
    if args.duration <= 0 or not 1 <= args.rounds <= 50:
        ap.error("--duration must be > 0 and --rounds between 1 and 50")
    if args.duration == int(args.duration):
        args.duration = int(args.duration)
    return args


def preflight(configs, notes, tmpdir):
    """Drop what cannot run here; returns the configs to run."""
    need = {"spawning": os.path.join(BUILD, "spawning"), "wrk": "/usr/bin/wrk",
            "gunicorn": "/usr/bin/gunicorn", "uwsgi": "/usr/bin/uwsgi",
            "nginx": "/usr/sbin/nginx"}
    missing = [k for k, p in need.items() if not os.access(p, os.X_OK)]
    if "spawning" in missing or "wrk" in missing:
        sys.exit("missing %s: run `make bench`" % ", ".join(missing))
    keep = []
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    green_why = None
    if any(c["name"] == "spawning-green" for c in configs):
        green_why = probe_green(tmpdir)
    for cfg in configs:
        if any(cfg["kind"].startswith(m) for m in missing):
            notes.append("%s skipped: %s not installed" % (cfg["name"], cfg["kind"]))
            continue
        if cfg["name"] == "spawning-green" and green_why:
            notes.append("spawning-green skipped: `spawning --threads 0` does not serve yet (%s);"
                         " gunicorn-gevent is compared with spawning-t4 meanwhile" % green_why)
            continue
        if nofile < 10000 + 1024 and "idle10k" in cfg["scenarios"]:
            cfg["scenarios"].remove("idle10k")
            notes.append("%s: idle10k skipped, RLIMIT_NOFILE is only %d" % (cfg["name"], nofile))
        keep.append(cfg)
    for cfg in keep:
        skipped = [s for s in ("idle1k", "idle10k") if s not in cfg["scenarios"]
                   and s in ALL_P1 and cfg["procs"] == 1 and cfg["note"] == BLOCKING_NOTE]
        if skipped:
            notes.append("%s: %s not run: %s" % (cfg["name"], ", ".join(skipped), cfg["note"]))
        elif cfg["note"] and cfg["note"] != BLOCKING_NOTE:
            notes.append("%s: %s" % (cfg["name"], cfg["note"]))
    if any(c["kind"] == "uwsgi" for c in keep):
        notes.append("uWSGI --http-socket closes the connection after every response (HTTP/1.0 "
                     "style) even when the client asked for keep-alive; wrk counts each such "
                     "close as a read error and reconnects, so its `errors` are not failures")
    return keep


def main():
    args = parse_args()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # even if inherited as ignored
        signal.signal(sig, on_signal)
    os.makedirs(os.path.join(OUT, "logs"), exist_ok=True)
    nofile = raise_nofile()
    notes, problems, results = [], [], {}
    tmpdir = tempfile.mkdtemp(prefix="spawning-bench-")
    t0 = time.monotonic()
    try:
        configs = preflight(plan(args), notes, tmpdir)
        log("bench: %d server configs, %d round(s) of %s s runs, RLIMIT_NOFILE %d" %
            (len(configs), args.rounds, args.duration, nofile))
        for rnd in range(1, args.rounds + 1):
            run_round(rnd, configs, args, results, problems, tmpdir)
    except (KeyboardInterrupt, Abort) as e:
        log("bench: interrupted (%s); stopping everything" % (e or "Ctrl-C"))
        cleanup_all()
        shutil.rmtree(tmpdir, ignore_errors=True)
        return 130
    finally:
        cleanup_all()
        shutil.rmtree(tmpdir, ignore_errors=True)
    return report(args, configs, results, problems, notes, nofile, time.monotonic() - t0)


def report(args, configs, results, problems, notes, nofile, elapsed):
    summary = summarize(results)
    tgts = targets(results, summary)
    print_table(configs, summary, notes)
    print_targets(tgts)
    if problems:
        print("\nproblems seen:")
        for p in problems:
            print("  %s round %s: %s" % (p["server"], p["round"], p["problem"]))
    png = os.path.join(OUT, "results.png")
    err = write_chart(configs, summary, png)
    if err:
        print("chart: %s" % err)
    else:
        shutil.copyfile(png, os.path.join(HERE, "results.png"))
    doc = dict(meta=dict(args=vars(args), connections=CONNECTIONS, rlimit_nofile=nofile,
                         elapsed_seconds=round(elapsed, 1),
                         date=time.strftime("%Y-%m-%d %H:%M:%S %z"), versions=versions()),
               servers={c["name"]: {k: c[k] for k in ("kind", "procs", "threads", "ref")}
                        for c in configs},
               scenarios={k: v["desc"] for k, v in SCENARIOS.items()},
               summary=summary, targets=tgts, notes=notes, problems=problems, runs=results)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(doc, f, indent=1)
    print("\nwrote %s, %s%s (%.0f s)" % (
        os.path.relpath(os.path.join(OUT, "results.json"), ROOT),
        os.path.relpath(png, ROOT), "" if err else " and tests/bench/results.png", elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
