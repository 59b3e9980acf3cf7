"""Known-answer tests for FID, KID, MiFID, the Inception-style score and precision/recall."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.metrics.coverage import precision_recall_coverage
from studio.metrics.frechet import fid, frechet_distance, gaussian_stats, matched_half_fid
from studio.metrics.inception_score import inception_score, inception_score_from_probs
from studio.metrics.kid import kid
from studio.metrics.memorisation import EPSILON, THRESHOLD, memorisation, mifid


def test_fid_of_diagonal_gaussians_equals_closed_form():
    rng = np.random.default_rng(0)
    d = 16
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    v1, v2 = rng.uniform(0.2, 3.0, d), rng.uniform(0.2, 3.0, d)
    closed = float(((mu1 - mu2) ** 2).sum() + (v1 + v2 - 2 * np.sqrt(v1 * v2)).sum())
    assert frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(closed, rel=1e-10)


def test_fid_of_sampled_gaussians_approaches_closed_form():
    rng = np.random.default_rng(1)
    d, n = 4, 200_000
    mu1, mu2 = np.zeros(d), np.array([1.0, 0.0, -0.5, 2.0])
    v1, v2 = np.array([1.0, 2.0, 0.5, 1.0]), np.array([0.25, 2.0, 4.0, 1.0])
    a = rng.normal(size=(n, d)) * np.sqrt(v1) + mu1
    b = rng.normal(size=(n, d)) * np.sqrt(v2) + mu2
    closed = float(((mu1 - mu2) ** 2).sum() + (v1 + v2 - 2 * np.sqrt(v1 * v2)).sum())
    assert fid(a, b) == pytest.approx(closed, rel=0.02)


def test_matched_half_fid_puts_a_small_data_sets_floor_and_a_model_on_equal_sample_counts():
    rng = np.random.default_rng(3)
    d = 32
    reference = rng.normal(size=(200, d))
    same = rng.normal(size=(5000, d))  # a "model" that samples the data's own distribution
    floor = fid(reference[0::2], reference[1::2])
    # with many samples and the full reference, the same distribution scores well below the inflated floor ...
    assert fid(same, reference) < 0.6 * floor
    # ... at the floor's own counts it scores like the floor, and a shifted distribution scores above it
    assert matched_half_fid(same, reference) == pytest.approx(floor, rel=0.25)
    assert matched_half_fid(same + 0.5, reference) > 1.5 * floor
    assert matched_half_fid(same[:50], reference) is None  # too few samples to match 100


def test_fid_of_a_set_with_itself_is_zero():
    x = torch.randn(300, 64)
    assert fid(x, x) == pytest.approx(0.0, abs=1e-8)


def test_fid_stays_finite_with_fewer_samples_than_dimensions():
    x, y = torch.randn(20, 128), torch.randn(20, 128) + 0.5
    value = fid(x, y)
    assert np.isfinite(value) and value > 0


def test_fid_agrees_with_pytorch_fid():
    pf = pytest.importorskip("pytorch_fid.fid_score")
    rng = np.random.default_rng(2)
    a = rng.normal(size=(600, 48)) @ rng.normal(size=(48, 48))
    b = rng.normal(size=(500, 48)) @ rng.normal(size=(48, 48)) * 0.8 + 0.3
    sa, sb = gaussian_stats(a), gaussian_stats(b)
    ours = frechet_distance(sa.mu, sa.sigma, sb.mu, sb.sigma)
    theirs = pf.calculate_frechet_distance(
        np.mean(a, 0), np.cov(a, rowvar=False), np.mean(b, 0), np.cov(b, rowvar=False)
    )
    assert ours == pytest.approx(float(theirs), rel=1e-6)


def test_kid_is_zero_for_one_distribution_and_positive_for_shifted():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(800, 32, generator=gen), torch.randn(800, 32, generator=gen)
    same_mean, same_std = kid(a, b, subsets=20, subset_size=400)
    assert abs(same_mean) < 3 * same_std + 1e-3
    shifted_mean, shifted_std = kid(a, b + 0.5, subsets=20, subset_size=400)
    assert shifted_mean > 10 * max(same_std, 1e-4) and shifted_mean > 0.05


def test_kid_paths_agree_with_and_without_precomputed_kernels(monkeypatch):
    import studio.metrics.kid as kid_mod

    a, b = torch.randn(300, 8), torch.randn(300, 8) + 0.2
    whole = kid_mod.kid(a, b, subsets=10, subset_size=100)
    monkeypatch.setattr(kid_mod, "_PRECOMPUTE_LIMIT", 10)
    blocks = kid_mod.kid(a, b, subsets=10, subset_size=100)
    assert whole == pytest.approx(blocks, rel=1e-4)


def test_mifid_penalty_is_one_far_from_training_and_grows_for_copies():
    gen = torch.Generator().manual_seed(0)
    training = torch.randn(200, 64, generator=gen)
    far = torch.randn(100, 64, generator=gen)  # random directions: cosine distance ≈ 1 - small
    memo = memorisation(far, training)
    assert memo.distance > THRESHOLD
    assert memo.penalty == pytest.approx(1.0, rel=1e-12)
    assert mifid(12.5, memo) == pytest.approx(12.5)

    copies = training[:100] * 1.7 + 1e-3 * torch.randn(100, 64, generator=gen)  # scaled near-copies
    copied = memorisation(copies, training)
    assert copied.distance < 1e-4
    assert copied.penalty > 1e3
    assert copied.penalty == pytest.approx(1.0 / (copied.distance + EPSILON))
    assert (copied.nearest == np.arange(100)).all()

    half = memorisation(torch.cat([far[:50], copies[:50]]), training)
    assert half.per_sample[50:].max() < 1e-4 and half.per_sample[:50].min() > 0.5


def test_inception_score_is_class_count_for_confident_spread_and_one_for_identical():
    classes = 10
    probs = torch.eye(classes).repeat(20, 1)  # 200 one-hot predictions, every class equally often
    mean, std = inception_score_from_probs(probs, splits=5)
    assert mean == pytest.approx(classes, rel=1e-9) and std == pytest.approx(0.0, abs=1e-9)
    same = torch.zeros(200, classes)
    same[:, 3] = 1.0
    assert inception_score_from_probs(same, splits=5)[0] == pytest.approx(1.0)
    soft = torch.randn(50, 7).softmax(1).repeat(4, 1)
    assert inception_score(torch.log(soft), splits=1)[0] >= 1.0


def test_precision_recall_coverage_behave():
    gen = torch.Generator().manual_seed(3)
    real = torch.randn(400, 8, generator=gen)
    same = torch.randn(400, 8, generator=gen)
    good = precision_recall_coverage(real, same)
    assert good["precision"] > 0.8 and good["recall"] > 0.8 and good["coverage"] > 0.8
    collapsed = real[:1] + 0.01 * torch.randn(400, 8, generator=gen)  # mode collapse onto one image
    bad = precision_recall_coverage(real, collapsed)
    assert bad["recall"] < 0.1 and bad["coverage"] < 0.1
