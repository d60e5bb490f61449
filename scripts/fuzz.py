"""Coverage-guided fuzzing of one target of tests/fuzz/targets.py with atheris (libFuzzer).

Usage: python scripts/fuzz.py TARGET [--seconds N | --runs N] [--corpus DIR]

Exit code 0: nothing found in the bounded run. A crash prints the input that caused it
(libFuzzer writes it to crash-<sha1> in the working folder) and exits non-zero.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import atheris

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "fuzz"))
sys.path.insert(0, str(REPO / "tests"))

with atheris.instrument_imports(include=["abci_app"]):
    import targets


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("target", choices=sorted(targets.TARGETS))
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--runs", type=int, default=0)
    ap.add_argument("--corpus", type=Path, default=None)
    args = ap.parse_args()
    corpus = args.corpus or Path(tempfile.mkdtemp(prefix=f"fuzz-{args.target}-"))
    corpus.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(targets.seeds(args.target)):
        (corpus / f"seed-{i}").write_bytes(seed)
    flags = [sys.argv[0], str(corpus), "-max_len=4096", "-timeout=10", "-rss_limit_mb=2048"]
    if args.seconds:
        flags.append(f"-max_total_time={args.seconds}")
    if args.runs:
        flags.append(f"-runs={args.runs}")
    fn = targets.TARGETS[args.target]
    targets._driver()  # the shared chain is built before fuzzing starts
    atheris.Setup(flags, fn)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
