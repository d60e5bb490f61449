"""The keyring: test keys are private files; file keys are sealed (argon2id + AEAD) and open
only with the right passphrase; old plain keys migrate; BIP-39 phrases recover keys (SLIP-0010
vectors); exports move a key sealed; the OS backend refuses clearly where there is none."""

from __future__ import annotations

import json
import logging
import stat
import time
from pathlib import Path
from typing import Any

import keyring.backend
import pytest
from nacl.signing import SigningKey

from abci_app.address import address_from_pubkey, to_bech32
from abci_app.client.keyring import (
    PASSPHRASE_ENV,
    Keyring,
    KeyringError,
    PassphraseSource,
    WrongPassphrase,
)
from abci_app.client.keyring import sealed as sealing
from abci_app.client.keyring.mnemonic import (
    new_mnemonic,
    seed_from_mnemonic,
    slip10_ed25519,
)

PASS = "correct horse battery"
SEED = bytes(range(32))


@pytest.fixture(autouse=True)
def _no_env_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)


@pytest.fixture
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Interactive-level argon2id (64 MiB, 2 passes) for tests that seal many times; the
    default cost is exercised by test_file_backend_seals_the_seed."""
    from nacl.pwhash import argon2id

    monkeypatch.setattr(sealing, "OPSLIMIT", argon2id.OPSLIMIT_INTERACTIVE)
    monkeypatch.setattr(sealing, "MEMLIMIT", argon2id.MEMLIMIT_INTERACTIVE)


def test_test_backend_files_are_private_and_round_trip(tmp_path: Path) -> None:
    ring = Keyring(tmp_path / "keyring", backend="test")
    k = ring.add("alice")
    path = tmp_path / "keyring" / "alice.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keyring").stat().st_mode) == 0o700
    assert ring.get("alice").address == k.address
    assert [(x.name, x.backend) for x in ring.list()] == [("alice", "test")]
    assert not list((tmp_path / "keyring").glob(".tmp-*"))
    with pytest.raises(KeyringError, match="already exists"):
        ring.add("alice")
    for bad in ("../evil", ".hidden", "", "a" * 65, "a/b"):
        with pytest.raises(KeyringError, match="invalid key name"):
            ring.add(bad)
    with pytest.raises(KeyringError, match="no key named"):
        ring.get("bob")
    path.write_text("{not json")
    with pytest.raises(KeyringError, match="unreadable"):
        ring.get("alice")


def test_file_backend_seals_the_seed(tmp_path: Path) -> None:
    """Default KDF cost: the seed is not in the file, the right passphrase opens it, a wrong one
    does not, and the public part is readable without any passphrase."""
    ring = Keyring(tmp_path, passphrase=PASS)
    assert ring.backend == "file"
    k = ring.add("alice", SEED)
    text = (tmp_path / "alice.json").read_text()
    assert SEED.hex() not in text and bytes(k.signing_key).hex() not in text
    data = json.loads(text)
    assert data["sealed"]["kdf"]["memlimit"] == sealing.MEMLIMIT  # 256 MiB argon2id
    t0 = time.monotonic()
    assert Keyring(tmp_path, passphrase=PASS).get("alice").pub_key == k.pub_key
    unlock_s = time.monotonic() - t0
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        Keyring(tmp_path, passphrase="not the passphrase").get("alice")
    locked = Keyring(tmp_path, interactive=False)
    assert locked.info("alice").address == k.address
    assert locked.info("alice").backend == "file"
    assert [i.name for i in locked.list()] == ["alice"]
    with pytest.raises(KeyringError, match="--passphrase-file FILE or the environment"):
        locked.get("alice")
    # a memory-hard KDF costs real time: a guess per ~0.1 s or more, not millions per second
    assert unlock_s > 0.05


def test_passphrase_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cheap_kdf: None
) -> None:
    Keyring(tmp_path / "k", passphrase=PASS).add("alice", SEED)
    monkeypatch.setenv(PASSPHRASE_ENV, PASS)
    assert Keyring(tmp_path / "k", interactive=False).get("alice").pub_key
    monkeypatch.delenv(PASSPHRASE_ENV)
    pf = tmp_path / "pass.txt"
    pf.write_text(PASS + "\n")
    pf.chmod(0o600)
    assert Keyring(tmp_path / "k", passphrase_file=pf).get("alice").pub_key
    pf.chmod(0o644)
    with pytest.raises(KeyringError, match="readable by others"):
        Keyring(tmp_path / "k", passphrase_file=pf).get("alice")
    pf.chmod(0o600)
    pf.write_text("")
    with pytest.raises(KeyringError, match="empty"):
        Keyring(tmp_path / "k", passphrase_file=pf).get("alice")
    with pytest.raises(KeyringError, match="cannot read"):
        Keyring(tmp_path / "k", passphrase_file=tmp_path / "missing").get("alice")
    with pytest.raises(KeyringError, match="at least 8"):
        Keyring(tmp_path / "k", passphrase="short").add("bob")
    assert not (tmp_path / "k" / "bob.json").exists()


def test_tampered_or_hostile_key_files_are_refused(tmp_path: Path, cheap_kdf: None) -> None:
    ring = Keyring(tmp_path, passphrase=PASS)
    ring.add("alice", SEED)
    path = tmp_path / "alice.json"
    good = json.loads(path.read_text())
    # another key's public part over alice's sealed seed: the AEAD's associated data differs
    other = bytes(SigningKey(bytes(32)).verify_key).hex()
    path.write_text(json.dumps({**good, "pub_key": other}))
    with pytest.raises(WrongPassphrase):
        ring.get("alice")
    # a hostile file asking argon2id for 64 GiB is refused before any work
    hostile = json.loads(json.dumps(good))
    hostile["sealed"]["kdf"]["memlimit"] = 1 << 36
    path.write_text(json.dumps(hostile))
    t0 = time.monotonic()
    with pytest.raises(KeyringError, match="memlimit"):
        ring.get("alice")
    assert time.monotonic() - t0 < 1
    hostile["sealed"]["kdf"]["memlimit"] = "1"
    path.write_text(json.dumps(hostile))
    with pytest.raises(KeyringError, match="memlimit"):
        ring.get("alice")
    path.write_text(json.dumps({**good, "format": "moderntensor-key/99"}))
    with pytest.raises(KeyringError, match="unknown key file format"):
        ring.get("alice")
    path.write_text("[1, 2]")
    with pytest.raises(KeyringError, match="unreadable"):
        ring.info("alice")


def test_migration_of_old_plain_keys(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, cheap_kdf: None
) -> None:
    """The format of before the backends ({"name", "address", "pub_key", "seed"}, 0600) loads
    with a warning; `migrate` seals every such key and the same keys come back."""
    folder = tmp_path / "keyring"
    folder.mkdir(mode=0o700)
    old = {}
    for i, name in enumerate(("dev", "validator")):
        sk = SigningKey(bytes([i + 1]) * 32)
        pub = bytes(sk.verify_key)
        old[name] = to_bech32(address_from_pubkey(pub))
        path = folder / f"{name}.json"
        path.write_text(
            json.dumps(
                {"name": name, "address": old[name], "pub_key": pub.hex(), "seed": bytes(sk).hex()}
            )
        )
        path.chmod(0o600)
    ring = Keyring(folder, passphrase=PASS)
    assert {i.name: i.backend for i in ring.list()} == {"dev": "legacy", "validator": "legacy"}
    with caplog.at_level(logging.WARNING, logger="moderntensor.keyring"):
        assert ring.get("dev").address == old["dev"]
    assert "keys migrate" in caplog.text
    assert sorted(ring.migrate("file")) == ["dev", "validator"]
    for name, address in old.items():
        text = (folder / f"{name}.json").read_text()
        assert '"seed"' not in text and json.loads(text)["backend"] == "file"
        assert Keyring(folder, passphrase=PASS).get(name).address == address
        assert stat.S_IMODE((folder / f"{name}.json").stat().st_mode) == 0o600
    assert Keyring.default_backend(folder) == "file"
    assert ring.migrate("file") == []  # nothing left to move
    with pytest.raises(WrongPassphrase):
        Keyring(folder, passphrase="another passphrase").get("dev")


def test_slip10_vectors() -> None:
    """SLIP-0010 test vector 1 for ed25519 (seed 000102…0f)."""
    seed = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
    h = 1 << 31
    cases = {
        (): "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7",
        (0,): "68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3",
        (0, 1): "b1d0bad404bf35da785a64ca1ac54b2617211d2777696fbffaf208f746ae84f2",
        (0, 1, 2): "92a5b23c0b8a99e37d07df3fb9966917f5d06e02ddbd909c7e184371463e9fc9",
        (
            0,
            1,
            2,
            2,
            1000000000,
        ): "8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793",
    }
    for path, want in cases.items():
        assert slip10_ed25519(seed, [h + i for i in path]).hex() == want
    # SLIP-0010 test vector 2 for ed25519 (seed fffcf9…)
    seed2 = bytes.fromhex(
        "fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a87848"
        "17e7b7875726f6c696663605d5a5754514e4b484542"
    )
    path2 = [h, h + 2147483647, h + 1, h + 2147483646, h + 2]
    want2 = "551d333177df541ad876a60ea71f00447931c0a9da16f227c11ea080d7391b8d"
    assert slip10_ed25519(seed2, path2).hex() == want2
    with pytest.raises(KeyringError, match="hardened"):
        slip10_ed25519(seed, [0])


def test_bip39_seed_vectors() -> None:
    """Trezor's published BIP-39 vectors (passphrase "TREZOR"), through the mnemonic package
    the keyring uses, and the key the keyring derives from them (SLIP-0010 of that seed)."""
    from mnemonic import Mnemonic

    from abci_app.client.keyring.mnemonic import HD_PATH, parse_path

    vectors = {
        "abandon " * 11 + "about": "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495"
        "531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04",
        "abandon " * 23 + "art": "bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd309"
        "7170af7a4d73245cafa9c3cca8d561a7c3de6f5d4a10be8ed2a5e608d68f92fcc8",
    }
    for phrase, want in vectors.items():
        seed = Mnemonic.to_seed(phrase.strip(), "TREZOR")
        assert seed.hex() == want
        derived = seed_from_mnemonic(phrase, bip39_passphrase="TREZOR")
        assert derived == slip10_ed25519(seed, parse_path(HD_PATH))


def test_mnemonic_recovery(tmp_path: Path, cheap_kdf: None) -> None:
    phrase = "abandon " * 23 + "art"  # the BIP-39 all-zero 256-bit vector
    seed = seed_from_mnemonic(phrase)
    ring = Keyring(tmp_path, passphrase=PASS)
    k = ring.recover("restored", phrase)
    assert bytes(k.signing_key) == seed
    # the same phrase, any spacing and case, always gives the same key; index 1 another one
    assert seed_from_mnemonic("  ABANDON " * 23 + " Art ") == seed
    assert seed_from_mnemonic(phrase, path="m/44'/118'/0'/0'/1'") != seed
    assert seed_from_mnemonic(phrase, bip39_passphrase="extra") != seed
    with pytest.raises(KeyringError, match="checksum"):
        seed_from_mnemonic("abandon " * 24)
    with pytest.raises(KeyringError, match="not in the BIP-39"):
        seed_from_mnemonic("abandon " * 23 + "zzzz")
    with pytest.raises(KeyringError, match="has 3"):
        seed_from_mnemonic("a b c")
    made, words = ring.add_with_mnemonic("fresh")
    assert len(words.split()) == 24 and words != new_mnemonic()
    assert Keyring(tmp_path / "other", passphrase=PASS).recover("x", words).address == made.address


def test_export_import(tmp_path: Path, cheap_kdf: None) -> None:
    src = Keyring(tmp_path / "a", backend="test")
    k = src.add("val", SEED)
    text = src.export("val", PassphraseSource("export passphrase"))
    assert SEED.hex() not in text
    dst = Keyring(tmp_path / "b", passphrase=PASS)
    got = dst.import_key("val", text, PassphraseSource("export passphrase"))
    assert got.address == k.address and dst.info("val").backend == "file"
    assert Keyring(tmp_path / "b", passphrase=PASS).get("val").address == k.address
    with pytest.raises(WrongPassphrase):
        dst.import_key("val2", text, PassphraseSource("not it at all"))
    with pytest.raises(KeyringError, match="already exists"):
        dst.import_key("val", text, PassphraseSource("export passphrase"))
    with pytest.raises(KeyringError, match="not a key export"):
        dst.import_key("val3", '{"format": "x"}', PassphraseSource("export passphrase"))
    assert not dst.exists("val2") and not dst.exists("val3")


class _MemoryKeyring(keyring.backend.KeyringBackend):
    """A platform keyring for the test (the OS has none here): the keyring package's plug-in
    interface, holding secrets in a dict."""

    priority = -1  # type: ignore[assignment]  # never chosen as the platform keyring

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


def test_os_backend(tmp_path: Path) -> None:
    # this headless machine has no Keychain / Secret Service: a clear refusal, no file left
    with pytest.raises(KeyringError, match="no OS keyring is available"):
        Keyring(tmp_path, backend="os").add("alice")
    assert not (tmp_path / "alice.json").exists()
    mem: Any = _MemoryKeyring()
    ring = Keyring(tmp_path, backend="os", os_keyring=mem)
    k = ring.add("alice", SEED)
    assert SEED.hex() not in (tmp_path / "alice.json").read_text()
    assert list(mem.items.values()) == [SEED.hex()]
    assert ring.get("alice").address == k.address
    ring.delete("alice")
    assert mem.items == {} and not ring.exists("alice")


def test_default_backend_of_a_folder(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    Keyring.set_default_backend(tmp_path, "test")
    with caplog.at_level(logging.WARNING, logger="moderntensor.keyring"):
        Keyring(tmp_path).add("dev")
    assert "UNENCRYPTED" in caplog.text
    assert Keyring(tmp_path).info("dev").backend == "test"
    with pytest.raises(KeyringError, match="unknown keyring backend"):
        Keyring(tmp_path, backend="plain")
    (tmp_path / "keyring.conf").write_text("nonsense")
    with pytest.raises(KeyringError, match="unreadable"):
        Keyring(tmp_path).add("x")
