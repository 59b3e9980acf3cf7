"""The in-training KID monitor: schedule, value, switching itself off on a missing network."""

from __future__ import annotations

import torch

from studio.metrics.training_kid import TrainingKID


def _images(n, shift=0.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 3, 16, 16, generator=g) * 0.5 + shift).clamp(0, 1) * 2 - 1


def test_schedule():
    kid = TrainingKID(every=10, n=16)
    assert [s for s in range(41) if kid.due(s)] == [10, 20, 30, 40]
    assert not any(TrainingKID(every=0).due(s) for s in range(100))


def test_kid_is_lower_for_matching_samples(tiny_features):
    kid = TrainingKID(every=1, n=32, features=tiny_features)
    same = kid.measure(lambda n: _images(n, 0.0, 1), lambda n: _images(n, 0.0, 2))
    far = kid.measure(lambda n: _images(n, 0.0, 1), lambda n: _images(n, 0.5, 3))
    assert list(same) == ["kid@tiny-random"]
    assert far["kid@tiny-random"] > same["kid@tiny-random"] + 1e-4


def test_missing_network_switches_off_with_a_message():
    messages = []
    kid = TrainingKID(every=1, n=16, features="no-such-net")
    assert kid.measure(lambda n: _images(n), lambda n: _images(n), messages.append) == {}
    assert "switched off" in messages[-1] and "no-such-net" in messages[-1]
    assert not kid.due(5)


def test_each_source_is_asked_once_for_the_whole_count(tiny_features):
    """Sources built on fixed seeds or image lists would repeat themselves if asked in chunks."""
    calls = []

    def source(n):
        calls.append(n)
        return _images(n, 0.0, len(calls))

    kid = TrainingKID(every=1, n=100, features=tiny_features)
    kid.measure(source, source)
    assert calls == [100, 100]
