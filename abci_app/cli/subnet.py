"""``moderntensor subnet …``: every subnet message and query, and ``simulate-epoch``."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from typing import Any

import click

from ..address import from_bech32
from ..client.commits import CommitEntry, CommitStore
from ..client.local_files import LocalFileError, read_text_file
from ..client.rpc import CommittedTx
from ..codec import U64_MAX
from ..errors import ModernTensorError
from ..modules.subnets.epoch import run_epoch
from ..modules.subnets.epoch_json import epoch_output_json, parse_epoch_input
from ..modules.subnets.messages import (
    MsgAddSubnetStake,
    MsgCommitWeights,
    MsgRegisterNeuron,
    MsgRegisterSubnet,
    MsgRemoveSubnetStake,
    MsgRevealWeights,
    MsgServeAxon,
    MsgSetSubnetHyperparams,
    MsgSetWeights,
    commit_hash,
)
from ..node.home import NodeHome
from .common import PORT, U16, U64, Ctx, emit, format_mdt, parse_amount, user_errors
from .query_table import Arg, QueryRoute, add_query_commands
from .txsend import (
    TxOpts,
    address_arg,
    event_attr,
    explain,
    keyring_of,
    query_json,
    send_tx,
    tx_options,
)


@click.group()
def subnet() -> None:
    """AI subnets: register, neurons, stake, weights (commit-reveal), metagraph, epochs."""


def parse_weights(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``"2=100,3=65535"`` -> ((2, 3), (100, 65535))."""
    uids, weights = [], []
    for item in text.split(","):
        uid, sep, weight = item.strip().partition("=")
        ok = sep and all(x.isascii() and x.isdigit() and len(x) <= 5 for x in (uid, weight))
        if not ok or int(uid) > 65535 or int(weight) > 65535:
            raise click.BadParameter(f"{item!r}: give weights as UID=WEIGHT,UID=WEIGHT (u16)")
        uids.append(int(uid))
        weights.append(int(weight))
    return tuple(uids), tuple(weights)


# --- transactions ----------------------------------------------------------------------------
def _max_cost(obj: Ctx, given: str | None, path: str, field: str, what: str) -> int:
    """The max_cost a registration signs: ``--max-cost`` if given, else the current price (read
    from ``path``'s ``field``); shown before sending, so the user sees what it may burn (the tx
    fails with code 150 if the price rises above it before the block)."""
    if given is not None:
        cost = parse_amount(given)
    else:
        with user_errors(), obj.rpc() as rpc:
            res = rpc.abci_query(path)
            if res.code != 0:
                raise click.ClickException(explain(res.code, res.log))
            cost = int(res.json()[field])
    if obj.output == "text":
        click.echo(f"{what}: burning at most {format_mdt(cost)} (--max-cost)", err=True)
    return cost


@subnet.command("register")
@tx_options
@click.option(
    "--max-cost",
    default=None,
    help="The most to burn (default: the lock cost now); the tx fails above it.",
)
@click.pass_obj
def subnet_register(obj: Ctx, max_cost: str | None, tx: TxOpts) -> None:
    """Register a new subnet, burning the current lock cost (see `subnet lock-cost`), at most
    --max-cost; you become its owner (example: moderntensor subnet register --from owner)."""
    cost = _max_cost(obj, max_cost, "/params/subnets", "lock_cost", "register a subnet")

    def text(done: CommittedTx) -> str:
        lock = int(event_attr(done, "register_subnet", "lock") or 0)
        netuid = event_attr(done, "register_subnet", "netuid")
        return f"subnet {netuid} registered, {format_mdt(lock)} burned"

    send_tx(obj, tx, [MsgRegisterSubnet(max_cost=cost)], text)


@subnet.command("set-hyperparams")
@click.argument("netuid", type=U16)
@click.argument("values", nargs=-1, required=True)
@tx_options
@click.pass_obj
def subnet_set_hyperparams(obj: Ctx, netuid: int, values: tuple[str, ...], tx: TxOpts) -> None:
    """Owner only: set hyperparameters NAME=VALUE (example: moderntensor subnet set-hyperparams 1
    tempo=99 commit_reveal=0 --from owner; names: `subnet hyperparams 1`)."""
    names, ints = [], []
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not (value.isascii() and value.isdigit()) or int(value) > U64_MAX:
            raise click.BadParameter(f"{item!r}: use NAME=INTEGER (0..2^64-1), e.g. tempo=99")
        names.append(name)
        ints.append(int(value))
    msg = MsgSetSubnetHyperparams(netuid, tuple(names), tuple(ints))
    send_tx(obj, tx, [msg], f"subnet {netuid}: {' '.join(values)}")


@subnet.command("register-neuron")
@click.argument("netuid", type=U16)
@tx_options
@click.option(
    "--max-cost",
    default=None,
    help="The most to burn (default: the subnet's burn now); the tx fails above it.",
)
@click.pass_obj
def subnet_register_neuron(obj: Ctx, netuid: int, max_cost: str | None, tx: TxOpts) -> None:
    """Register the --from key as a neuron (hotkey) on a subnet, burning its registration burn,
    at most --max-cost (example: moderntensor subnet register-neuron 1 --from miner1)."""
    cost = _max_cost(obj, max_cost, f"/subnet/{netuid}", "burn", f"register on subnet {netuid}")

    def text(done: CommittedTx) -> str:
        uid = event_attr(done, "register_neuron", "uid")
        pruned = event_attr(done, "register_neuron", "pruned")
        return f"uid {uid} on subnet {netuid}" + (f" (replaced {pruned})" if pruned else "")

    send_tx(obj, tx, [MsgRegisterNeuron(netuid, cost)], text)


@subnet.command("serve-axon")
@click.argument("netuid", type=U16)
@click.option("--ip", required=True, help="IPv4 or IPv6 address miners are reached at.")
@click.option("--port", type=PORT, required=True)
@click.option("--protocol", type=U64, default=4, show_default=True)
@click.option("--version", "version_", type=U64, default=0, show_default=True)
@tx_options
@click.pass_obj
def subnet_serve_axon(
    obj: Ctx, netuid: int, ip: str, port: int, protocol: int, version_: int, tx: TxOpts
) -> None:
    """Publish your neuron's endpoint (example: moderntensor subnet serve-axon 1 --ip 10.0.0.7
    --port 8091 --from miner1)."""
    send_tx(
        obj, tx, [MsgServeAxon(netuid, ip, port, protocol, version_)], f"axon {ip}:{port} served"
    )


@subnet.command("add-stake")
@click.argument("netuid", type=U16)
@click.option("--hotkey", required=True, help="Registered hotkey address (mt1…).")
@click.option("--amount", required=True, help="Base units or MDT (10mdt).")
@tx_options
@click.pass_obj
def subnet_add_stake(obj: Ctx, netuid: int, hotkey: str, amount: str, tx: TxOpts) -> None:
    """Stake tokens on a hotkey of a subnet: its weight in Yuma consensus once it has stayed
    through one epoch (an epoch weighs the lowest stake since the last one) (example:
    moderntensor subnet add-stake 1 --hotkey mt1… --amount 100mdt --from alice)."""
    value = parse_amount(amount)
    msg = MsgAddSubnetStake(netuid, address_arg(hotkey), value)
    send_tx(obj, tx, [msg], f"staked {format_mdt(value)} on {hotkey} (subnet {netuid})")


@subnet.command("remove-stake")
@click.argument("netuid", type=U16)
@click.option("--hotkey", required=True, help="Hotkey address (mt1…).")
@click.option("--amount", required=True, help="Base units or MDT (10mdt).")
@tx_options
@click.pass_obj
def subnet_remove_stake(obj: Ctx, netuid: int, hotkey: str, amount: str, tx: TxOpts) -> None:
    """Take back stake you put on a hotkey; it returns at once (example: moderntensor subnet
    remove-stake 1 --hotkey mt1… --amount 10mdt --from alice)."""
    value = parse_amount(amount)
    msg = MsgRemoveSubnetStake(netuid, address_arg(hotkey), value)
    send_tx(obj, tx, [msg], f"unstaked {format_mdt(value)} from {hotkey} (subnet {netuid})")


@subnet.command("set-weights")
@click.argument("netuid", type=U16)
@click.option("--weights", required=True, help="UID=WEIGHT pairs, e.g. 3=100,4=65535 (u16).")
@click.option("--version-key", type=U64, default=0, show_default=True)
@tx_options
@click.pass_obj
def subnet_set_weights(obj: Ctx, netuid: int, weights: str, version_key: int, tx: TxOpts) -> None:
    """Set your validator's weights directly (subnets with commit_reveal=0; example:
    moderntensor subnet set-weights 1 --weights 3=100,4=200 --from validator1)."""
    uids, values = parse_weights(weights)
    msg = MsgSetWeights(netuid, uids, values, version_key)
    send_tx(obj, tx, [msg], f"{len(uids)} weights set on subnet {netuid}")


def _commit_store(obj: Ctx) -> CommitStore:
    return CommitStore(NodeHome(obj.home).root / "weight-commits")


def _hotkey(obj: Ctx, key_name: str) -> str:
    with user_errors():
        return str(keyring_of(obj).info(key_name).address)


@subnet.command("commit-weights")
@click.argument("netuid", type=U16)
@click.option("--weights", required=True, help="UID=WEIGHT pairs, e.g. 3=100,4=65535 (u16).")
@click.option("--salt", default=None, help="Hex salt (default: 16 random bytes).")
@click.option("--version-key", type=U64, default=0, show_default=True)
@tx_options
@click.pass_obj
def subnet_commit_weights(
    obj: Ctx, netuid: int, weights: str, salt: str | None, version_key: int, tx: TxOpts
) -> None:
    """Commit a hash of your weights; reveal them in the next epoch with `subnet reveal-weights`.
    Once the commit is in a block, the weights and salt are kept in <home>/weight-commits/
    under the commit hash, so a refused commit never replaces the one on chain (example:
    moderntensor subnet commit-weights 1 --weights 3=100,4=200 --from validator1)."""
    uids, values = parse_weights(weights)
    if tx.no_wait:
        raise click.UsageError(
            "commit-weights waits for its block (the salt is saved once the commit is in one): "
            "drop --no-wait"
        )
    try:
        salt_bytes = bytes.fromhex(salt) if salt is not None else secrets.token_bytes(16)
    except ValueError:
        raise click.BadParameter(f"--salt {salt!r} is not hex") from None
    hotkey = _hotkey(obj, tx.from_)
    digest = commit_hash(from_bech32(hotkey), netuid, uids, values, salt_bytes, version_key)

    def text(done: CommittedTx) -> str:
        start = event_attr(done, "commit_weights", "reveal_from")
        end = event_attr(done, "commit_weights", "reveal_until")
        return f"weights committed; reveal at heights {start}..{end} (commit {digest.hex()})"

    done = send_tx(obj, tx, [MsgCommitWeights(netuid, digest)], text)
    if done is not None:  # in a block with code 0: now the salt belongs to the chain's commit
        entry = CommitEntry(
            netuid, hotkey, list(uids), list(values), salt_bytes.hex(), version_key, done.height
        )
        _commit_store(obj).save(digest, entry)


def _commit_on_chain(obj: Ctx, netuid: int, hotkey: str) -> bytes:
    """The pending commit hash the chain holds for ``hotkey`` on ``netuid``."""
    metagraph = query_json(obj, f"/subnet/{netuid}/metagraph")
    uid = next((n["uid"] for n in metagraph["neurons"] if n["hotkey"] == hotkey), None)
    if uid is None:
        raise click.ClickException(f"{hotkey} is not registered on subnet {netuid}")
    commit = query_json(obj, f"/subnet/{netuid}/weights/{uid}").get("commit")
    if commit is None:
        raise click.ClickException(
            f"{hotkey} has no pending commit on subnet {netuid} (code 140 if revealed now)"
        )
    return bytes.fromhex(commit["hash"])


@subnet.command("reveal-weights")
@click.argument("netuid", type=U16)
@click.option("--weights", default=None, help="As committed (default: the saved commit).")
@click.option("--salt", default=None, help="As committed (default: the saved commit).")
@click.option("--version-key", type=U64, default=None)
@tx_options
@click.pass_obj
def subnet_reveal_weights(
    obj: Ctx,
    netuid: int,
    weights: str | None,
    salt: str | None,
    version_key: int | None,
    tx: TxOpts,
) -> None:
    """Reveal committed weights: the saved entry whose hash is the commit on chain (example:
    moderntensor subnet reveal-weights 1 --from validator1)."""
    saved: CommitEntry | None = None
    if weights is None or salt is None:
        on_chain = _commit_on_chain(obj, netuid, _hotkey(obj, tx.from_))
        with user_errors():
            saved = _commit_store(obj).get(on_chain)
        if saved is None:
            raise click.ClickException(
                f"no saved weights match the commit on chain ({on_chain.hex()}) for {tx.from_} "
                f"on subnet {netuid}: pass --weights and --salt as committed"
            )
    uids, values = (
        parse_weights(weights) if weights is not None else (tuple(saved.uids), tuple(saved.weights))  # type: ignore[union-attr]
    )
    try:
        salt_bytes = bytes.fromhex(salt if salt is not None else saved.salt)  # type: ignore[union-attr]
    except ValueError:
        raise click.BadParameter(f"--salt {salt!r} is not hex") from None
    if version_key is not None:
        version = version_key
    else:
        version = saved.version_key if saved is not None else 0
    msg = MsgRevealWeights(netuid, uids, values, salt_bytes, version)
    send_tx(obj, tx, [msg], f"{len(uids)} weights revealed on subnet {netuid}")


# --- queries ---------------------------------------------------------------------------------
def _subnets_text(data: Any) -> str:
    return (
        "\n".join(
            f"netuid {s['netuid']:>3}  owner {s['owner']}  neurons {s['n']:>4}/"
            f"{s['max_allowed_uids']}  stake {format_mdt(int(s['total_stake']))}  "
            f"burn {format_mdt(int(s['burn']))}  next epoch at {s['next_epoch']}"
            for s in data
        )
        or "(no subnets)"
    )


def _hyperparams_text(data: Any) -> str:
    return "\n".join(f"{k:36} {v}" for k, v in data.items())


def _metagraph_text(data: Any) -> str:
    head = (
        f"{'uid':>4} {'hotkey':44} {'stake':>22} {'incentive':>9} {'dividends':>9} "
        f"{'trust':>6} {'consensus':>9} {'emission':>22} vp"
    )
    rows = [
        f"{n['uid']:>4} {n['hotkey']:44} {format_mdt(int(n['stake'])):>22} "
        f"{n['incentive'] / 65535:>9.5f} {n['dividends'] / 65535:>9.5f} "
        f"{n['trust'] / 65535:>6.3f} {n['consensus'] / 65535:>9.5f} "
        f"{format_mdt(int(n['emission'])):>22} {'*' if n['validator_permit'] else ''}"
        for n in data["neurons"]
    ]
    return "\n".join([head, *rows])


def _stake_text(data: Any) -> str:
    return (
        "\n".join(
            f"subnet {p['netuid']:>3}  {p['hotkey']}  {format_mdt(int(p['amount']))}" for p in data
        )
        or "(no subnet stake)"
    )


def _lock_cost_text(data: Any) -> str:
    return f"lock cost {format_mdt(int(data['lock_cost']))}"


NETUID = Arg("netuid", int)
SUBNET_QUERIES = (
    QueryRoute(
        "list",
        "/subnets",
        "Every subnet (example: moderntensor subnet list).",
        render=_subnets_text,
    ),
    QueryRoute(
        "hyperparams",
        "/subnet/{netuid}/hyperparams",
        "A subnet's hyperparameters (example: moderntensor subnet hyperparams 1).",
        (NETUID,),
        _hyperparams_text,
    ),
    QueryRoute(
        "metagraph",
        "/subnet/{netuid}/metagraph",
        "Every neuron with stake and its last epoch's results, u16 values as fractions "
        "(example: moderntensor subnet metagraph 1).",
        (NETUID,),
        _metagraph_text,
    ),
    QueryRoute(
        "weights",
        "/subnet/{netuid}/weights/{uid}",
        "A validator's weights, bonds and pending commit (example: moderntensor subnet "
        "weights 1 0).",
        (NETUID, Arg("uid", int)),
    ),
    QueryRoute(
        "stake",
        "/subnet_stake/{address}",
        "An address's subnet stake positions, a page at a time (example: moderntensor subnet "
        "stake mt1…).",
        (Arg("address", check=address_arg),),
        _stake_text,
        paged="stake",
    ),
    QueryRoute(
        "lock-cost",
        "/params/subnets",
        "What registering a subnet costs now, and the subnet params (example: moderntensor "
        "subnet lock-cost).",
        render=_lock_cost_text,
    ),
)
"""``subnet …`` queries: (command, abci_query route, text renderer)."""

add_query_commands(subnet, SUBNET_QUERIES)


MAX_EPOCH_INPUT_BYTES = 16 << 20
"""The largest `simulate-epoch` input read (256 uids with full weight rows are under 2 MiB)."""


@subnet.command("simulate-epoch")
@click.option(
    "--input", "input_", type=click.Path(path_type=Path), required=True, help="Epoch JSON."
)
def subnet_simulate_epoch(input_: Path) -> None:
    """Run the chain's own epoch function on a JSON file and print its result as JSON; the
    format is in abci_app/modules/subnets/epoch_json.py (example: moderntensor subnet
    simulate-epoch --input epoch.json)."""
    try:
        raw = json.loads(read_text_file(input_, MAX_EPOCH_INPUT_BYTES, "epoch input"))
    except LocalFileError as e:
        raise click.ClickException(str(e)) from None
    except (json.JSONDecodeError, RecursionError) as e:
        raise click.ClickException(f"{input_} is not valid JSON: {e}") from None
    try:
        out = run_epoch(parse_epoch_input(raw))
    except ModernTensorError as e:
        raise click.ClickException(e.log()) from None
    click.echo(json.dumps(epoch_output_json(out), indent=2))


@subnet.command("demo")
@click.option(
    "--epochs",
    type=click.IntRange(1, 100),
    default=3,
    show_default=True,
    help="Epochs with incentive paid before the demo ends.",
)
@click.option("--tempo", type=click.IntRange(10, 1000), default=10, show_default=True)
@click.option(
    "--png",
    type=click.Path(path_type=Path),
    default=Path("subnet-demo.png"),
    show_default=True,
    help="Where to write the accuracy-vs-incentive chart.",
)
@click.option("--max-seconds", type=float, default=600.0, show_default=True)
@click.pass_obj
def subnet_demo(obj: Ctx, epochs: int, tempo: int, png: Path, max_seconds: float) -> None:
    """Against `make run`'s node: register a subnet, a validator and three miners of different
    quality (digits: knn, a small tree, a constant answer), run a few epochs, print the
    metagraph and write a chart showing the chain paid the better model more. Stops every
    process it started (example: make run, then in another terminal: moderntensor subnet
    demo)."""
    # (the neurons package is loaded by the demo only: other subnet commands start faster)
    from ..neurons import extras

    missing = extras.missing_ml()
    if missing:
        if not extras.in_virtualenv():
            raise click.ClickException(
                f"the demo needs {', '.join(missing)} (the [ml] extra): {extras.install_command()}"
            )
        click.echo(f"installing the [ml] extra ({', '.join(missing)}) into {sys.prefix}…", err=True)
        if extras.install_ml() != 0:
            raise click.ClickException(
                f"installing the [ml] extra failed; run: {extras.install_command()}"
            )
    # (scikit-learn and the neurons' HTTP stack: loaded only by this command)
    from ..neurons.demo import DemoError, metagraph_table, run_demo
    from ..neurons.tasks.base import TaskLoadError, load_task

    if not obj.yes and sys.stdin.isatty() and sys.stdout.isatty():
        lock = int(query_json(obj, "/params/subnets")["lock_cost"])
        click.confirm(
            f"The demo spends the dev key's tokens on {obj.node}: it burns the subnet lock cost "
            f"({format_mdt(lock)} now) and four registration burns, and sends 1,800 MDT to its "
            "neurons' keys (1,000 of it staked). Continue?",
            abort=True,
        )
    say = (lambda _: None) if obj.output == "json" else (lambda t: click.echo(t, err=True))
    try:
        task = load_task("digits")
        with user_errors():
            summary = run_demo(
                obj.home, obj.node, task, epochs, tempo, png, max_seconds, say, obj.passphrase_file
            )
    except (DemoError, TaskLoadError) as e:
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt:
        raise click.ClickException(
            "interrupted (every process the demo started is stopped)"
        ) from None
    emit(obj, summary, lambda: metagraph_table(summary) + f"\nchart: {summary['chart']}")
