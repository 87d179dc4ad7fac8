"""Sidecar figures (issue 4, "bench/").

1. 16 `potc-miner` processes on the digits task against one `potc-sidecar` and the stand-in node:
   - fraction of the miners' CPU time spent in training steps (target >= 0.95),
   - the coordinator's CPU per cycle as a fraction of all miners' training CPU (target <= 0.05),
   - accuracy per CPU-second relative to training the same model centrally in one process.
2. Submissions per second one coordinator verifies on the large teacher-student task
   (200 miners' updates in one cycle; signature + safetensors decode + all checks + evaluations).

Run: .venv/bin/python bench/sidecar_bench.py [--miners 16] [--skip-processes] [--skip-verify]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib import request

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from regtest.consensus.params import regtest_params  # noqa: E402
from regtest.testing.ports import free_port  # noqa: E402
from sidecar import wire  # noqa: E402
from sidecar.crypto import Key, load_or_create_key, request_digest, verify  # noqa: E402
from sidecar.devnode import DevNode  # noqa: E402
from sidecar.tasks import DigitsTask, TeacherStudentTask  # noqa: E402
from sidecar.training import TrainConfig, apply_delta, eval_loss, train_segment  # noqa: E402
from sidecar.verify import Assignment, CycleVerifier, Submission, VerifyLimits  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def get_json(url: str) -> dict:
    with request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())


def central_baseline(target: float, train: dict, runs: int = 5, max_steps: int = 5000) -> dict:
    """The same MLP trained on all training shards in one process (SGD with momentum, same lr and
    batch as the miners), evaluated every 10 steps; median CPU seconds to reach `target` over runs."""
    torch.set_num_threads(1)
    task = DigitsTask()
    spec = task.spec
    x, y = task.train_all()
    tx, ty = task.test_set()
    cpus, steps_needed = [], []
    for run in range(runs):
        model = spec.build()
        model.load_state_dict(task.initial_state(run))
        opt = torch.optim.SGD(model.parameters(), lr=train["lr"], momentum=0.9)
        g = torch.Generator().manual_seed(run)
        t0 = time.process_time()
        for step in range(1, max_steps + 1):
            idx = torch.randint(0, len(y), (train["batch"],), generator=g)
            opt.zero_grad()
            spec.loss(model, x[idx], y[idx]).backward()
            opt.step()
            if step % 10 == 0 and spec.accuracy(model, tx, ty) >= target:
                cpus.append(time.process_time() - t0)
                steps_needed.append(step)
                break
    cpus.sort()
    return {"cpu_to_target": cpus[len(cpus) // 2] if cpus else None, "runs": runs, "reached": len(cpus),
            "steps_to_target": sorted(steps_needed)}


def run_processes(n_miners: int, cycle_seconds: float, target: float, min_cycles: int, max_wall: float,
                  train: dict) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="potc-bench-"))
    datadir = tmp / "sidecar"
    key = load_or_create_key(datadir / "coordinator.key")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    node_ep, pub_ep = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    node = DevNode(regtest_params(key.xonly), node_ep, pub_ep)
    node.start()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    py = sys.executable
    sidecar = subprocess.Popen(
        [py, "-m", "sidecar.cli", "--datadir", str(datadir), "--port", str(port), "--zmq-node", node_ep,
         "--zmq-pub", pub_ep, "--cycle-seconds", str(cycle_seconds), "--train", json.dumps(train)],
        cwd=REPO, env=env, stdout=open(tmp / "sidecar.log", "w"), stderr=subprocess.STDOUT)
    end = time.time() + max_wall
    while True:  # the coordinator is up: from here its CPU counts
        try:
            get_json(f"{url}/v1/status")
            break
        except OSError:
            if time.time() > end or sidecar.poll() is not None:
                raise RuntimeError("coordinator did not start")
            time.sleep(0.2)
    coord_start = proc_cpu(sidecar.pid)
    miners = [subprocess.Popen(
        [py, "-m", "sidecar.miner", "--url", url, "--key-file", str(tmp / f"m{i}.key"), "-q",
         "--stats-file", str(tmp / f"m{i}.json")],
        cwd=REPO, env=env, stdout=open(tmp / f"m{i}.log", "w"), stderr=subprocess.STDOUT) for i in range(n_miners)]

    def miner_stats() -> list[dict]:
        out = []
        for i in range(n_miners):
            try:
                out.append(json.loads((tmp / f"m{i}.json").read_text()))
            except (OSError, ValueError):
                out.append({"loop_cpu": 0.0, "train_cpu": 0.0, "cycles": 0})
        return out

    try:
        # Warm-up: wait until every miner has finished a cycle, then start measuring the CPU
        # fractions (the time to the target accuracy counts from the very start).
        while min(s.get("cycles", 0) for s in miner_stats()) < 1 or node.height < 1:
            if time.time() > end:
                raise RuntimeError("warm-up did not finish")
            time.sleep(0.5)
        h0 = node.height
        st0 = miner_stats()
        coord0 = proc_cpu(sidecar.pid)
        proc0 = [proc_cpu(p.pid) for p in miners]
        wall0 = time.time()
        reached = None
        seen = set()
        while time.time() < end:
            time.sleep(0.5)
            for b in list(node.blocks):
                seen.add(b.hash)
            if node.height - h0 >= min_cycles and reached is not None:
                break
            if reached is None and node.height > h0:
                st = get_json(f"{url}/v1/status")
                c = st["cycle"] - (0 if st["state"] == "sealed" else 1)
                if c >= 1:
                    lg = get_json(f"{url}/v1/audit/{c}")
                    if lg.get("test_accuracy") is not None and lg["test_accuracy"] >= target:
                        stn = miner_stats()
                        reached = {"cycle": c, "accuracy": lg["test_accuracy"],
                                   "miners_cpu": sum(s["loop_cpu"] for s in stn),
                                   "coord_cpu": proc_cpu(sidecar.pid) - coord_start,
                                   "train_cpu": sum(s["train_cpu"] for s in stn),
                                   "train_steps": sum(s.get("train_steps", 0) for s in stn)}
        cycles = node.height - h0
        st1 = miner_stats()
        coord1 = proc_cpu(sidecar.pid)
        proc1 = [proc_cpu(p.pid) for p in miners]
        train_cpu = sum(s["train_cpu"] for s in st1) - sum(s["train_cpu"] for s in st0)
        loop_cpu = sum(s["loop_cpu"] for s in st1) - sum(s["loop_cpu"] for s in st0)
        proc_cpu_sum = sum(proc1) - sum(proc0)
        st = get_json(f"{url}/v1/status")
        last = get_json(f"{url}/v1/audit/{st['cycle'] - (0 if st['state'] == 'sealed' else 1)}")
        return {"miners": n_miners, "cycles": cycles, "wall_s": time.time() - wall0,
                "miner_train_cpu": train_cpu, "miner_loop_cpu": loop_cpu, "miner_process_cpu": proc_cpu_sum,
                "train_fraction_of_loop": train_cpu / loop_cpu if loop_cpu else None,
                "train_fraction_of_process": train_cpu / proc_cpu_sum if proc_cpu_sum else None,
                "coordinator_cpu": coord1 - coord0,
                "coordinator_cpu_per_cycle": (coord1 - coord0) / max(1, cycles),
                "coordinator_over_training": (coord1 - coord0) / train_cpu if train_cpu else None,
                "reached_target": reached, "final_accuracy": last.get("test_accuracy"),
                "rejected_blocks": node.rejected, "tmp": str(tmp)}
    finally:
        for p in miners + [sidecar]:
            p.terminate()
        for p in miners + [sidecar]:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        node.stop()


def verify_throughput(n: int, width: int, depth: int, d_in: int, segments: int) -> dict:
    """One cycle with n updates on the teacher-student task, verified by one coordinator thread."""
    torch.set_num_threads(1)
    task = TeacherStudentTask(d_in=d_in, width=width, depth=depth, d_out=16, segments=segments, shards=16,
                              shard_size=256)
    spec = task.spec
    state = task.initial_state(0)
    params = sum(t.numel() for t in state.values())
    segs = spec.segments()
    g = torch.Generator().manual_seed(5)
    heldout = task.heldout_sample(g, 256)
    module = spec.build()
    subs = []
    t_gen = time.perf_counter()
    for i in range(n):
        key = Key.generate()
        seg, shard = segs[i % len(segs)], i % task.num_shards()
        x, y = task.shard(shard)
        delta = train_segment(spec, state, seg, x, y, TrainConfig(steps=1, lr=0.05, batch=64, seed=i))
        before = eval_loss(spec, module, state, x, y)
        after = eval_loss(spec, module, apply_delta(state, seg, delta), x, y)
        meta = {"cycle": "1", "base": "b", "segment": str(seg.id), "shard": str(shard),
                "shard_before": repr(before), "shard_after": repr(after)}
        body = wire.encode(delta, meta)
        subs.append((key.xonly, key.sign(request_digest("POST", "/v1/submit", body)), body, seg, shard))
    gen_s = time.perf_counter() - t_gen
    v = CycleVerifier(spec, 1, "b", state, heldout, task.shard, VerifyLimits(max_norm=1e9))
    # Per-shard work (loss and gradient at the base model) is cached per cycle and counted below.
    ok = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for xonly, sig, body, seg, shard in subs:
        assert verify(xonly, request_digest("POST", "/v1/submit", body), sig)
        tensors, meta = wire.decode(body)
        sub = Submission(xonly, 1, meta["base"], int(meta["segment"]), int(meta["shard"]),
                         float(meta["shard_before"]), float(meta["shard_after"]), tensors)
        v.verify(sub, Assignment(xonly, seg, shard))
        ok += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    seg_params = segs[0].numel({k: tuple(t.shape) for k, t in state.items()})
    return {"updates": n, "model_params": params, "segment_params": seg_params, "verified": ok,
            "wall_s": wall, "cpu_s": cpu, "submissions_per_s": ok / wall, "submissions_per_cpu_s": ok / cpu, "generation_s": gen_s,
            "threads": torch.get_num_threads()}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--miners", type=int, default=16)
    p.add_argument("--cycle-seconds", type=float, default=30.0)
    p.add_argument("--min-cycles", type=int, default=8)
    p.add_argument("--max-wall", type=float, default=900)
    p.add_argument("--target", type=float, default=0.95)
    p.add_argument("--train", default='{"steps": 400, "lr": 0.02, "batch": 64}')
    p.add_argument("--updates", type=int, default=200)
    p.add_argument("--width", type=int, default=1024)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--skip-processes", action="store_true")
    p.add_argument("--skip-verify", action="store_true")
    a = p.parse_args()
    train = json.loads(a.train)
    out: dict = {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()}
    if not a.skip_processes:
        out["central"] = central_baseline(a.target, train)
        out["processes"] = run_processes(a.miners, a.cycle_seconds, a.target, a.min_cycles, a.max_wall, train)
        r = out["processes"]["reached_target"]
        c = out["central"]["cpu_to_target"]
        if r and c:
            out["accuracy_per_cpu_ratio"] = c / (r["miners_cpu"] + r["coord_cpu"])
            steps = out["central"]["steps_to_target"]
            out["training_steps_ratio"] = steps[len(steps) // 2] / r["train_steps"] if r["train_steps"] else None
        print(json.dumps(out, indent=1), flush=True)
    if not a.skip_verify:
        out["verify"] = verify_throughput(a.updates, a.width, a.depth, 256, 64)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
