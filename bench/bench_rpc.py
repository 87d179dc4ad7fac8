"""RPC requests per second with 8 concurrent keep-alive clients: `getblockcount` and
`getblock <full block> 2` against a real potcd, and an aiohttp hello-world handler in the same
run as the transport's ceiling (the ratio potcd / hello-world is what to compare over time).

    .venv/bin/python bench/bench_rpc.py [--clients 8] [--seconds 5] [--block-txs 7000]

The "full block" is built on a fresh regtest chain: one transaction fans a coinbase out to
`--block-txs` outputs and `--block-txs` transactions spend one output each, all mined together
with generateblock (anyone-can-spend P2WSH(OP_TRUE), so no signing is needed); every child
pays a distinct script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from regtest.consensus.address import REGTEST_PREFIXES, encode_segwit, witness_script  # noqa: E402
from regtest.consensus.hashes import hex_to_hash, sha256  # noqa: E402
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut  # noqa: E402
from tests.node.framework import TestNode, free_port  # noqa: E402

TRUE = b"\x51"
TRUE_SPK = witness_script(0, sha256(TRUE))
ADDR = encode_segwit(REGTEST_PREFIXES.hrp, 0, sha256(TRUE))


def build_full_block(node: TestNode, n: int) -> str:
    hashes = node.rpc("generatetoaddress", 101, ADDR)
    cb = hex_to_hash(node.rpc("getblock", hashes[0])["tx"][0])
    each = (50 * 100_000_000 - 100_000) // n
    fan = Transaction(2, (TxIn(OutPoint(cb, 0), b"", 0xFFFFFFFF, (TRUE,)),),
                      tuple(TxOut(each, TRUE_SPK) for _ in range(n)), 0)
    # each child pays a script of its own, so output formatting cannot lean on repetition
    kids = [Transaction(2, (TxIn(OutPoint(fan.txid, i), b"", 0xFFFFFFFF, (TRUE,)),),
                        (TxOut(each - 1000, witness_script(0, sha256(i.to_bytes(4, "little")))),), 0)
            for i in range(n)]
    raw = [fan.serialize().hex()] + [k.serialize().hex() for k in kids]
    return node.rpc("generateblock", ADDR, raw)["hash"]


async def hammer(url: str, auth: str, body: bytes, clients: int, seconds: float) -> tuple[float, int]:
    """Requests per second over `seconds` with `clients` concurrent keep-alive connections."""
    headers = {"Authorization": auth, "Content-Type": "application/json"}
    count = 0
    stop_at = time.perf_counter() + seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal count
        while time.perf_counter() < stop_at:
            async with session.post(url, data=body, headers=headers) as r:
                await r.read()
                if r.status != 200:
                    raise RuntimeError(f"HTTP {r.status}")
            count += 1

    conn = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=conn) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return count / elapsed, count


def hello_world_server(port: int):
    """A separate process serving a constant JSON reply: the transport's ceiling."""
    import multiprocessing

    def serve() -> None:
        async def handle(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(text='{"result":0,"error":null,"id":1}\n', content_type="application/json")

        app = web.Application()
        app.router.add_post("/", handle)
        web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)

    p = multiprocessing.Process(target=serve, daemon=True)
    p.start()
    return p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--block-txs", type=int, default=7000)  # ~3.9M weight units: a full block
    args = ap.parse_args()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        node = TestNode(Path(tmp)).start()
        try:
            t0 = time.perf_counter()
            block = build_full_block(node, args.block_txs)
            info = node.rpc("getblock", block)
            print(f"block {block[:16]}… {info['nTx']} txs, weight {info['weight']}, "
                  f"built in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
            url = f"http://127.0.0.1:{node.rpc_port}/"
            auth = node.auth_header()
            count_body = json.dumps({"method": "getblockcount", "params": [], "id": 1}).encode()
            block_body = json.dumps({"method": "getblock", "params": [block, 2], "id": 1}).encode()
            results["getblockcount_rps"], _ = asyncio.run(
                hammer(url, auth, count_body, args.clients, args.seconds))
            results["getblock_v2_full_block_rps"], _ = asyncio.run(
                hammer(url, auth, block_body, args.clients, args.seconds))
        finally:
            node.stop()
    port = free_port()
    proc = hello_world_server(port)
    try:
        deadline = time.time() + 20
        while True:
            try:
                results["hello_world_rps"], _ = asyncio.run(
                    hammer(f"http://127.0.0.1:{port}/", "Basic x", count_body, args.clients, args.seconds))
                break
            except aiohttp.ClientConnectorError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        proc.terminate()
    results["getblockcount_vs_hello_world"] = results["getblockcount_rps"] / results["hello_world_rps"]
    results["block_txs"] = args.block_txs
    results["clients"] = args.clients
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
