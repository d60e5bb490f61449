"""The outcome of e2e runs: one table (manifest, perturbations applied, invariants held, blocks,
txs committed, time) and the same as JSON with every check's detail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .invariants import Check


@dataclass
class Report:
    manifest: str
    perturbations: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    blocks: int = 0
    txs_committed: int = 0
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        return bool(self.checks) and all(c.held for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "held": self.held,
            "perturbations": self.perturbations,
            "invariants_held": sum(c.held for c in self.checks),
            "invariants": len(self.checks),
            "checks": [c.to_dict() for c in self.checks],
            "blocks": self.blocks,
            "txs_committed": self.txs_committed,
            "seconds": round(self.seconds, 1),
            "details": self.details,
        }


def table(reports: list[Report]) -> str:
    """One line per manifest, then every broken invariant spelled out."""
    head = (
        "manifest",
        "perturbations applied",
        "invariants held",
        "blocks",
        "txs committed",
        "time",
    )
    rows = [
        (
            r.manifest,
            str(len(r.perturbations)),
            f"{sum(c.held for c in r.checks)}/{len(r.checks)}",
            str(r.blocks),
            str(r.txs_committed),
            f"{r.seconds:.0f}s",
        )
        for r in reports
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    for r in reports:
        for c in r.checks:
            if not c.held:
                lines.append(f"FAILED {r.manifest}: {c.name}: {c.detail}")
    return "\n".join(lines)
