"""Generate the Python protobuf stubs the app needs; they are build output, never committed.

CometBFT's ABCI ``.proto`` files are read from the Go module cache (``go install`` of the pinned
cometbft put them there). They import gogoproto, whose options only change generated Go code and
not the wire format, so they are stripped first. Import paths are rewritten so that the stubs live
inside the ``abci_app._proto`` package and import each other from there.

Usage: python scripts/gen_proto.py [--check]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

COMETBFT_VERSION = "v0.38.25"
REPO = Path(__file__).resolve().parent.parent
OUT_PACKAGE = "abci_app/_proto"
COMET_FILES = [
    "tendermint/abci/types.proto",
    "tendermint/crypto/keys.proto",
    "tendermint/crypto/proof.proto",
    "tendermint/types/params.proto",
    "tendermint/types/validator.proto",
    # the light client (client/light.py): headers, commits and canonical vote sign bytes
    "tendermint/types/types.proto",
    "tendermint/types/canonical.proto",
    "tendermint/version/types.proto",
]
OWN_FILES = ["moderntensor/tx/v1/tx.proto"]

_GOGO_IMPORT = re.compile(r'^\s*import\s+"gogoproto/gogo\.proto";\s*$', re.M)
_GOGO_OPTION_LINE = re.compile(r"^\s*option\s+\(gogoproto\.[^;]*;\s*$", re.M)
# one "(gogoproto.x) = value" entry inside [...]; the value may be a quoted string with commas
_GOGO_ENTRY = re.compile(r'\(gogoproto\.\w+\)\s*=\s*(?:"(?:[^"\\]|\\.)*"|[\w.]+)')


def strip_gogoproto(text: str) -> str:
    """Remove gogoproto imports and options; they carry no wire-format meaning."""
    text = _GOGO_IMPORT.sub("", text)
    text = _GOGO_OPTION_LINE.sub("", text)

    def clean_brackets(match: re.Match[str]) -> str:
        inner = _GOGO_ENTRY.sub("", match.group(1))
        parts = [p.strip() for p in inner.split(",")]
        # re-split is safe: remaining entries are plain options with no quoted commas
        parts = [p for p in parts if p]
        return f" [{', '.join(parts)}]" if parts else ""

    text = re.sub(r"\s*\[((?:[^\]\"]|\"(?:[^\"\\]|\\.)*\")*)\]", clean_brackets, text)
    return text


def rewrite_imports(text: str) -> str:
    return re.sub(r'import\s+"(tendermint|moderntensor)/', rf'import "{OUT_PACKAGE}/\1/', text)


def gomodcache() -> Path:
    out = subprocess.run(
        ["go", "env", "GOMODCACHE"], check=True, capture_output=True, text=True
    ).stdout.strip()
    return Path(out)


def comet_proto_dir() -> Path:
    """$COMETBFT_PROTO_DIR (the Docker build copies the protos there), else the module cache."""
    override = os.environ.get("COMETBFT_PROTO_DIR")
    if override:
        return Path(override)
    return gomodcache() / f"github.com/cometbft/cometbft@{COMETBFT_VERSION}" / "proto"


def generate() -> None:
    comet_proto = comet_proto_dir()
    if not comet_proto.is_dir():
        sys.exit(
            f"error: {comet_proto.name} not found in the Go module cache; "
            "run `make cometbft` first (it runs go install of the pinned version)"
        )
    out = REPO / OUT_PACKAGE
    with tempfile.TemporaryDirectory() as tmp:
        src_root = Path(tmp)
        staged: list[str] = []
        sources = [(comet_proto / f, f) for f in COMET_FILES]
        sources += [(REPO / "proto" / f, f) for f in OWN_FILES]
        for src, rel in sources:
            dst = src_root / OUT_PACKAGE / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(rewrite_imports(strip_gogoproto(src.read_text())))
            staged.append(f"{OUT_PACKAGE}/{rel}")
        include = Path(grpc_tools.__file__).parent / "_proto"
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        args = [
            "protoc",
            f"-I{src_root}",
            f"-I{include}",
            f"--python_out={REPO}",
            f"--pyi_out={REPO}",
            *staged,
        ]
        if protoc.main(args) != 0:
            sys.exit("error: protoc failed on the staged .proto files")
    for d in [out, *[p for p in out.rglob("*") if p.is_dir()]]:
        (d / "__init__.py").touch()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    generate()
    print(f"generated protobuf stubs in {OUT_PACKAGE}/")


if __name__ == "__main__":
    main()
