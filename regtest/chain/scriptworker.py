"""A script-check worker process: `python -m regtest.chain.scriptworker`.

Reads requests from stdin and answers on stdout, each a 4-byte little-endian length followed by
a pickle. Only its parent (ParallelScriptChecker) talks to it, over pipes. Request:
(jobs, flags), where jobs is a list of (tx_index, serialized tx, [(value, script_pubkey), ...]).
Answer: None when every input passes, else (tx_index, reason, debug) of the first failure.
Exits at end of input.
"""

from __future__ import annotations

import pickle
import struct
import sys
from typing import BinaryIO

from regtest.consensus.block_validation import ScriptCheckJob, run_script_checks
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.script_flags import ScriptFlags
from regtest.consensus.transaction import Transaction, TxOut

_LEN = struct.Struct("<I")

RawJob = tuple[int, bytes, list[tuple[int, bytes]]]
Failure = tuple[int, str, str]


def check_raw_jobs(raw_jobs: list[RawJob], flags: int) -> Failure | None:
    """Rebuild the jobs from bytes and check them in order; the first failure or None."""
    f = ScriptFlags(flags)
    for tx_index, raw, spent in raw_jobs:
        job = ScriptCheckJob(tx_index, Transaction.parse(raw), tuple(TxOut(v, s) for v, s in spent))
        try:
            run_script_checks([job], f)
        except BlockValidationError as e:
            return (tx_index, e.reason, e.debug)
    return None


def read_message(stream: BinaryIO) -> object:
    head = stream.read(_LEN.size)
    if len(head) < _LEN.size:
        raise EOFError
    (n,) = _LEN.unpack(head)
    body = stream.read(n)
    if len(body) < n:
        raise EOFError
    return pickle.loads(body)


def write_message(stream: BinaryIO, obj: object) -> None:
    body = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LEN.pack(len(body)) + body)
    stream.flush()


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            raw_jobs, flags = read_message(stdin)  # type: ignore[misc]
        except EOFError:
            return
        write_message(stdout, check_raw_jobs(raw_jobs, flags))


if __name__ == "__main__":
    main()
