"""Unit tests of the sidecar's pure parts: segments, wire format, merkle, scoring, lottery, keys."""

from __future__ import annotations

import math
import struct

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar import wire
from sidecar.crypto import Key, load_or_create_key, request_digest, verify
from sidecar.lottery import draw_winner, seed_commitment
from sidecar.merkle import EMPTY_ROOT, merkle_proof, merkle_root, verify_proof
from sidecar.scoring import ScoreWeights, cap_weights, quantise, score
from sidecar.segments import Segment, Slice, check_disjoint
from sidecar.tasks import DigitsTask, TeacherStudentSpec, spec_from_json
from sidecar.training import TrainConfig, apply_delta, eval_loss, train_segment


def shapes_of(spec):
    return {k: tuple(v.shape) for k, v in spec.build().state_dict().items()}


@pytest.mark.parametrize("spec", [DigitsTask().spec, TeacherStudentSpec(d_in=16, width=64, depth=3, d_out=4, segments=8)])
def test_segments_disjoint_and_cover(spec):
    shapes = shapes_of(spec)
    segs = spec.segments()
    check_disjoint(segs, shapes)
    covered = sum(s.numel(shapes) for s in segs)
    assert covered == sum(math.prod(s) for s in shapes.values())


def test_overlapping_segments_detected():
    shapes = {"w": (4, 4)}
    with pytest.raises(ValueError, match="overlap"):
        check_disjoint([Segment(0, (Slice("w", 0, 0, 3),)), Segment(1, (Slice("w", 0, 2, 4),))], shapes)


def test_teacher_student_scales_to_millions():
    spec = TeacherStudentSpec(d_in=256, width=1024, depth=3, d_out=16, segments=64)
    n = sum(math.prod(s) for s in shapes_of(spec).values())
    assert n > 2_000_000
    assert spec_from_json(spec.to_json()).config() == spec.config()


def test_train_segment_changes_only_segment_and_reduces_shard_loss():
    task = DigitsTask()
    spec = task.spec
    state = task.initial_state(0)
    seg = spec.segments()[2]
    x, y = task.shard(0)
    delta = train_segment(spec, state, seg, x, y, TrainConfig(steps=30, lr=0.05, batch=64, seed=1))
    assert set(delta) == {s.name for s in seg.slices}
    new = apply_delta(state, seg, delta)
    # Everything outside the slices is bitwise unchanged.
    for name, t in new.items():
        diff = (t != state[name])
        for s in seg.slices:
            if s.name == name:
                s.view(diff).fill_(False)
        assert not bool(diff.any()), name
    m = spec.build()
    assert eval_loss(spec, m, new, x, y) < eval_loss(spec, m, state, x, y)


def test_wire_roundtrip_and_bounds():
    t = {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3)}
    blob = wire.encode(t, {"k": "v"})
    got, meta = wire.decode(blob)
    assert torch.equal(got["a"], t["a"]) and meta == {"k": "v"}
    with pytest.raises(wire.PayloadError):
        wire.decode(b"\x01")
    with pytest.raises(wire.PayloadError):
        wire.decode(struct.pack("<Q", 10**9) + b"{}")
    with pytest.raises(wire.PayloadError):
        wire.decode(struct.pack("<Q", 4) + b"nope")
    many = wire.encode({f"t{i}": torch.zeros(1) for i in range(wire.MAX_TENSORS + 1)})
    with pytest.raises(wire.PayloadError, match="too many"):
        wire.decode(many)
    with pytest.raises(wire.PayloadError):  # header promises more data than there is
        wire.decode(blob[:-4])


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40), st.data())
@settings(max_examples=60, deadline=None)
def test_merkle_proofs(leaves, data):
    root = merkle_root(leaves)
    i = data.draw(st.integers(0, len(leaves) - 1))
    proof = merkle_proof(leaves, i)
    assert verify_proof(leaves[i], proof, root)
    assert not verify_proof(bytes(32) if leaves[i] != bytes(32) else b"\x01" * 32, proof, root)


def test_merkle_empty_and_order():
    assert merkle_root([]) == EMPTY_ROOT
    a, b = b"\x01" * 32, b"\x02" * 32
    assert merkle_root([a, b]) != merkle_root([b, a])


def test_score_rules():
    w = ScoreWeights(700, 300, 500, 200)
    assert score(10_000, 1, 100, 100, 900, w) == 10_000
    assert score(10_000, 1, 50, 100, 900, w) == 10_000 * (700_000 + 300 * 500) // 1_000_000
    assert score(499, 1, 100, 100, 900, w) == 0          # below the minimum gain
    assert score(10_000, 0, 100, 100, 900, w) == 0       # did not reduce its own shard loss
    assert score(-5, 100, 100, 100, 900, w) == 0
    assert score(10_000, 10, 0, 100, 900, w) == 0        # trained nothing
    assert score(10_000, 10, 100, 100, 199, w) == 0      # not aligned with its shard's descent
    assert quantise(0.1234565) == 123457 or quantise(0.1234565) == 123456
    with pytest.raises(ValueError):
        quantise(float("nan"))


@given(st.lists(st.integers(0, 10**12), min_size=1, max_size=30), st.sampled_from([100, 250, 334, 500, 800, 1000]))
@settings(max_examples=300, deadline=None)
def test_cap_weights(scores, cap):
    w = cap_weights(scores, cap)
    assert all(0 <= a <= b for a, b in zip(w, scores))
    positive = sum(1 for s in scores if s > 0)
    if sum(w) and positive * cap > 1000:
        assert max(w) * 1000 <= cap * sum(w)
    # order is preserved: a larger score never gets a smaller weight
    for i in range(len(scores)):
        for j in range(len(scores)):
            if scores[i] >= scores[j]:
                assert w[i] >= w[j]


def test_lottery_is_deterministic_and_weighted():
    seed = bytes(range(32))
    root = b"\x07" * 32
    assert draw_winner(seed, root, [0, 0]) is None
    assert draw_winner(seed, root, [0, 5, 0]) == 1
    assert draw_winner(seed, root, [3, 9, 1]) == draw_winner(seed, root, [3, 9, 1])
    assert seed_commitment(seed) != seed_commitment(bytes(32))
    with pytest.raises(ValueError):
        draw_winner(seed, root, [1, -1])


def test_signatures_and_key_file(tmp_path):
    k = load_or_create_key(tmp_path / "k")
    assert load_or_create_key(tmp_path / "k").xonly == k.xonly
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    d = request_digest("POST", "/v1/submit", b"body")
    sig = k.sign(d)
    assert verify(k.xonly, d, sig)
    assert not verify(k.xonly, request_digest("POST", "/v1/shard", b"body"), sig)
    assert not verify(Key.generate().xonly, d, sig)
    assert not verify(b"\xff" * 32, d, sig)
    (tmp_path / "bad").write_text("zz")
    with pytest.raises(ValueError):
        load_or_create_key(tmp_path / "bad")


def test_custom_task_by_module_path():
    from sidecar.tasks import make_task

    task = make_task("sidecar.tasks.teacher:TeacherStudentTask", d_in=8, width=16, depth=1, d_out=2, segments=4,
                     shards=2, shard_size=16)
    assert task.num_shards() == 2 and len(task.spec.segments()) == 4
    with pytest.raises(TypeError):
        make_task("sidecar.tasks.teacher:TeacherStudentSpec")
