#!/usr/bin/env python3
"""The measuring half of scripts/bench/compare.sh (run it through that script).

Starts node-oidc-provider and Gatehouse (SQLite, then PostgreSQL) one after the other on free
loopback ports, runs the same scenarios against each with oha (load) or a sequential client
(flows that change state), reads each server's CPU time and memory from /proc, and writes a
table of ratios between the COMPARE markers of the output file.
"""

import argparse
import base64
import datetime
import hashlib
import html
import json
import os
import platform
import re
import secrets
import signal
import socket
import statistics
import subprocess
import time
import urllib.parse

import requests

REDIRECT = "http://127.0.0.1/cb"
PASSWORD = "bench-password-1234"
BEGIN, END = "<!-- COMPARE:BEGIN -->", "<!-- COMPARE:END -->"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """User + system CPU seconds of a process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def thread_cpu_ns(pid):
    """Nanoseconds on CPU of each live thread of a process, exact (the scheduler's own count,
    where /proc/PID/stat rounds to clock ticks): for short windows such as one redemption."""
    times = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                times[tid] = int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return times


def cpu_ns_between(before, after):
    """CPU nanoseconds spent between two `thread_cpu_ns` readings by the threads alive at the
    second. A thread that exits in between takes its count with it (a plain sum would then go
    down, even below zero); its work in the window is lost instead, which is rare and small:
    idle pool threads exit, busy ones do not."""
    return sum(ns - before.get(tid, 0) for tid, ns in after.items())


def memory_mib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def pin(pid, cpus):
    subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], check=True,
                   stdout=subprocess.DEVNULL)


OPENSSL_TESTS = {"RS256": "rsa2048", "ES256": "ecdsap256"}


def openssl_rates(algs=("RS256", "ES256"), seconds=3):
    """Single-core sign rates (RSA-2048, ECDSA P-256) of `openssl speed` on core 0."""
    tests = [OPENSSL_TESTS[a] for a in algs]
    out = subprocess.run(["taskset", "-c", "0", "openssl", "speed", "-seconds", str(seconds),
                          *tests], capture_output=True, text=True, check=True).stdout
    rates = {}
    for line in out.splitlines():
        if line.startswith("rsa 2048 bits"):
            rates["RS256"] = float(line.split()[-2])
        elif "ecdsa (nistp256)" in line:
            rates["ES256"] = float(line.split()[-2])
    return rates


def oha_json_flag():
    helptext = subprocess.run(["oha", "--help"], capture_output=True, text=True).stdout
    return ["--output-format", "json"] if "--output-format" in helptext else ["--json"]


class Server:
    """A server process under measurement."""

    def __init__(self, name, argv, env, cwd):
        self.name, self.argv, self.env, self.cwd = name, argv, env, cwd
        self.proc = None

    def start(self, base, ready_path, timeout=60):
        started = time.monotonic()
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = started + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(base + ready_path, timeout=1).status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.005)
        raise RuntimeError(f"{self.name} did not start")

    def stop(self, grace=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def start_timed(self, base, ready_path, times=3):
        """Starts the server `times` times (stopping all but the last); the median time to
        the first 200 of `ready_path`."""
        took = []
        for i in range(times):
            took.append(self.start(base, ready_path))
            if i < times - 1:
                self.stop()
        return statistics.median(took)

    @property
    def pid(self):
        return self.proc.pid


class Bench:
    def __init__(self, args):
        self.args = args
        self.json_flag = oha_json_flag()

    def load(self, server, url, method="GET", headers=(), body=None, pinned=False):
        """oha against url: requests/s, server CPU ms per request, error count."""
        cmd = ["oha", "--no-tui", "-z", f"{self.args.duration}s", "-c",
               str(self.args.connections), "-m", method, *self.json_flag]
        for h in headers:
            cmd += ["-H", h]
        if body is not None:
            cmd += ["-d", body]
        cmd.append(url)
        if pinned:
            pin(server.pid, "0")
            cmd = ["taskset", "-c", "1", *cmd]
        cpu0 = cpu_seconds(server.pid)
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        cpu = cpu_seconds(server.pid) - cpu0
        if pinned:
            pin(server.pid, "0-%d" % (os.cpu_count() - 1))
        result = json.loads(out)
        codes = result.get("statusCodeDistribution", {})
        total = sum(codes.values())
        ok = sum(n for code, n in codes.items() if str(code).startswith("2"))
        rps = result["summary"]["requestsPerSec"] * (ok / total if total else 0)
        return {"rps": rps, "cpu_ms": 1000 * cpu / ok if ok else None, "errors": total - ok,
                "per_cpu_s": ok / cpu if cpu else None}

    def sequential(self, server, n, step):
        """Runs `step` n times; server CPU ms per step and steps per second."""
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        for _ in range(n):
            step()
        cpu, wall = cpu_seconds(server.pid) - cpu0, time.monotonic() - t0
        return {"rps": n / wall, "cpu_ms": 1000 * cpu / n, "errors": 0,
                "per_cpu_s": n / cpu if cpu else None}


def form_fields(page):
    """The action and hidden fields of the first form of a page."""
    action = re.search(r'<form[^>]*action="([^"]*)"', page).group(1)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    return html.unescape(action), {k: html.unescape(v) for k, v in fields}


def redeem(meta, client_id, secret, location, verifier):
    code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    t = requests.post(meta["token_endpoint"], data=form, auth=(client_id, secret))
    t.raise_for_status()
    return t.json()


def code_flow(meta, client_id, secret, scope, redeem=redeem):
    """Authorization request, login, consent, code redemption with PKCE: the token response.
    `redeem` (same arguments as the function of that name) lets a caller time the redemption."""
    s = requests.Session()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
              "scope": scope, "state": secrets.token_urlsafe(8), "prompt": "consent",
              "code_challenge": challenge.decode(), "code_challenge_method": "S256"}
    r = s.get(meta["authorization_endpoint"] + "?" + urllib.parse.urlencode(params),
              allow_redirects=False)
    for _ in range(20):
        if r.status_code in (302, 303):
            loc = urllib.parse.urljoin(r.url, r.headers["location"])
            if loc.startswith(REDIRECT):
                return redeem(meta, client_id, secret, loc, verifier)
            r = s.get(loc, allow_redirects=False)
            continue
        if r.status_code != 200:
            raise RuntimeError(f"flow stuck at {r.url}: {r.status_code}")
        action, fields = form_fields(r.text)
        if 'name="password"' in r.text:
            user_field = "username" if 'name="username"' in r.text else "login"
            fields.update({user_field: "bench", "password": PASSWORD})
        elif 'name="decision"' in r.text:
            fields["decision"] = "allow"
        r = s.post(urllib.parse.urljoin(r.url, action), data=fields, allow_redirects=False)
    raise RuntimeError("code flow did not finish")


def basic(client_id, secret):
    return "Authorization: Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


FORM = "Content-Type: application/x-www-form-urlencoded"


def scenarios(bench, server, base, clients, label):
    """Every scenario against one running server; `clients` names its clients."""
    meta = requests.get(base + "/.well-known/openid-configuration").json()
    res = {"idle_rss": memory_mib(server.pid, "VmRSS"),
           "idle_anon": memory_mib(server.pid, "RssAnon")}
    res["discovery"] = bench.load(server, base + "/.well-known/openid-configuration")
    res["jwks"] = bench.load(server, meta["jwks_uri"])
    for alg in ("RS256", "ES256"):
        cid, secret = clients[alg]
        hdr = [basic(cid, secret), FORM]
        for pinned in (False, True):
            key = f"token {alg}" + (" pinned" if pinned else "")
            # This machine's speed drifts within minutes: a pinned load is compared with
            # openssl on the same core right before and right after it.
            before = openssl_rates([alg], 2)[alg] if pinned else None
            res[key] = bench.load(server, meta["token_endpoint"], "POST", hdr,
                                  "grant_type=client_credentials", pinned)
            if pinned:
                res[key]["openssl"] = (before, openssl_rates([alg], 2)[alg])
    res["peak_rss"] = memory_mib(server.pid, "VmHWM")
    res["load_anon"] = memory_mib(server.pid, "RssAnon")
    cid, secret = clients["introspected"]
    tok = requests.post(meta["token_endpoint"], data={"grant_type": "client_credentials"},
                        auth=(cid, secret)).json()["access_token"]
    rs_id, rs_secret = clients["RS256"]
    res["introspection"] = bench.load(server, meta["introspection_endpoint"], "POST",
                                      [basic(rs_id, rs_secret), FORM], f"token={tok}")
    rp_id, rp_secret = clients["rp"]
    redemptions = []

    def timed_redeem(*a):
        # The consent's audit events commit up to 10 ms after its answer: not the redemption's.
        time.sleep(0.03)
        before = thread_cpu_ns(server.pid)
        tokens = redeem(*a)
        # Gatehouse's audit writer commits up to 10 ms after the answer: its work counts too.
        time.sleep(0.03)
        redemptions.append(cpu_ns_between(before, thread_cpu_ns(server.pid)))
        return tokens

    flows = bench.sequential(server, 20, lambda: code_flow(meta, rp_id, rp_secret,
                                                           "openid offline_access",
                                                           timed_redeem))
    res["code flow"] = flows
    # The redemption alone (the token request of each flow above): CPU only, flows are sequential.
    res["code redemption"] = {"rps": None, "errors": 0, "per_cpu_s": None,
                              "cpu_ms": statistics.mean(redemptions) / 1e6}
    tokens = code_flow(meta, rp_id, rp_secret, "openid offline_access")
    state = {"refresh": tokens["refresh_token"]}

    def refresh():
        r = requests.post(meta["token_endpoint"], auth=(rp_id, rp_secret),
                          data={"grant_type": "refresh_token", "refresh_token": state["refresh"]})
        r.raise_for_status()
        state["refresh"] = r.json()["refresh_token"]

    res["refresh rotation"] = bench.sequential(server, 200, refresh)
    res["userinfo"] = bench.load(server, meta["userinfo_endpoint"], "GET",
                                 ["Authorization: Bearer " + tokens["access_token"]])
    print(f"{label}: done", flush=True)
    return res


def run_peer(bench, args):
    port, secret = free_port(), secrets.token_urlsafe(24)
    env = dict(os.environ, PORT=str(port), PEER_SECRET=secret, NODE_ENV="production")
    server = Server("node-oidc-provider", ["node", "provider.mjs"], env, args.peer)
    base = f"http://127.0.0.1:{port}"
    startup = server.start_timed(base, "/.well-known/openid-configuration")
    time.sleep(1)
    try:
        clients = {"RS256": ("cc-rs256", secret), "ES256": ("cc-es256", secret),
                   "introspected": ("cc-opaque", secret), "rp": ("rp", secret)}
        res = scenarios(bench, server, base, clients, "node-oidc-provider")
    finally:
        server.stop()
    res["startup"] = startup
    return res


def gatehouse_cli(args, env, *argv, stdin=None):
    out = subprocess.run([args.gatehouse, *argv, "--json"], env=env, cwd=args.work, input=stdin,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def create_clients(args, env):
    """The scenarios' clients and user, made with the CLI: {role: (client_id, secret)}."""
    clients = {}
    for alg in ("RS256", "ES256"):
        c = gatehouse_cli(args, env, "client", "create", "--name", f"cc {alg}", "--grant-type",
                          "client_credentials", "--scope", "api:read", "--access-token-alg", alg)
        clients[alg] = (c["client_id"], c["client_secret"])
    clients["introspected"] = clients["RS256"]
    c = gatehouse_cli(args, env, "client", "create", "--name", "rp", "--redirect-uri", REDIRECT,
                      "--scope", "openid offline_access")
    clients["rp"] = (c["client_id"], c["client_secret"])
    gatehouse_cli(args, env, "user", "create", "--username", "bench", "--password-stdin",
                  stdin=PASSWORD + "\n")
    return clients


def run_gatehouse(bench, args, db_url, label):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, GATEHOUSE_DATABASE_URL=db_url, GATEHOUSE_LISTEN=f"127.0.0.1:{port}",
               GATEHOUSE_ISSUER=base, GATEHOUSE_LOG="warn")
    server = Server(label, [args.gatehouse, "serve"], env, args.work)
    server.start(base, "/health/ready")
    server.stop()
    clients = create_clients(args, env)
    # Start-up with existing keys, to the first discovery answer.
    startup = server.start_timed(base, "/.well-known/openid-configuration")
    time.sleep(1)
    try:
        res = scenarios(bench, server, base, clients, label)
    finally:
        server.stop()
    res["startup"] = startup
    return res


def fmt(v, digits=0):
    if v is None:
        return "—"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "—"


LOAD_ROWS = ["discovery", "jwks", "token RS256", "token RS256 pinned", "token ES256",
             "token ES256 pinned", "introspection", "userinfo", "refresh rotation", "code flow",
             "code redemption"]


def table(results, rates, args, load):
    peer, sq, pg = results["peer"], results["sqlite"], results["postgres"]
    lines = [BEGIN, "",
             f"Run of `scripts/bench/compare.sh` on {datetime.date.today()}: {platform.node()}, "
             f"{os.cpu_count()} CPUs ({cpu_model()}), load average before the run {load}, "
             f"{platform.platform()}; node-oidc-provider {args.peer_version} on Node "
             f"{subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()} "
             f"(in-memory store); Gatehouse release build; oha, {args.connections} connections, "
             f"{args.duration} s per load scenario; `pinned` = server on core 0, oha on core 1. "
             f"`openssl speed` on core 0 at the start of the run: RSA-2048 "
             f"{fmt(rates.get('RS256'))} sign/s, ECDSA P-256 {fmt(rates.get('ES256'))} sign/s "
             f"(each pinned token load is compared with openssl right before and after it).",
             "",
             "| scenario | node-oidc-provider req/s | Gatehouse SQLite req/s | Gatehouse PostgreSQL req/s "
             "| ratio SQLite | ratio PostgreSQL | server CPU ms/req (peer / SQLite / PostgreSQL) |",
             "|---|--:|--:|--:|--:|--:|--:|"]
    for row in LOAD_ROWS:
        p, s, g = peer[row], sq[row], pg[row]
        errors = "" if not (p["errors"] or s["errors"] or g["errors"]) else \
            f" (errors {p['errors']}/{s['errors']}/{g['errors']})"
        lines.append(f"| {row}{errors} | {fmt(p['rps'])} | {fmt(s['rps'])} | {fmt(g['rps'])} | "
                     f"{ratio(s['rps'], p['rps'])} | {ratio(g['rps'], p['rps'])} | "
                     f"{fmt(p['cpu_ms'], 2)} / {fmt(s['cpu_ms'], 2)} / {fmt(g['cpu_ms'], 2)} |")
    lines.append(f"| RSS idle / peak under token load, MiB | {fmt(peer['idle_rss'])} / "
                 f"{fmt(peer['peak_rss'])} | {fmt(sq['idle_rss'])} / {fmt(sq['peak_rss'])} | "
                 f"{fmt(pg['idle_rss'])} / {fmt(pg['peak_rss'])} | | | |")
    lines.append(f"| of which private (anonymous), idle / after token load, MiB | "
                 f"{fmt(peer['idle_anon'])} / {fmt(peer['load_anon'])} | "
                 f"{fmt(sq['idle_anon'])} / {fmt(sq['load_anon'])} | "
                 f"{fmt(pg['idle_anon'])} / {fmt(pg['load_anon'])} | | | |")
    lines.append(f"| start to first discovery 200 (median of 3), ms | {fmt(1000 * peer['startup'])} | "
                 f"{fmt(1000 * sq['startup'])} | {fmt(1000 * pg['startup'])} | | | |")
    lines += ["", "Targets of issue 9 against this run:", ""]
    for name, res in (("SQLite", sq), ("PostgreSQL", pg)):
        for alg in ("RS256", "ES256"):
            load = res[f"token {alg} pinned"]
            pinned, (before, after) = load["rps"], load["openssl"]
            lines.append(f"- {name}, token {alg} pinned: {fmt(pinned)} req/s = "
                         f"{2 * pinned / (before + after):.2f} × openssl's single-core sign rate "
                         f"on the same core around the load ({fmt(before)} before, {fmt(after)} "
                         f"after), {ratio(pinned, peer[f'token {alg} pinned']['rps'])} the peer "
                         f"pinned.")
        lines.append(f"- {name}: token RS256 unpinned {ratio(res['token RS256']['rps'], peer['token RS256']['rps'])} "
                     f"the peer; introspection {ratio(res['introspection']['rps'], peer['introspection']['rps'])} "
                     f"the peer; refresh rotation {fmt(res['refresh rotation']['cpu_ms'], 2)} ms, "
                     f"code redemption {fmt(res['code redemption']['cpu_ms'], 2)} ms (each signs an "
                     f"RS256 access token and an RS256 ID token: "
                     f"{4000 / sum(res['token RS256 pinned']['openssl']):.2f} ms at openssl's "
                     f"rate) and code flow (login with Argon2id, consent, redemption) "
                     f"{fmt(res['code flow']['cpu_ms'], 1)} ms of server CPU; "
                     f"{fmt(res['code flow']['per_cpu_s'], 1)} complete sign-in flows per server "
                     f"CPU-second (Keycloak publishes 15 password logins per vCPU-second).")
    lines += ["", "The peer's development login accepts any password (no hashing), so its code "
              "flow is not a like-for-like comparison of sign-in cost.", "", END]
    return "\n".join(lines)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def write(out, text):
    with open(out) as f:
        doc = f.read()
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + text + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip() + "\n\n## Side by side with node-oidc-provider (`scripts/bench/compare.sh`)\n\n" \
              + text + "\n"
    with open(out, "w") as f:
        f.write(doc)


def main():
    p = argparse.ArgumentParser()
    for a in ("gatehouse", "peer", "peer-version", "work", "postgres", "out"):
        p.add_argument("--" + a, required=True)
    p.add_argument("--duration", type=int, default=8)
    p.add_argument("--connections", type=int, default=32)
    args = p.parse_args()
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    rates = openssl_rates()
    print(f"openssl speed: {rates}", flush=True)
    bench = Bench(args)
    results = {"peer": run_peer(bench, args)}
    results["sqlite"] = run_gatehouse(bench, args,
                                      f"sqlite://{args.work}/bench.db?mode=rwc", "Gatehouse SQLite")
    db = f"gatehouse_bench_{os.getpid()}"
    subprocess.run(["psql", args.postgres, "-qc", f"CREATE DATABASE {db}"], check=True)
    try:
        pg_url = args.postgres.rsplit("/", 1)[0] + "/" + db
        results["postgres"] = run_gatehouse(bench, args, pg_url, "Gatehouse PostgreSQL")
    finally:
        subprocess.run(["psql", args.postgres, "-qc", f"DROP DATABASE IF EXISTS {db}"])
    text = table(results, rates, args, load)
    write(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
