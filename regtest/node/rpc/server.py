"""The HTTP side of the RPC server (aiohttp): paths, methods, auth, allowed clients, body limit.

Status codes and header quirks follow bitcoind's httpserver/httprpc: 404 for unknown paths,
405 for non-POST, 401 + WWW-Authenticate (after 250 ms for wrong credentials), 403 for clients
outside rpcallowip, 413 + close for bodies over 32 MiB (the body is never read).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from dataclasses import dataclass, field

from aiohttp import web

from regtest.node.rpc.auth import Authenticator
from regtest.node.rpc.envelope import Dispatcher

log = logging.getLogger("potc.rpc")

MAX_BODY_SIZE = 32 * 1024 * 1024
BAD_AUTH_DELAY = 0.25
_HTML = "text/html; charset=ISO-8859-1"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LOCALHOST_NETS: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)


@dataclass
class ServerOptions:
    binds: list[tuple[str, int]]
    allow: list[IPNetwork] = field(default_factory=lambda: list(LOCALHOST_NETS))
    max_body: int = MAX_BODY_SIZE


def _plain(status: int, text: str = "", close: bool = False) -> web.Response:
    resp = web.Response(status=status, text=text or None, content_type="text/html", charset="ISO-8859-1")
    resp.headers["Content-Type"] = _HTML
    if close:
        resp.force_close()
    return resp


class RPCServer:
    def __init__(self, dispatcher: Dispatcher, auth: Authenticator, options: ServerOptions) -> None:
        self.dispatcher = dispatcher
        self.auth = auth
        self.options = options
        self._runner: web.AppRunner | None = None
        self.bound: list[tuple[str, int]] = []

    def _client_allowed(self, request: web.Request) -> bool:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if not peer:
            return False
        try:
            addr = ipaddress.ip_address(peer[0].split("%")[0])
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
            addr = addr.ipv4_mapped
        return any(addr in net for net in self.options.allow)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not self._client_allowed(request):
            return _plain(403, close=True)
        if request.content_length is not None and request.content_length > self.options.max_body:
            return _plain(413, close=True)
        if request.path != "/":
            return _plain(404)
        if request.method != "POST":
            return _plain(405, "JSONRPC server handles only POST requests")
        header = request.headers.get("Authorization")
        if header is None:
            return self._unauthorized()
        if not self.auth.check_header(header):
            log.warning("ThreadRPCServer incorrect password attempt from %s", request.remote)
            await asyncio.sleep(BAD_AUTH_DELAY)
            return self._unauthorized()
        body = await self._read_body(request)
        if body is None:
            return _plain(413, close=True)
        status, text = await self.dispatcher.handle_body(body)
        if text is None:
            return web.Response(status=status)
        return web.Response(status=status, text=text, content_type="application/json")

    async def _read_body(self, request: web.Request) -> bytes | None:
        """The whole body, or None once it grows past the limit (chunked bodies included)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = await request.content.readany()
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.options.max_body:
                return None
            chunks.append(chunk)

    def _unauthorized(self) -> web.Response:
        resp = _plain(401)
        resp.headers["WWW-Authenticate"] = 'Basic realm="jsonrpc"'
        return resp

    async def start(self) -> None:
        app = web.Application(client_max_size=self.options.max_body + 1)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        for host, port in self.options.binds:
            site = web.TCPSite(self._runner, host, port, reuse_address=True)
            try:
                await site.start()
            except OSError as e:
                if host == "::1" and len(self.options.binds) > 1:
                    log.info("Binding RPC on ::1 failed (%s); continuing", e)
                    continue
                raise
            self.bound.append((host, port))
            log.info("Binding RPC on address %s port %d", host, port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False
