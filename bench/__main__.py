import importlib
import pkgutil
import sys
from pathlib import Path

import bench

HELPERS = {
    "__main__",
    "common",
    "http",
    "live_reactions",
    "instructions",
}  # live_reactions runs as `live --reactions`; instructions is a tool (valgrind)


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(bench.__file__).parent)]) if m.name not in HELPERS)


def main(argv: list[str]) -> int:
    # Leading arguments name benchmarks; the rest (flags and their values) go to each of them.
    names: list[str] = []
    while argv and not argv[0].startswith("-"):
        names.append(argv.pop(0))
    unknown = set(names) - set(available())
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; available: {', '.join(available())}")
        return 2
    for name in names or available():
        print(f"\n=== bench {name} ===", flush=True)
        importlib.import_module(f"bench.{name}").main(list(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
