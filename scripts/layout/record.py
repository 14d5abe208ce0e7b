#!/usr/bin/env python3
"""Records which functions `gatehouse serve` runs into layout/serve-functions.txt.

The release link (build.rs) hands that list to the linker (`--symbol-ordering-file`), which
places those functions first and together in the executable's code. A serving process then
touches a few contiguous megabytes of code instead of pages spread over all of it: the kernel
maps code in 64 KiB windows around each fault, so scattered hot code costs resident memory
(docs/benchmarks.md, idle RSS). See docs/architecture.md for why a recorded list.

How: the release binary runs under valgrind's callgrind, which counts the instructions of every
function that runs (on SQLite, and on PostgreSQL when --postgres names a server), while a client
drives the serving paths: discovery, JWKS, client_credentials with RS256 and ES256, introspection,
code flows with login and consent, refresh rotation, userinfo, revocation, health and common
errors. Start-up (to the first discovery answer) is dumped apart from serving. The list holds
start-up's functions first, then serving's, each split into those every backend ran and those
one backend ran, most instructions first in each group; only functions of the binary itself.

    cargo build --release --locked --bin gatehouse
    python3 scripts/layout/record.py --postgres postgres://postgres@127.0.0.1:5432/postgres
    cargo build --release --locked --bin gatehouse

Needs valgrind and python3 with requests; about a minute. Without --postgres (or
GATEHOUSE_BENCH_POSTGRES) it records SQLite only. Rerun it after large changes: a function
missing from the list is only placed among the cold code, never wrong.
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "bench"))
from driver import Server, code_flow, create_clients, free_port  # noqa: E402

HEADER = """\
# Functions of `gatehouse serve`, start-up's first, recorded by scripts/layout/record.py.
# build.rs passes this file to the linker (--symbol-ordering-file) for release builds: the
# listed functions are laid out first and together. Regenerate, do not edit by hand.
"""


def parse_callgrind(path, binary):
    """Instructions per function (self cost) of the functions in `binary`, from one callgrind
    output file in its compressed format."""
    names = {"ob": {}, "fn": {}}
    cost = collections.Counter()
    ob = fn = None
    skip_next = False
    binary = os.path.realpath(binary)
    spec = re.compile(r"^(c?)(ob|fn|fl|fi|fe)=(?:\((\d+)\))?\s*(.*)$")
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = spec.match(line)
            if m:
                callee, kind, ident, name = m.groups()
                if kind in ("ob", "fn"):
                    table = names[kind]
                    if ident is not None and name:
                        table[ident] = name
                    value = table.get(ident, name) if ident is not None else name
                    if not callee:
                        if kind == "ob":
                            ob = value
                        else:
                            fn = value
                continue
            if line.startswith("calls="):
                skip_next = True
                continue
            if line and (line[0].isdigit() or line[0] in "+-*"):
                if skip_next:
                    skip_next = False
                    continue
                parts = line.split()
                if len(parts) >= 2 and ob and fn and os.path.realpath(ob) == binary:
                    cost[fn] += int(parts[1])
                continue
            skip_next = False
    return cost


def train(base, clients):
    """One pass over the serving paths, as clients use them."""
    meta = requests.get(base + "/.well-known/openid-configuration", timeout=60).json()
    for _ in range(3):
        requests.get(base + "/.well-known/openid-configuration", timeout=60).raise_for_status()
        requests.get(meta["jwks_uri"], timeout=60).raise_for_status()
        requests.get(base + "/health/ready", timeout=60)
        requests.get(base + "/health/live", timeout=60)
    tokens = []
    for alg in ("RS256", "ES256"):
        cid, secret = clients[alg]
        for _ in range(5):
            r = requests.post(meta["token_endpoint"], data={"grant_type": "client_credentials"},
                              auth=(cid, secret), timeout=60)
            r.raise_for_status()
            tokens.append(r.json()["access_token"])
    cid, secret = clients["RS256"]
    for tok in tokens[:3] + tokens[-3:] + ["not-a-token"]:
        requests.post(meta["introspection_endpoint"], data={"token": tok},
                      auth=(cid, secret), timeout=60).raise_for_status()
    # Common refusals: a wrong secret, an unknown grant, a missing parameter.
    requests.post(meta["token_endpoint"], data={"grant_type": "client_credentials"},
                  auth=(cid, "wrong"), timeout=60)
    requests.post(meta["token_endpoint"], data={"grant_type": "password"},
                  auth=(cid, secret), timeout=60)
    requests.post(meta["token_endpoint"], data={}, auth=(cid, secret), timeout=60)
    rp_id, rp_secret = clients["rp"]
    for _ in range(3):
        t = code_flow(meta, rp_id, rp_secret, "openid offline_access")
        refresh = t["refresh_token"]
        for _ in range(3):
            r = requests.post(meta["token_endpoint"], auth=(rp_id, rp_secret), timeout=60,
                              data={"grant_type": "refresh_token", "refresh_token": refresh})
            r.raise_for_status()
            refresh = r.json()["refresh_token"]
        for _ in range(3):
            requests.get(meta["userinfo_endpoint"], timeout=60,
                         headers={"Authorization": "Bearer " + t["access_token"]})
        requests.post(meta["introspection_endpoint"], data={"token": refresh},
                      auth=(rp_id, rp_secret), timeout=60)
        if "revocation_endpoint" in meta:
            requests.post(meta["revocation_endpoint"], data={"token": refresh},
                          auth=(rp_id, rp_secret), timeout=60)
    requests.get(meta["authorization_endpoint"] + "?client_id=nobody&response_type=code",
                 timeout=60, allow_redirects=False)


def record(args, db_url, work):
    """Runs the server on `db_url` under callgrind through `train`: its function costs."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, GATEHOUSE_DATABASE_URL=db_url, GATEHOUSE_LISTEN=f"127.0.0.1:{port}",
               GATEHOUSE_ISSUER=base, GATEHOUSE_LOG="warn")
    cli = argparse.Namespace(gatehouse=args.binary, work=work)
    # The first start (not recorded) migrates and generates keys; the recorded one finds them.
    first = Server("gatehouse", [args.binary, "serve"], env, work)
    first.start(base, "/health/ready")
    first.stop()
    clients = create_clients(cli, env)
    out = os.path.join(work, f"callgrind.{port}.out")
    server = Server("gatehouse under callgrind", ["valgrind", "--tool=callgrind", "--demangle=no",
                    f"--callgrind-out-file={out}", args.binary, "serve"], env, work)
    try:
        server.start(base, "/health/ready", timeout=300)
        # Start-up and a first request, dumped on their own: they are laid out first, so
        # that an idle server holds only their pages.
        requests.get(base + "/.well-known/openid-configuration", timeout=60).raise_for_status()
        time.sleep(1)
        # callgrind takes the command only while the program runs: health checks keep it
        # running until the dump is written.
        dump = subprocess.Popen(["callgrind_control", "--dump=start-up", str(server.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while dump.poll() is None or not os.path.exists(out + ".1"):
            requests.get(base + "/health/live", timeout=60)
            time.sleep(0.05)
        if dump.returncode != 0:
            raise RuntimeError("callgrind_control could not dump")
        train(base, clients)
    finally:
        # The last dump is written at exit: give it time.
        server.stop(grace=300)
    # The dump on demand is out.1; the one at exit, out itself.
    return [parse_callgrind(d, args.binary) for d in (out + ".1", out)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "gatehouse"))
    p.add_argument("--out", default=os.path.join(ROOT, "layout", "serve-functions.txt"))
    p.add_argument("--postgres", default=os.environ.get("GATEHOUSE_BENCH_POSTGRES"),
                   help="admin URL of a PostgreSQL server; a database is created and dropped")
    args = p.parse_args()
    runs = {}
    with tempfile.TemporaryDirectory() as work:
        runs["sqlite"] = record(args, f"sqlite://{work}/layout.db?mode=rwc", work)
        if args.postgres:
            db = f"gatehouse_layout_{os.getpid()}"
            subprocess.run(["psql", args.postgres, "-qc", f"CREATE DATABASE {db}"], check=True)
            try:
                runs["postgres"] = record(args, args.postgres.rsplit("/", 1)[0] + "/" + db, work)
            finally:
                subprocess.run(["psql", args.postgres, "-qc", f"DROP DATABASE IF EXISTS {db}"])
    # Per function: its instructions, and the phases and backends it ran in. callgrind marks
    # a recursion level as name'N; the linker needs the symbol itself.
    cost, seen = collections.Counter(), collections.defaultdict(set)
    for backend, phases in runs.items():
        for phase, counts in zip(("start", "serve"), phases):
            for name, n in counts.items():
                if not name.startswith(("0x", "(")):
                    name = re.sub(r"'\d+$", "", name)
                    cost[name] += n
                    seen[name].add((phase, backend))
    # Groups, each hottest first: start-up on every backend, start-up on one backend (in the
    # order of `runs`), then serving likewise. An idle server holds its start-up groups only.
    groups = []
    for phase in ("start", "serve"):
        groups.append(lambda s, p=phase: {b for (q, b) in s if q == p} == set(runs))
        for backend in runs:
            groups.append(lambda s, p=phase, b=backend: (p, b) in s and not any(
                q == p and c != b for (q, c) in s))
    ordered, placed = [], set()
    for i, member in enumerate(groups):
        group = [n for n in cost if n not in placed and member(seen[n])]
        placed.update(group)
        ordered += sorted(group, key=lambda n: (-cost[n], n))
        print(f"group {i}: {len(group)} functions", flush=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(HEADER)
        f.writelines(name + "\n" for name in ordered)
    print(f"{len(ordered)} functions written to {args.out}")


if __name__ == "__main__":
    main()
