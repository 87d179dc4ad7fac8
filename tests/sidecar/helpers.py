"""Test harness: a real coordinator with its HTTP API on loopback, run in a background event loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Coroutine

from aiohttp import web

from regtest.consensus.block import Block
from regtest.testing.ports import free_port  # noqa: F401 - used by the sidecar tests
from sidecar.api import Api
from sidecar.coordinator import Coordinator, CoordinatorConfig
from sidecar.zmqio import tip_from_rawblock


class Harness:
    """Coordinator + API in a thread; cycles are closed by the test (long deadline, no early close)
    unless the config says otherwise."""

    def __init__(self, cfg: CoordinatorConfig, run_driver: bool = False, **api_kw: Any) -> None:
        self.cfg = cfg
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.api_kw = api_kw
        self.run_driver = run_driver
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()
        if not self.ready.wait(60):
            raise RuntimeError("coordinator did not start")

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._setup())
        self.ready.set()
        self.loop.run_forever()

    async def _setup(self) -> None:
        self.coord = Coordinator(self.cfg)
        await self.coord.start()
        self.runner = web.AppRunner(Api(self.coord, **self.api_kw).app())
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        if self.run_driver:
            self.driver = asyncio.ensure_future(self.coord.run())

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close_cycle(self) -> dict[str, Any]:
        return self.call(self.coord.close_cycle())

    def connect_sealed(self, record: dict[str, Any]) -> Block:
        """Play the node: take the sealed block as the new tip (opens the next cycle)."""
        block = Block.parse(bytes.fromhex(record["block"]))
        self.call(self.coord.on_tip(tip_from_rawblock(block.serialize())))
        return block

    def stop(self) -> None:
        async def _down() -> None:
            self.coord.stop()
            await self.runner.cleanup()
        self.call(_down())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.coord.store.close()


def digits_config(datadir: Path, **kw: Any) -> CoordinatorConfig:
    base: dict[str, Any] = dict(datadir=datadir, task="digits", cycle_seconds=3600, early_close=False,
                                task_kwargs={"hidden": 64, "segments": 8, "shards": 4})
    base.update(kw)
    return CoordinatorConfig(**base)
