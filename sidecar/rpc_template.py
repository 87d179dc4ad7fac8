"""A `TemplateSource` backed by the node's getblocktemplate (JSON-RPC over HTTP).

Each call fetches a template, checks that it builds on the parent the cycle is sealing for,
builds the block with `regtest.consensus.gbt` and asks the node to judge it in proposal mode
(the certificate is added afterwards by `seal_block`, so the proposal leaves it unchecked).
`submit_block` hands the sealed block back with submitblock.

    source = RpcTemplateSource(NodeRpc("http://127.0.0.1:18443", cookie_path=...), params)
    coordinator = Coordinator(..., templates=source)
"""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path
from typing import Any

import aiohttp

from regtest.consensus.block import Block
from regtest.consensus.gbt import TemplateData, TemplateError, block_from_template, parse_template
from regtest.consensus.hashes import hash_to_hex
from regtest.consensus.params import NetworkParams

from .template import Template

MAX_REPLY = 64 * 1024 * 1024
#: Payout used only for the proposal check: any script gives the same verdict on the rest.
PROPOSAL_PAYOUT = bytes([0x51, 0x20]) + bytes(32)


class NodeRpcError(RuntimeError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class NodeRpc:
    """A minimal JSON-RPC 1.0 client for potcd (cookie or user/password authentication)."""

    def __init__(self, url: str, *, user: str | None = None, password: str | None = None,
                 cookie_path: str | Path | None = None, timeout: float = 30.0) -> None:
        self.url = url
        self.user, self.password = user, password
        self.cookie_path = Path(cookie_path) if cookie_path else None
        self.timeout = timeout
        self._ids = itertools.count(1)

    def _auth(self) -> str:
        if self.cookie_path is not None:
            user, _, password = self.cookie_path.read_text().strip().partition(":")
        else:
            user, password = self.user or "", self.password or ""
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    async def call(self, method: str, *params: Any) -> Any:
        body = json.dumps({"jsonrpc": "1.0", "id": next(self._ids), "method": method, "params": list(params)})
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        headers = {"Content-Type": "application/json", "Authorization": self._auth()}
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(self.url, data=body, headers=headers) as resp:
                raw = await resp.content.read(MAX_REPLY + 1)
                if len(raw) > MAX_REPLY:
                    raise NodeRpcError(-32700, "reply too large")
                if resp.status == 401:
                    raise NodeRpcError(-342, "authorization failed")
        try:
            reply = json.loads(raw)
        except ValueError:
            raise NodeRpcError(-32700, f"HTTP {resp.status}: reply is not JSON") from None
        if not isinstance(reply, dict):
            raise NodeRpcError(-32700, "reply is not an object")
        err = reply.get("error")
        if err:
            raise NodeRpcError(int(err.get("code", -1)), str(err.get("message", "")))
        return reply.get("result")


class TemplateUnavailable(RuntimeError):
    """The node's template does not fit the cycle (other parent) or failed its proposal check."""


class RpcTemplateSource:
    def __init__(self, rpc: NodeRpc, params: NetworkParams) -> None:
        self.rpc = rpc
        self.params = params
        self.last: TemplateData | None = None

    async def template(self, parent: bytes, height: int, parent_time: int) -> Template:
        result = await self.rpc.call("getblocktemplate", {"rules": ["segwit"]})
        try:
            tpl = parse_template(result, self.params)
        except TemplateError as e:
            raise TemplateUnavailable(f"malformed template: {e}") from None
        if tpl.prev_hash != parent or tpl.height != height:
            raise TemplateUnavailable(
                f"node builds on {hash_to_hex(tpl.prev_hash)} at {tpl.height}, cycle seals {hash_to_hex(parent)} at {height}"
            )
        block = block_from_template(tpl, self.params, PROPOSAL_PAYOUT)
        verdict = await self.rpc.call("getblocktemplate", {"mode": "proposal", "data": block.serialize().hex()})
        if verdict is not None:
            raise TemplateUnavailable(f"proposal rejected: {verdict}")
        self.last = tpl
        time = max(tpl.curtime, tpl.mintime, parent_time + 1)
        return Template(parent, height, time, tpl.txs, tpl.fees)

    async def submit_block(self, block: Block) -> str | None:
        """submitblock: None when accepted, else the node's BIP22 reason."""
        return await self.rpc.call("submitblock", block.serialize().hex())
