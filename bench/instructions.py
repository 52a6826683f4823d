"""Instructions per request, in-process, under callgrind: a cost that a busy machine does not change.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m bench.instructions [--root=DIR] [--requests=20]
        [--warmup=5] [path ...]

Runs `python` of the tree at `--root` (this one by default; another commit's tree, unpacked with
`git archive`, measures the before) under `valgrind --tool=callgrind` with instrumentation off, and turns it
on around `--requests` GETs of each path through Django's test client after `--warmup` unmeasured ones
(CALLGRIND_START/STOP_INSTRUMENTATION from a small C helper built with gcc, valgrind's headers). The cost
of a run of no request is subtracted. Anonymous reads; the environment decides the rest (the figures in
docs/performance.md: `CSN_CATALOGUE_CACHE_SECONDS=0` for the computed path, `DEBUG=0`, the anonymous
throttle lifted). Prints millions of instructions per request. Not a benchmark of `python -m bench`: it
needs valgrind and gcc, and measures no latency."""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

PATHS = [
    "/healthz",
    "/api/v1/content/",
    "/api/v1/content/?tag=basketball&type=highlight",
    "/api/v1/content/?team=1",
    "/api/v1/content/4/",
    "/api/v1/games/",
    "/api/v1/games/?status=scheduled",
    "/api/v1/games/?team=1&date_from=2020-01-01",
    "/api/v1/games/1/",
    "/api/v1/teams/",
    "/api/v1/players/",
]
HELPER = """#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void cg_stop(const char *name) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS_AT(name); }
"""
EMPTY = "(no request)"


INSIDE = """
import ctypes, sys
root, helper, requests, warmup, *paths = sys.argv[1:]
sys.path.insert(0, root)
import django

django.setup()
from django.test import Client

control = ctypes.CDLL(helper)
client = Client(HTTP_ACCEPT="application/json")
for label in [EMPTY, *paths]:
    for _ in range(0 if label == EMPTY else int(warmup)):
        response = client.get(label)
        assert response.status_code == 200, (label, response.status_code, response.content[:200])
    control.cg_start()
    for _ in range(0 if label == EMPTY else int(requests)):
        client.get(label)
    control.cg_stop(label.encode())
""".replace("EMPTY", repr(EMPTY))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.instructions")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("paths", nargs="*", default=PATHS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        helper = os.path.join(work, "cgctl.so")
        source = os.path.join(work, "cgctl.c")
        Path(source).write_text(HELPER)
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", helper, source], check=True)
        inside = os.path.join(work, "inside.py")
        Path(inside).write_text(INSIDE)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "csn.settings", "PYTHONHASHSEED": "0"}
        python = os.path.join(args.root, ".venv", "bin", "python")
        valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={work}/cg.%p"]
        python = python if os.path.exists(python) else sys.executable
        run = subprocess.run(
            [*valgrind, python, inside, args.root, helper, str(args.requests), str(args.warmup), *args.paths],
            cwd=args.root,
            env=env,
            capture_output=True,
            text=True,
        )
        if run.returncode:
            sys.exit(f"the measured process failed:\n{run.stderr[-3000:]}")
        totals = {}
        for dump in Path(work).glob("cg.*.*"):
            text = dump.read_text(errors="replace")
            label = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.M)
            total = re.search(r"^totals: (\d+)", text, re.M)
            if label and total:
                totals[label.group(1)] = int(total.group(1))
    empty = totals.pop(EMPTY, 0)
    print(f"M instructions per request ({args.requests} after {args.warmup} warm-ups; {args.root})")
    for path in args.paths:
        print(f"{(totals[path] - empty) / args.requests / 1e6:8.2f}  {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
