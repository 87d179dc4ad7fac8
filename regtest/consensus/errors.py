"""The exception every block rule raises, with Core's reject reason and result category.

The category matters to callers: a block that fails with `MUTATED` may share its hash with a
valid block (so it must not be cached as invalid), and `TIME_FUTURE` may become valid later.
"""

from __future__ import annotations

import enum


class BlockResult(enum.Enum):
    """Core's BlockValidationResult values that consensus code can produce."""

    CONSENSUS = "consensus"  # invalid by consensus rules: mark the block and its descendants
    MUTATED = "mutated"  # body does not match the header (hash may belong to a valid block)
    INVALID_HEADER = "invalid-header"  # bad proof, version, difficulty, time-too-old
    TIME_FUTURE = "time-future"  # too far in the future, may be accepted later
    INVALID_PREV = "invalid-prev"  # builds on an invalid block
    MISSING_PREV = "missing-prev"  # parent unknown


class BlockValidationError(Exception):
    """A block (or header) broke a rule; `reason` is Core's reject string (e.g. 'bad-cb-amount')."""

    def __init__(
        self, reason: str, debug: str = "", result: BlockResult = BlockResult.CONSENSUS
    ) -> None:
        super().__init__(f"{reason}, {debug}" if debug else reason)
        self.reason = reason
        self.debug = debug
        self.result = result

    @property
    def is_mutation(self) -> bool:
        return self.result is BlockResult.MUTATED
