"""Instructions per request, in-process, under callgrind: a cost that a busy machine does not change.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m bench.instructions [--root=DIR] [--requests=20]
        [--warmup=5] [--signed-in] [--keep=DIR] [path ...]

Runs `python` of the tree at `--root` (this one by default; another commit's tree, unpacked with
`git archive`, measures the before) under `valgrind --tool=callgrind` with instrumentation off, and turns it
on around `--requests` GETs of each path through Django's test client after `--warmup` unmeasured ones
(CALLGRIND_START/STOP_INSTRUMENTATION from a small C helper built with gcc, valgrind's headers). The cost
of a run of no request is subtracted. The paths are anonymous reads; the environment decides the rest (the
figures in docs/performance.md: `CSN_CATALOGUE_CACHE_SECONDS=0` for the computed path, `DEBUG=0`, the
anonymous throttle lifted). Prints millions of instructions per request. Not a benchmark of `python -m
bench`: it needs valgrind and gcc, and measures no latency.

`--signed-in` measures, next to `/healthz`, the signed-in requests `bench viewing` and `bench playback` send,
with a bench user's token (`Authorization: Bearer`, used a moment ago, as in `bench viewing`): `PUT
/api/v1/progress/{id}/` (a heartbeat: the row exists and moves on), `GET /api/v1/continue-watching/` and
`POST /api/v1/playback/` (granted, 201). The user (`bench-instructions@csn.local`, made when missing, no
product) and its rows are the database's; an item any viewer may play is picked. Each request is measured
alone (instrumentation on around it): between two playbacks the session opened is ended, unmeasured, so
the stream limit does not refuse the next. `--keep=DIR` keeps callgrind's files (one per request kind) for
`callgrind_annotate`."""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

SIGNED_IN = ["PUT progress", "GET continue-watching", "POST playback"]
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
void cg_zero(void) { CALLGRIND_ZERO_STATS; }
void cg_on(void) { CALLGRIND_START_INSTRUMENTATION; }
void cg_off(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void cg_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
"""
EMPTY = "(no request)"


INSIDE = """
import ctypes, datetime, json, sys
root, helper, requests, warmup, *labels = sys.argv[1:]
sys.path.insert(0, root)
import django

django.setup()
from django.test import Client
from django.utils import timezone

control = ctypes.CDLL(helper)
anonymous = Client(HTTP_ACCEPT="application/json")
prepare = {}


def signed_in():
    from accounts.models import User
    from accounts.services import token_issue
    from content.models import Content
    from streaming.live.models import LiveSession
    from streaming.viewing.models import WatchProgress

    user = User.objects.filter(email="bench-instructions@csn.local").first()
    if user is None:
        user = User.objects.create_user(email="bench-instructions@csn.local", password=None, display_name="bench")
    client = Client(HTTP_ACCEPT="application/json", HTTP_AUTHORIZATION="Bearer " + token_issue(user=user).key)

    def end_sessions():
        LiveSession.objects.filter(user=user, ended_at=None).update(ended_at=timezone.now())

    end_sessions()
    for content_id in Content.objects.filter(state="published").order_by("pk").values_list("pk", flat=True):
        answer = client.post("/api/v1/playback/", {"content_id": content_id}, content_type="application/json")
        if answer.status_code == 201:
            break
    else:
        raise SystemExit("no item this user may play")
    end_sessions()
    WatchProgress.objects.filter(user=user).delete()
    position = iter(range(30, 10_000, 5))

    def heartbeat():
        body = {"position_seconds": next(position), "duration_seconds": 10_000,
                "recorded_at": timezone.now().isoformat()}
        return client.put(f"/api/v1/progress/{content_id}/", json.dumps(body), content_type="application/json")

    def playback():
        return client.post("/api/v1/playback/", {"content_id": content_id}, content_type="application/json")

    prepare["POST playback"] = end_sessions
    return {
        "PUT progress": heartbeat,
        "GET continue-watching": lambda: client.get("/api/v1/continue-watching/"),
        "POST playback": playback,
    }


requests_of = {}
if any(label in SIGNED_IN for label in labels):
    requests_of.update(signed_in())
for label in labels:
    requests_of.setdefault(label, lambda label=label: anonymous.get(label))
requests_of[EMPTY] = lambda: None
for label in [EMPTY, *labels]:
    send = requests_of[label]
    for _ in range(0 if label == EMPTY else int(warmup)):
        prepare.get(label, lambda: None)()
        response = send()
        assert 200 <= response.status_code < 300, (label, response.status_code, response.content[:300])
    control.cg_zero()
    for _ in range(int(requests)):
        prepare.get(label, lambda: None)()
        control.cg_on()
        send()
        control.cg_off()
    control.cg_dump(label.encode())
""".replace("EMPTY", repr(EMPTY)).replace("SIGNED_IN", repr(SIGNED_IN))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.instructions")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--signed-in", action="store_true", help="/healthz and the signed-in requests")
    parser.add_argument("--keep", help="keep callgrind's files in this folder")
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args(argv)
    if args.signed_in:
        args.paths = [*(args.paths or ["/healthz"]), *SIGNED_IN]
    args.paths = args.paths or PATHS
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
            if args.keep and label:
                os.makedirs(args.keep, exist_ok=True)
                name = re.sub(r"[^A-Za-z0-9]+", "_", label.group(1)).strip("_") or "empty"
                Path(args.keep, f"callgrind.{name}").write_text(text)
    empty = totals.pop(EMPTY, 0)
    print(f"M instructions per request ({args.requests} after {args.warmup} warm-ups; {args.root})")
    healthz = totals.get("/healthz")
    for path in args.paths:
        cost = totals[path] - empty
        ratio = f"  {cost / (healthz - empty):5.2f}x /healthz" if healthz and path != "/healthz" else ""
        print(f"{cost / args.requests / 1e6:8.2f}  {path}{ratio}")


if __name__ == "__main__":
    main(sys.argv[1:])
