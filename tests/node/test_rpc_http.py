"""The JSON-RPC transport against a real potcd: HTTP status codes, auth, envelopes, batches."""

from __future__ import annotations

import json
import socket
import time


from tests.node.framework import TestNode

HTML = "text/html; charset=ISO-8859-1"


def test_get_is_405_with_core_text(node):
    r = node.request("GET", body=None)
    assert r.status == 405
    assert r.body == b"JSONRPC server handles only POST requests"
    assert r.headers["content-type"] == HTML


def test_unknown_path_is_404_empty(node):
    for path in ("/nope", "/wallet/x"):
        r = node.post({"method": "getblockcount"}, path=path)
        assert r.status == 404 and r.body == b""
        assert r.headers["content-type"] == HTML


def test_missing_credentials_401(node):
    r = node.post({"method": "getblockcount"}, auth=None)
    assert r.status == 401 and r.body == b""
    assert r.headers["www-authenticate"] == 'Basic realm="jsonrpc"'


def test_wrong_credentials_401_after_delay(node):
    start = time.monotonic()
    r = node.post({"method": "getblockcount"}, auth=node.auth_header("__cookie__", "wrong"))
    assert r.status == 401
    assert r.headers["www-authenticate"] == 'Basic realm="jsonrpc"'
    assert time.monotonic() - start >= 0.25
    assert node.post({"method": "getblockcount"}, auth="Bearer abc").status == 401
    assert node.post({"method": "getblockcount"}, auth="Basic !!!notbase64").status == 401


def test_cookie_file_format(node):
    text = node.cookie_path.read_text()
    user, _, password = text.partition(":")
    assert user == "__cookie__" and len(password) == 64 and not text.endswith("\n")
    assert int(password, 16) >= 0
    assert (node.cookie_path.stat().st_mode & 0o777) == 0o600


def test_legacy_success_envelope(node):
    r = node.post({"method": "getblockcount", "params": [], "id": "x"})
    assert r.status == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.body.endswith(b"\n")
    assert r.json() == {"result": 0, "error": None, "id": "x"}
    # no id key: the reply has none either
    assert node.post({"method": "getblockcount"}).json() == {"result": 0, "error": None}


def test_legacy_errors_http_status(node):
    r = node.post({"method": "nosuchmethod", "id": 1})
    assert r.status == 404
    assert r.json() == {"result": None, "error": {"code": -32601, "message": "Method not found"}, "id": 1}
    r = node.post({"method": "getblockhash", "params": [99], "id": 2})
    assert r.status == 500 and r.json()["error"] == {"code": -8, "message": "Block height out of range"}
    r = node.post({"id": 3})
    assert r.status == 400 and r.json()["error"] == {"code": -32600, "message": "Missing method"}
    r = node.post({"method": 5, "id": 3})
    assert r.status == 400 and r.json()["error"]["message"] == "Method must be a string"


def test_parse_errors(node):
    for body in (b"{not json", b""):
        r = node.request(body=body)
        assert r.status == 500
        assert r.json() == {"result": None, "error": {"code": -32700, "message": "Parse error"}, "id": None}
    r = node.request(body=b"42")
    assert r.status == 500
    assert r.json()["error"] == {"code": -32700, "message": "Top-level object parse error"}


def test_hostile_bodies(node):
    r = node.request(body=b"[" * 200_000)  # nesting deeper than any parser recursion
    assert r.status == 500 and r.json()["error"]["code"] == -32700
    r = node.request(body=b'{"method": "getblockcount", "params": [NaN], "id": 1}')
    assert r.status == 500 and r.json()["error"]["code"] == -32700
    r = node.request(body=b"\xff\xfe garbage")
    assert r.status == 500 and r.json()["error"]["code"] == -32700
    r = node.post({"method": "getblockhash", "params": [2**70], "id": 1})
    assert r.json()["error"] == {"code": -1, "message": "JSON integer out of range"}
    assert node.rpc("getblockcount") == 0


def test_jsonrpc_field_errors(node):
    r = node.post({"jsonrpc": 2.0, "method": "getblockcount", "id": 1})
    assert r.status == 400 and r.json()["error"]["message"] == "jsonrpc field must be a string"
    r = node.post({"jsonrpc": "3.0", "method": "getblockcount", "id": 1})
    assert r.status == 400 and r.json()["error"]["message"] == "JSON-RPC version not supported"


def test_v2_envelopes(node):
    r = node.post({"jsonrpc": "2.0", "method": "getblockcount", "id": 7})
    assert r.status == 200 and r.json() == {"jsonrpc": "2.0", "result": 0, "id": 7}
    r = node.post({"jsonrpc": "2.0", "method": "nosuch", "id": 8})
    assert r.status == 200
    assert r.json() == {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": 8}
    # envelope errors of a single 2.0 request still get HTTP 400 (section 0, item 7)
    r = node.post({"jsonrpc": "2.0", "id": 5})
    assert r.status == 400
    assert r.json() == {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Missing method"}, "id": 5}
    r = node.post({"jsonrpc": "2.0", "method": "getblockcount", "params": 3, "id": 5})
    assert r.status == 400 and r.json()["error"]["message"] == "Params must be an array or object"
    # a notification: executed, 204, no body
    r = node.post({"jsonrpc": "2.0", "method": "getblockcount"})
    assert r.status == 204 and r.body == b""


def test_batch_mixed_good_and_bad(node):
    batch = [
        {"method": "getblockcount", "id": 1},
        {"method": "nosuch", "id": 2},
        {"id": 3},
        {"jsonrpc": "2.0", "method": "getblockcount"},  # notification: no reply
        {"jsonrpc": "2.0", "method": "getblockhash", "params": ["x"], "id": 4},
        {"method": "getbestblockhash", "params": {}, "id": 5},
    ]
    r = node.post(batch)
    assert r.status == 200
    replies = r.json()
    assert len(replies) == 5
    assert replies[0] == {"result": 0, "error": None, "id": 1}
    assert replies[1]["error"]["code"] == -32601 and replies[1]["id"] == 2
    assert replies[2]["error"] == {"code": -32600, "message": "Missing method"}
    assert replies[3]["jsonrpc"] == "2.0" and replies[3]["error"]["code"] == -3 and "result" not in replies[3]
    assert len(replies[4]["result"]) == 64


def test_batch_quirks(node):
    assert node.post([]).json() == [] and node.post([]).status == 200
    r = node.post([{"jsonrpc": "2.0", "method": "getblockcount"}])
    assert r.status == 204 and r.body == b""
    # a non-object element reuses the previous element's id and style
    r = node.post([{"jsonrpc": "2.0", "method": "getblockcount", "id": 6}, 7])
    assert r.json()[1] == {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request object"}, "id": 6}
    r = node.post([7])
    assert r.json() == [{"result": None, "error": {"code": -32600, "message": "Invalid Request object"}, "id": None}]


def test_wrong_types_and_arity(node):
    r = node.post({"method": "getblockhash", "params": ["1"], "id": 1})
    assert r.status == 500
    assert r.json()["error"] == {
        "code": -3,
        "message": 'Wrong type passed:\n{\n    "Position 1 (height)": "JSON value of type string is not of expected type number"\n}',
    }
    r = node.post({"method": "getblock", "params": [node.rpc("getbestblockhash"), "x"], "id": 1})
    assert r.json()["error"] == {"code": -3, "message": "JSON value of type string is not of expected type number"}
    r = node.post({"method": "getblockhash", "params": [], "id": 1})
    err = r.json()["error"]
    assert err["code"] == -1 and err["message"].startswith("getblockhash height\n")
    assert "Arguments:" in err["message"]
    r = node.post({"method": "getblockcount", "params": [1], "id": 1})
    assert r.json()["error"]["code"] == -1


def test_named_params(node):
    best = node.rpc("getbestblockhash")
    r = node.post({"method": "getblock", "params": {"blockhash": best, "verbose": 0}, "id": 1})
    assert r.json()["result"].startswith("01000000")
    r = node.post({"method": "getblock", "params": {"blockhash": best, "bogus": 1}, "id": 1})
    assert r.json()["error"] == {"code": -8, "message": "Unknown named parameter bogus"}
    r = node.post({"method": "getblock", "params": {"blockhash": best, "verbose": 0, "verbosity": 1}, "id": 1})
    assert r.json()["error"]["code"] == -8
    r = node.post({"method": "getblockhash", "params": {"args": [0]}, "id": 1})
    assert r.json()["result"] == best


def test_oversized_body_413_and_node_keeps_serving(node):
    with socket.create_connection(("127.0.0.1", node.rpc_port), timeout=10) as s:
        s.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nAuthorization: " + node.auth_header().encode()
            + b"\r\nContent-Type: application/json\r\nContent-Length: 33554433\r\n\r\n"
        )
        head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 413")
    assert b"connection: close" in head.lower()
    assert node.rpc("getblockcount") == 0


def test_body_at_limit_is_read(node):
    # larger than one socket read: the server must collect the whole body
    body = json.dumps({"method": "getblockcount", "id": 1, "pad": "x" * 3_000_000}).encode()
    assert node.request(body=body).json()["result"] == 0


def test_rpcuser_rpcpassword_and_rpcauth(tmp_path):
    from regtest.node.rpc.auth import make_rpcauth

    conf = "rpcuser=alice\nrpcpassword=secret\nrpcauth=" + make_rpcauth("bob", "hunter2") + "\n"
    n = TestNode(tmp_path, conf=conf, user="alice", password="secret").start()
    try:
        assert not n.cookie_path.exists()  # a password disables the cookie
        ok = n.post({"method": "getblockcount", "id": 1}, auth=n.auth_header("alice", "secret"))
        assert ok.status == 200
        ok = n.post({"method": "getblockcount", "id": 1}, auth=n.auth_header("bob", "hunter2"))
        assert ok.status == 200
        assert n.post({"method": "getblockcount"}, auth=n.auth_header("bob", "nope")).status == 401
        assert n.post({"method": "getblockcount"}, auth=n.auth_header("alice", "hunter2")).status == 401
    finally:
        n.process.terminate()
        n.process.wait(30)
