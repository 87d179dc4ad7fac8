"""`potc-sidecar`: run the coordinator (HTTP API, cycle driver, ZMQ tip follower and publisher)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
from pathlib import Path

import torch
import zmq
import zmq.asyncio
from aiohttp import web

from .api import Api
from .coordinator import Coordinator, CoordinatorConfig
from .scoring import ScoreWeights
from .verify import VerifyLimits
from .zmqio import FramedPublisher, TipFollower

SHUTDOWN_TIMEOUT = 2.0  # seconds in-flight HTTP requests get at shutdown


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="potc-sidecar", description=__doc__)
    p.add_argument("--datadir", type=Path, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=18550)
    p.add_argument("--zmq-node", help="node's ZMQ endpoint publishing hashblock/rawblock")
    p.add_argument("--zmq-pub", help="endpoint to bind for issued certificates and sealed blocks")
    p.add_argument("--rpc-url", help="node JSON-RPC URL for getblocktemplate/submitblock (default: no node,"
                   " coinbase-only blocks announced on --zmq-pub)")
    p.add_argument("--rpc-user")
    p.add_argument("--rpc-password")
    p.add_argument("--rpc-cookie", type=Path)
    p.add_argument("--task", default="digits", help='digits, teacher, or "package.module:factory"')
    p.add_argument("--task-args", default="{}", help="JSON keyword arguments for the task")
    p.add_argument("--cycle-seconds", type=float, default=10.0)
    p.add_argument("--heldout-size", type=int, default=300)
    p.add_argument("--cap-permille", type=int, default=500)
    p.add_argument("--weight-loss", type=int, default=700)
    p.add_argument("--weight-params", type=int, default=300)
    p.add_argument("--min-gain", type=int, default=500, help="minimum held-out gain to score (micro-units)")
    p.add_argument("--min-alignment", type=int, default=200,
                   help="minimum permille cosine between an update and its shard's descent direction")
    p.add_argument("--max-norm", type=float, default=25.0)
    p.add_argument("--train", default='{"steps": 50, "lr": 0.05, "batch": 64}', help="training hints (JSON)")
    p.add_argument("--max-submission-mb", type=int, default=64, help="largest accepted update body")
    p.add_argument("--no-early-close", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging, and a line per HTTP request")
    return p.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    ctx = zmq.asyncio.Context.instance()
    publisher = FramedPublisher(ctx, args.zmq_pub) if args.zmq_pub else None
    cfg = CoordinatorConfig(
        datadir=args.datadir, task=args.task, task_kwargs=json.loads(args.task_args),
        cycle_seconds=args.cycle_seconds, heldout_size=args.heldout_size, cap_permille=args.cap_permille,
        score_weights=ScoreWeights(args.weight_loss, args.weight_params, args.min_gain, args.min_alignment), limits=VerifyLimits(max_norm=args.max_norm),
        train_hints=json.loads(args.train), early_close=not args.no_early_close)
    templates = tip_source = None
    if args.rpc_url:
        from regtest.consensus.params import regtest_params
        from .crypto import load_or_create_key
        from .rpc_template import NodeRpc, RpcTemplateSource
        from .zmqio import Tip
        key = load_or_create_key(args.datadir / "coordinator.key")
        rpc = NodeRpc(args.rpc_url, user=args.rpc_user, password=args.rpc_password, cookie_path=args.rpc_cookie)
        templates = RpcTemplateSource(rpc, regtest_params(key.xonly))

        async def tip_source() -> Tip:
            h = await rpc.call("getbestblockhash")
            hdr = await rpc.call("getblockheader", h)
            return Tip(bytes.fromhex(h)[::-1], int(hdr["height"]), int(hdr["time"]))
    coord = Coordinator(cfg, templates=templates, publisher=publisher, tip_source=tip_source)
    await coord.start()
    # Miners' assignment long-polls (up to 60 s) must not hold up a SIGTERM shutdown.
    # One access-log line per miner request drowned the cycle lines and cost about a tenth of the
    # coordinator's CPU; -v brings them back.
    runner = web.AppRunner(Api(coord, max_submission=args.max_submission_mb << 20).app(),
                           shutdown_timeout=SHUTDOWN_TIMEOUT,
                           access_log=logging.getLogger("aiohttp.access") if args.verbose else None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    logging.info("potc-sidecar listening on http://%s:%d, coordinator key %s", args.host, args.port,
                 coord.key.xonly.hex())
    tasks = [asyncio.create_task(coord.run())]
    if args.zmq_node:
        tasks.append(asyncio.create_task(TipFollower(ctx, args.zmq_node, coord.on_tip).run()))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    coord.stop()
    for t in tasks:
        t.cancel()
    await runner.cleanup()
    coord.store.close()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
