"""Feeding block scenarios to a chain engine and reading back a comparable verdict.

Two engines: ours (`OurChain`, the chainstate in a data directory) and Bitcoin Core's
(`regtest.testing.core_chain.CoreChain`, libbitcoinkernel through pbk). Both answer `submit(raw)`
with a `Verdict`: the reject reason of the submitted block (None when it was accepted) and the
active tip afterwards, so a scenario can be checked against its expectations or two engines
against each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from regtest.consensus.hashes import hash_to_hex
from regtest.consensus.params import NetworkParams
from regtest.testing.blockbuilder import Scenario, Step


@dataclass(frozen=True)
class Verdict:
    reason: str | None  # None: accepted (or, as in Core, a descendant of a block that failed)
    tip: bytes

    def describe(self) -> str:
        return f"{self.reason or 'accepted'} tip={hash_to_hex(self.tip)[:16]}"


class ChainEngine(Protocol):
    def submit(self, raw: bytes) -> Verdict: ...

    def close(self) -> None: ...


class OurChain:
    """Our chainstate in `datadir`, answering with verdicts."""

    def __init__(self, datadir: str, params: NetworkParams, **open_kw) -> None:
        from regtest.chain.chainstate import Chainstate

        self.chainstate = Chainstate.open(datadir, params, **open_kw)

    def submit(self, raw: bytes) -> Verdict:
        from regtest.chain.blockindex import BlockStatus

        res = self.chainstate.process_block(raw)
        reason = None if res.accepted else res.reason
        entry = self.chainstate.get_block_index(res.hash)
        if reason and res.is_new and entry is not None and entry.status & BlockStatus.FAILED_CHILD and not entry.status & BlockStatus.FAILED:
            # Stored, then dropped because an ancestor failed to connect: the block itself was
            # never judged (Core reports nothing for it either).
            reason = None
        return Verdict(reason, self.chainstate.tip.hash)

    @property
    def tip(self) -> bytes:
        return self.chainstate.tip.hash

    def close(self) -> None:
        self.chainstate.close()


@dataclass(frozen=True)
class Mismatch:
    step: Step
    got: Verdict

    def describe(self) -> str:
        want = Verdict(self.step.reason, self.step.tip)
        return (
            f"{self.step.name} (h={self.step.height}, {self.step.block.hash_hex[:16]}): "
            f"want {want.describe()} [{self.step.tip_name}], got {self.got.describe()}"
        )


def run_scenario(engine: ChainEngine, steps: Iterable[Step]) -> list[tuple[Step, Verdict]]:
    """Submit every step's block in order; returns each step with the engine's verdict."""
    return [(step, engine.submit(step.block.serialize())) for step in steps]


def mismatches(results: Iterable[tuple[Step, Verdict]]) -> list[Mismatch]:
    """The steps whose verdict differs from the expectation (reason and tip)."""
    return [Mismatch(s, v) for s, v in results if v.reason != s.reason or v.tip != s.tip]


def check_scenario(engine: ChainEngine, scenario: Scenario) -> list[Mismatch]:
    return mismatches(run_scenario(engine, scenario.steps))


__all__ = ["ChainEngine", "Mismatch", "OurChain", "Verdict", "check_scenario", "mismatches", "run_scenario"]
