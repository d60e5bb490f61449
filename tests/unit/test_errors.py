"""The exception tree: codes register themselves, a taken or out-of-range code fails at import."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from abci_app import errors
from abci_app.errors import (
    ALL_ERRORS,
    ERRORS_BY_CODE,
    BankError,
    ErrorCodeConflict,
    ModernTensorError,
    SlashingError,
    StakingError,
)


def test_every_error_belongs_to_one_category_and_lies_in_its_ranges() -> None:
    categories = [c for c in vars(errors).values() if isinstance(c, type) and "CODES" in vars(c)]
    assert len(categories) == 9  # the base and eight categories (neurons: off-chain)
    for err in ALL_ERRORS[1:]:
        (category,) = [c for c in err.__mro__[1:] if c in categories and c is not ModernTensorError]
        assert any(err.code in r for r in category.CODES), err
    assert [e.code for e in ALL_ERRORS] == sorted(ERRORS_BY_CODE)
    assert ERRORS_BY_CODE[1] is ModernTensorError


def test_a_duplicate_code_fails_when_the_class_is_defined() -> None:
    with pytest.raises(ErrorCodeConflict, match="102 is already used by InsufficientFunds"):

        class Twice(BankError):
            code = 102
            summary = "twice"

    assert ERRORS_BY_CODE[102].__name__ == "InsufficientFunds"  # the registry is unchanged


def test_a_duplicate_code_fails_the_import_of_its_module(tmp_path: Path) -> None:
    source = tmp_path / "more_errors.py"
    source.write_text(
        "from abci_app.errors import StakingError\n\n"
        "class AlsoUnknownValidator(StakingError):\n"
        "    code = 112\n"
        "    summary = 'clash'\n"
    )
    spec = importlib.util.spec_from_file_location("more_errors", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with pytest.raises(ErrorCodeConflict, match="112"):
        spec.loader.exec_module(module)
    assert "more_errors" not in sys.modules
    assert ERRORS_BY_CODE[112].__name__ == "UnknownValidator"


def test_a_code_outside_the_category_ranges_fails() -> None:
    with pytest.raises(ErrorCodeConflict, match="outside the ranges of SlashingError"):

        class Misfiled(SlashingError):
            code = 129  # a staking code
            summary = "misfiled"

    assert 129 not in ERRORS_BY_CODE


def test_a_category_may_not_overlap_another_and_an_error_needs_its_own_code() -> None:
    with pytest.raises(ErrorCodeConflict, match="overlap those of SubnetError"):

        class Overlapping(ModernTensorError):
            CODES = (range(140, 150),)

    with pytest.raises(ErrorCodeConflict, match="must set its own code"):

        class Codeless(StakingError):
            summary = "inherits 1"
