"""potc-verifytx: check every input of a raw transaction against the outputs it spends.

The command-line face of the script engine: the same verdict, with Bitcoin Core's script error names,
that block and mempool validation reach through `regtest.consensus.verify`.
"""

from __future__ import annotations

import argparse
import json
import sys

from regtest.consensus.script_error import ScriptError
from regtest.consensus.script_flags import MANDATORY_FLAGS, STANDARD_FLAGS, ScriptFlags, parse_flags
from regtest.consensus.serialize import DeserializationError
from regtest.consensus.transaction import MAX_MONEY, Transaction, TxOut
from regtest.consensus.verify import PrecomputedTxData, check_input

FLAG_PRESETS = {"consensus": MANDATORY_FLAGS, "standard": STANDARD_FLAGS, "none": ScriptFlags.NONE}


def parse_spent_output(text: str) -> TxOut:
    """`<amount in satoshis>:<scriptPubKey hex>`."""
    amount_text, sep, script_hex = text.partition(":")
    if not sep:
        raise ValueError(f"spent output {text!r}: expected <satoshis>:<scriptPubKey hex>")
    try:
        amount = int(amount_text)
    except ValueError:
        raise ValueError(f"spent output {text!r}: amount must be an integer number of satoshis") from None
    if not 0 <= amount <= MAX_MONEY:
        raise ValueError(f"spent output {text!r}: amount out of range")
    try:
        script = bytes.fromhex(script_hex)
    except ValueError:
        raise ValueError(f"spent output {text!r}: scriptPubKey must be hex") from None
    return TxOut(amount, script)


def flags_from_text(text: str) -> ScriptFlags:
    preset = FLAG_PRESETS.get(text)
    return ScriptFlags(preset) if preset is not None else parse_flags(text)


def verify(tx_hex: str, spent: list[TxOut], flags: ScriptFlags) -> dict:
    tx = Transaction.from_hex(tx_hex)
    if len(spent) != len(tx.vin):
        raise ValueError(f"transaction has {len(tx.vin)} inputs but {len(spent)} spent outputs were given")
    txdata = PrecomputedTxData(tx, spent)
    results = [check_input(tx, i, spent, flags, txdata) for i in range(len(tx.vin))]
    return {
        "txid": tx.txid_hex,
        "wtxid": tx.wtxid_hex,
        "valid": all(r is ScriptError.OK for r in results),
        "inputs": [{"index": i, "result": r.name} for i, r in enumerate(results)],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="potc-verifytx", description=__doc__.splitlines()[0])
    ap.add_argument("tx", help="the spending transaction, hex")
    ap.add_argument(
        "spent",
        nargs="*",
        help="one <satoshis>:<scriptPubKey hex> per input, in input order",
    )
    ap.add_argument(
        "--flags",
        default="consensus",
        help="comma-separated script verification flags (Core's names), or 'consensus' (default), "
        "'standard' (mempool policy) or 'none'",
    )
    args = ap.parse_args(argv)
    try:
        flags = flags_from_text(args.flags)
        report = verify(args.tx, [parse_spent_output(s) for s in args.spent], flags)
    except (ValueError, DeserializationError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0 if report["valid"] else 1


if __name__ == "__main__":
    sys.exit(main())
