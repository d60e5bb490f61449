"""Any byte string fed to CheckTx or FinalizeBlock yields an error code and changes nothing."""

from __future__ import annotations

from pathlib import Path

from chain_driver import Driver, genesis_app_state, transfer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abci_app.errors import ERRORS_BY_CODE


def _fresh(tmp: Path) -> Driver:
    tmp.mkdir(parents=True, exist_ok=True)
    d = Driver.open(tmp / "s.sqlite")
    d.init_chain(genesis_app_state(3))
    d.block([])
    return d


def _mutations() -> st.SearchStrategy[bytes]:
    valid = transfer(0, 1, 10, 0)
    flips = st.tuples(st.integers(0, len(valid) - 1), st.integers(1, 255)).map(
        lambda p: valid[: p[0]] + bytes([valid[p[0]] ^ p[1]]) + valid[p[0] + 1 :]
    )
    return st.one_of(
        st.binary(max_size=400), flips, st.binary(min_size=1, max_size=40).map(lambda b: valid + b)
    )


@settings(
    max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(raw=_mutations())
def test_garbage_is_rejected_without_state_change(tmp_path_factory, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("g")
    d = _fresh(tmp / "a")
    ref = _fresh(tmp / "b")
    check = d.check(raw)
    assert check.code != 0 and check.code in ERRORS_BY_CODE, check
    assert not d.app.check_state.writes
    app_hash, codes = d.block([raw])
    assert codes[0] == check.code
    assert app_hash == ref.block([])[0]  # the same effect as an empty block
    d.close()
    ref.close()
