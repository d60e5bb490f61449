"""Pinned tx bytes, result codes and app hashes of a fixed block sequence."""

from __future__ import annotations

import json

from fixed_chain import VECTOR_FILE, compute


def test_fixed_chain_matches_pinned_vectors() -> None:
    pinned = json.loads(VECTOR_FILE.read_text())
    got = compute()
    assert got["genesis_app_hash"] == pinned["genesis_app_hash"]
    for i, (g, p) in enumerate(zip(got["blocks"], pinned["blocks"], strict=True)):  # type: ignore[call-overload]
        assert g["txs"] == p["txs"], f"block {i}: tx bytes changed"
        assert g["codes"] == p["codes"], f"block {i}: result codes changed"
        assert g["app_hash"] == p["app_hash"], f"block {i}: app hash changed"


def test_vector_file_covers_success_and_failures() -> None:
    pinned = json.loads(VECTOR_FILE.read_text())
    codes = {c for b in pinned["blocks"] for c in b["codes"]}
    assert {0, 3, 8, 102}.issubset(codes)
