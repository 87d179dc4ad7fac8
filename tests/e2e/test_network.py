"""End to end: the whole network as real processes (potcd, potc-sidecar, 3 potc-miner) started
through the harness, checked from outside only: python-bitcoinlib's RPC Proxy against the node,
a ZMQ subscriber in Core's framing, and the coordinator's public HTTP API.

Every block mined through a training cycle must carry a certificate that verifies (signature by
the network's coordinator key, commitment to the block), pay the winner the coordinator's audit
log names, and be announced on ZMQ; the model's accuracy rises over the cycles; transactions sent
with sendrawtransaction between cycles are mined.
"""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib import request

import bitcoin
import bitcoin.rpc
import pytest
import zmq
from bitcoin.core import CTransaction, b2lx, lx

from regtest.consensus.address import encode_segwit
from regtest.consensus.block import Block
from regtest.consensus.certificate import block_commitment, extract_certificate
from regtest.consensus.hashes import hash160
from regtest.consensus.params import regtest_params
from regtest.harness import NetConfig, Network
from regtest.testing.miniwallet import MiniWallet
from regtest.testing.ports import free_ports
from sidecar import wire
from sidecar.audit import audit_cycle
from sidecar.tasks import DigitsTask
from sidecar.training import eval_accuracy

REPO = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).parent / "potc-net"
#: the installed console script when there is one (as a user runs it), else the module
POTC_NET = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "regtest.harness.cli"]
PREMINE = 104             # coinbases 1..5 are spendable in block 105
TRAINING_BLOCKS = 12
TXS = 4
MINER_WINS = 6
FEE = 2_000
WAIT = 240.0


def http_json(url: str) -> dict:
    with request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


class ZmqRecorder:
    """Subscribes to hashblock and rawblock like a Core client; keeps (topic, body, seq)."""

    def __init__(self, endpoint: str) -> None:
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.RCVTIMEO, 200)
        self.sock.setsockopt(zmq.LINGER, 0)
        for topic in (b"hashblock", b"rawblock"):
            self.sock.setsockopt(zmq.SUBSCRIBE, topic)
        self.sock.connect(endpoint)
        self.messages: list[tuple[str, bytes, int]] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                parts = self.sock.recv_multipart()
            except zmq.Again:
                continue
            assert len(parts) == 3 and len(parts[2]) == 4, parts
            self.messages.append((parts[0].decode(), parts[1], struct.unpack("<I", parts[2])[0]))

    def of(self, topic: str) -> list[tuple[bytes, int]]:
        return [(body, seq) for t, body, seq in list(self.messages) if t == topic]

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.sock.close()
        self.ctx.term()


def miner_won_cycles(net: Network) -> int:
    """Sealed cycles whose lottery drew a miner (not the coordinator's fallback)."""
    current = net.sidecar.status()["cycle"]
    logs = [net.sidecar.audit(c) for c in range(1, current + 1)]
    return sum(1 for lg in logs if lg.get("state") == "sealed" and lg.get("winner") is not None)


def wait_until(pred, what: str, net: Network, timeout: float = WAIT) -> None:
    end = time.monotonic() + timeout
    while not pred():
        dead = [p.name for p in net.recorded() if not p.alive()]
        assert not dead, f"{dead} died; sidecar log: {net.layout.log('sidecar').read_text()[-3000:]}"
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """A running network with a premined wallet, a ZMQ recorder, and transactions sent between
    training cycles. Yields after TRAINING_BLOCKS blocks and every transaction is mined."""
    rpc, zmqp, http, zmq2 = free_ports(4)
    cfg = NetConfig(miners=3, cycle_seconds=2.0, rpc_port=rpc, zmq_port=zmqp, sidecar_port=http,
                    sidecar_zmq_port=zmq2, node_generate=True)
    net = Network(tmp_path_factory.mktemp("net"), cfg)
    recorder = None
    try:
        net.prepare()
        net.start_node()
        bitcoin.SelectParams("regtest")
        user, password = net.node.credentials()
        proxy = bitcoin.rpc.Proxy(service_url=f"http://{user}:{password}@127.0.0.1:{rpc}", timeout=60)
        recorder = ZmqRecorder(cfg.zmq_endpoint)
        # Premine (generatetoaddress: the node signs with the coordinator key) for spendable coins.
        wallet = MiniWallet()
        address = encode_segwit("bcrt", 0, hash160(wallet.pubkey))
        for h in proxy.call("generatetoaddress", PREMINE, address):
            wallet.scan_block(Block.parse(bytes.fromhex(proxy.call("getblock", h, 0))),
                              proxy.call("getblockheader", h)["height"])
        net.start_sidecar()
        net.start_miners()
        txids: list[bytes] = []
        for _ in range(TXS):  # one transaction, wait for it to be mined and a block more, next one
            height = proxy.getblockcount()
            tx, _ = wallet.self_transfer(wallet.take(height), FEE)
            txid = proxy.sendrawtransaction(CTransaction.deserialize(tx.serialize()))
            assert txid == tx.txid
            txids.append(txid)
            wait_until(lambda: b2lx(txid) not in proxy.call("getrawmempool"), "the transaction mined", net)
            wait_until(lambda: proxy.getblockcount() > height + 1, "a block", net)
        # Enough blocks, and enough cycles whose updates scored (fewer per block on a loaded machine).
        wait_until(lambda: proxy.getblockcount() >= PREMINE + TRAINING_BLOCKS
                   and miner_won_cycles(net) >= MINER_WINS, "training blocks", net)
        yield net, proxy, recorder, txids
    finally:
        if recorder is not None:
            recorder.close()
        net.stop()


def training_blocks(proxy, upto: int) -> list[tuple[int, Block]]:
    """The blocks above the premine, parsed by this project and cross-checked by python-bitcoinlib."""
    out = []
    for h in range(PREMINE + 1, upto + 1):
        bhash = proxy.getblockhash(h)
        raw = bytes.fromhex(proxy.call("getblock", b2lx(bhash), 0))
        block = Block.parse(raw)
        assert block.hash == bhash
        assert proxy.getblock(bhash).GetHash() == bhash  # python-bitcoinlib decodes it too
        out.append((h, block))
    return out


@pytest.mark.slow
def test_training_blocks_carry_verified_certificates_paying_the_audited_winner(network):
    net, proxy, _, _ = network
    tip = proxy.getblockcount()
    blocks = training_blocks(proxy, tip)
    assert len(blocks) >= TRAINING_BLOCKS
    coordinator = net.coordinator_key().xonly
    params = regtest_params(coordinator)
    miner_scripts = {net.miner_key(i).p2wpkh_script() for i in range(3)}
    miner_wins = 0
    cycles = []
    for height, block in blocks:
        cert = extract_certificate(block)
        assert cert.verify_signature()
        assert cert.coordinator_key == coordinator
        assert cert.network == params.magic
        assert cert.block_commitment == block_commitment(block)
        assert (cert.parent_hash, cert.height) == (block.header.prev_hash, height)
        log = http_json(f"{net.cfg.sidecar_url}/v1/audit/{cert.cycle_id}")
        assert log["state"] == "sealed" and log["block_hash"] == block.hash[::-1].hex()
        assert log["certificate"] == cert.serialize().hex()
        report = audit_cycle(cert, log)  # recomputes scores, weights, the draw, the proofs
        if log["winner"] is None:
            expected = bytes.fromhex(log["fallback_payout"])
        else:
            expected = bytes.fromhex(log["contributions"][log["winner"]]["payout"])
            assert expected in miner_scripts
            miner_wins += 1
        assert report.payout_script == expected == bytes.fromhex(log["payout_script"])
        paid = {o.script_pubkey for o in block.txs[0].vout if o.value > 0}
        assert paid == {expected}
        cycles.append(cert.cycle_id)
    assert cycles == sorted(cycles) and len(set(cycles)) == len(cycles)
    assert miner_wins >= MINER_WINS


@pytest.mark.slow
def test_accuracy_rises_and_heldout_loss_never_increases(network):
    net, proxy, _, _ = network
    logs = [http_json(f"{net.cfg.sidecar_url}/v1/audit/{extract_certificate(b).cycle_id}")
            for _, b in training_blocks(proxy, proxy.getblockcount())]
    for lg in logs:
        assert lg["heldout_loss_after"] <= lg["heldout_loss_before"]
    # The model the first cycle started from (a public checkpoint) is untrained.
    with request.urlopen(f"{net.cfg.sidecar_url}/v1/model/{logs[0]['base_model']}", timeout=30) as r:
        state, _ = wire.decode(r.read(), max_tensors=100)
    task = DigitsTask()
    initial = eval_accuracy(task.spec, state, *task.test_set())
    acc = [lg["test_accuracy"] for lg in logs]
    assert initial < 0.5, initial
    assert acc[-1] > 0.9 and max(acc) > initial + 0.4, acc
    half = len(acc) // 2
    assert sum(acc[half:]) / (len(acc) - half) >= sum(acc[:half]) / half, acc
    assert logs[-1]["heldout_loss_after"] < logs[0]["heldout_loss_before"] / 4


@pytest.mark.slow
def test_blocks_announced_on_zmq_in_core_framing(network):
    net, proxy, recorder, _ = network
    tip = proxy.getblockcount()
    blocks = training_blocks(proxy, tip)
    raws = {block.serialize() for _, block in blocks}
    wait_until(lambda: raws <= {body for body, _ in recorder.of("rawblock")}, "ZMQ rawblock", net, 30)
    for topic in ("hashblock", "rawblock"):
        seqs = [seq for _, seq in recorder.of(topic)]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gaps
    hashes = [body for body, _ in recorder.of("hashblock")]
    raws = [body for body, _ in recorder.of("rawblock")]
    for _, block in blocks:
        assert block.hash[::-1] in hashes
        assert block.serialize() in raws


@pytest.mark.slow
def test_transactions_sent_between_cycles_are_mined_in_training_blocks(network):
    net, proxy, _, txids = network
    assert len(txids) == TXS
    for txid in txids:
        info = proxy.call("getrawtransaction", b2lx(txid), True)  # txindex=1
        block = Block.parse(bytes.fromhex(proxy.call("getblock", info["blockhash"], 0)))
        assert txid in [t.txid for t in block.txs]
        height = proxy.call("getblockheader", info["blockhash"])["height"]
        assert height > PREMINE
        log = http_json(f"{net.cfg.sidecar_url}/v1/audit/{extract_certificate(block).cycle_id}")
        assert log["block_hash"] == info["blockhash"]  # sealed by a training cycle
    status = http_json(f"{net.cfg.sidecar_url}/v1/status")
    assert status["miners"] == 3 and status["coordinator_key"] == net.coordinator_key().xonly.hex()
    assert all(p.alive() for p in net.recorded())
    assert lx(info["blockhash"]) == block.hash


# --- the potc-net command, as a user runs it -----------------------------------------------------
def potc_net(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*POTC_NET, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)


def port_args(ports: list[int]) -> list[str]:
    return ["--rpc-port", str(ports[0]), "--zmq-port", str(ports[1]), "--sidecar-port", str(ports[2]),
            "--sidecar-zmq-port", str(ports[3])]


def pids_of(datadir: Path) -> dict[str, int]:
    return {f.stem: int(f.read_text().split()[0]) for f in (datadir / "run").glob("*.pid")}


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


PROGRESS_LINE = re.compile(r"^cycle +\d+ +height +\d+ +winner +\S+ +verified +\d+.*held-out loss \d+\.\d+ -> "
                           r"\d+\.\d+ +accuracy +\d+\.\d% +block [0-9a-f]{64}$")


@pytest.mark.slow
def test_potc_net_detach_status_stop(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    ports = free_ports(4)
    r = potc_net("start", "--datadir", str(a), "--detach", "--miners", "3", "--cycle-seconds", "2",
                 *port_args(ports))
    try:
        assert r.returncode == 0, r.stderr + r.stdout
        assert re.search(rf"^stop: +\S*potc-net stop --datadir {re.escape(str(a))}$", r.stdout, re.M), r.stdout
        assert set(pids_of(a)) == {"node", "sidecar", "miner0", "miner1", "miner2"}
        # status, until a few training blocks exist
        end = time.monotonic() + 120
        while True:
            st = potc_net("status", "--datadir", str(a))
            assert st.returncode == 0, st.stdout + st.stderr
            assert "miners    3 of 3 alive" in st.stdout
            m = re.search(r"height (\d+)", st.stdout)
            if m and int(m.group(1)) >= 3:
                break
            assert time.monotonic() < end, st.stdout
            time.sleep(0.5)
        assert re.search(r"sidecar +running +cycle \d+ \(\w+\), 3 miners registered", st.stdout), st.stdout
        # the potc-cli command the start-up output suggests works against this node
        cli = subprocess.run([sys.executable, "-m", "regtest.node.cli", f"-datadir={a / 'node'}", "getblockcount"],
                             capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert cli.returncode == 0 and int(cli.stdout) >= 3, cli.stderr
        again = potc_net("start", "--datadir", str(a), "--detach")
        assert again.returncode == 1 and "already running" in again.stderr, again.stderr
        clash = potc_net("start", "--datadir", str(b), "--detach", *port_args([ports[0], *free_ports(3)]))
        assert clash.returncode == 1 and f"port {ports[0]} (node RPC) is already in use" in clash.stderr
        assert pids_of(b) == {}
    finally:
        pids = pids_of(a)
        stop = potc_net("stop", "--datadir", str(a))
    assert stop.returncode == 0, stop.stdout + stop.stderr
    for name, pid in pids.items():
        assert re.search(rf"^{name} +\(pid {pid}\) stopped$", stop.stdout, re.M), stop.stdout
        assert gone(pid)
    assert pids_of(a) == {}
    st = potc_net("status", "--datadir", str(a))
    assert st.returncode == 1 and "no network running" in st.stdout
    st = potc_net("stop", "--datadir", str(a))
    assert st.returncode == 1 and "no network running" in st.stdout


def start_in_foreground(datadir: Path, miners: int, cycle_seconds: int
                        ) -> tuple[subprocess.Popen, list[str], threading.Thread]:
    """`potc-net start` in the foreground as a user runs it; its output lines collect in the list."""
    proc = subprocess.Popen([*POTC_NET, "start", "--datadir", str(datadir), "--miners", str(miners),
                             "--cycle-seconds", str(cycle_seconds), *port_args(free_ports(4))],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    return proc, lines, reader


@pytest.mark.slow
def test_potc_net_foreground_progress_and_ctrl_c(tmp_path):
    d = tmp_path / "fg"
    proc, lines, reader = start_in_foreground(d, miners=3, cycle_seconds=2)
    try:
        end = time.monotonic() + 120
        while sum(1 for ln in list(lines) if ln.startswith("cycle")) < 3:
            assert proc.poll() is None and time.monotonic() < end, "".join(lines)
            time.sleep(0.2)
        pids = pids_of(d)
        assert len(pids) == 5
    finally:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(60)
        reader.join(10)
    out = "".join(lines)
    assert rc == 0, out
    progress = [ln.rstrip("\n") for ln in lines if ln.startswith("cycle")]
    assert all(PROGRESS_LINE.match(ln) for ln in progress), progress
    assert re.search(r"^node +stopped$", out, re.M) and re.search(r"^miner2 +stopped$", out, re.M), out
    assert all(gone(pid) for pid in pids.values())
    assert pids_of(d) == {}


@pytest.mark.slow
def test_stop_from_another_terminal_ends_the_foreground_quietly(tmp_path):
    """`potc-net stop` while `potc-net start` shows progress in the foreground: the foreground
    ends with "the network was stopped", without reporting the stopped processes as failures
    ("(waiting: ... Connection refused)", "warning: sidecar ... is not running")."""
    d = tmp_path / "fg"
    proc, lines, reader = start_in_foreground(d, miners=1, cycle_seconds=1)
    try:
        end = time.monotonic() + 120
        while not any(ln.startswith("cycle") for ln in list(lines)):
            assert proc.poll() is None and time.monotonic() < end, "".join(lines)
            time.sleep(0.2)
        stop = potc_net("stop", "--datadir", str(d))
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(60)
        reader.join(10)
    out = "".join(lines)
    assert out.rstrip("\n").endswith("the network was stopped"), out
    assert "(waiting" not in out and "warning:" not in out, out
    assert not (d / "run" / "stopping").exists() and pids_of(d) == {}
