"""The GADN measures: naive Bayes and class-mean distances behave on codes with known structure, the
independent classifier never mixes contents across its split, and the C.2 accuracy uses the judge given."""

from __future__ import annotations

import torch
from test_gadn import artist_folder, tiny_cfg  # noqa: F401  (the fixture is shared)

from studio.models.gadn.data import load_artist_folder
from studio.models.gadn.evaluate import (
    class_mean_distance,
    colour_transfer,
    content_gallery,
    content_hits,
    content_space_measures,
    generated_accuracy,
    naive_bayes,
    principal_projection,
    split_by_content,
    train_independent_classifier,
    transfer_truth,
)


def _clustered_codes(n_per: int = 60, classes: int = 3, spread: float = 0.1, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, 8, generator=g) * 3
    labels = [k for k in range(classes) for _ in range(n_per)]
    codes = centres[torch.tensor(labels)] + spread * torch.randn(len(labels), 8, generator=g)
    return codes, labels


def test_naive_bayes_finds_separable_classes_and_not_random_labels():
    codes, labels = _clustered_codes()
    clear = naive_bayes(codes, labels)
    assert clear["top1"] > 0.98 and clear["avg_rank"] < 1.05 and clear["avg_prob_correct"] > 0.95
    shuffled = [labels[i] for i in torch.randperm(len(labels), generator=torch.Generator().manual_seed(1))]
    noise = naive_bayes(codes, shuffled)
    assert abs(noise["top1"] - noise["chance_top1"]) < 0.15
    assert noise["chance_top1"] == 1 / 3 and noise["chance_avg_rank"] == 2.0


def test_class_mean_distance_is_small_within_tight_classes():
    codes, labels = _clustered_codes(spread=0.1)
    assert class_mean_distance(codes, labels) < 0.2 * class_mean_distance(codes, [0] * len(labels))


def test_principal_projection_keeps_the_largest_axis():
    g = torch.Generator().manual_seed(0)
    codes = torch.randn(500, 4, generator=g) * torch.tensor([0.1, 5.0, 0.1, 0.1])
    pc = principal_projection(codes, 1)
    assert pc.shape == (500, 1)
    assert torch.corrcoef(torch.stack([pc[:, 0], codes[:, 1]]))[0, 1].abs() > 0.99


def test_content_space_measures_views_and_groupings():
    codes, labels = _clustered_codes()
    out = content_space_measures(codes, {"artist": labels, "content": list(range(len(labels)))})
    assert set(out) == {"pc2", "pc8", "full"}
    assert "by_artist" in out["full"]["naive_bayes"] and "by_content" not in out["full"]["naive_bayes"]
    assert set(out["pc2"]["class_mean_distance"]) == {"whole_set", "by_artist", "by_content"}


def test_colour_transfer_matches_the_target_statistics():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 3, 16, 16, generator=g) * 0.5
    mean, std = torch.tensor([0.5, 0.4, 0.6]), torch.tensor([0.1, 0.1, 0.1])
    out = colour_transfer(images, mean, std)
    assert torch.allclose(out.mean((2, 3)), mean.expand(4, 3), atol=1e-3)
    assert torch.allclose(out.std((2, 3)), std.expand(4, 3), atol=1e-3)


def test_split_by_content_keeps_every_content_on_one_side():
    keys = [f"k{i % 7}" for i in range(21)]
    fit, held = split_by_content(keys)
    assert (fit ^ held).all() and fit.any() and held.any()
    assert not {k for k, f in zip(keys, fit.tolist()) if f} & {k for k, h in zip(keys, held.tolist()) if h}


def test_independent_classifier_learns_real_artists_on_unseen_contents(artist_folder):  # noqa: F811
    data = load_artist_folder(artist_folder, 16)
    net, info = train_independent_classifier(tiny_cfg(), data, steps=60, batch=12, lr=2e-3, log=lambda m: None)
    assert not net.training
    assert info["fit_images"] + info["held_out_images"] == len(data)
    assert info["held_out_real_top1"] > 0.9  # colour is the artist in this folder


def test_generated_accuracy_uses_the_judge_it_is_given():
    class FakeModel:
        cfg = tiny_cfg()
        content_mean = torch.zeros(8)
        content_stds = torch.ones(8)
        content_axes = torch.eye(8)

        class S:
            mean = torch.eye(3, 4)

        def generate(self, content, style):
            # the "image" carries the artist in its first channel's mean, so a judge can read it
            return style[:, :3].view(-1, 3, 1, 1).expand(-1, 3, 16, 16).clone()

    class Data:
        labels = torch.tensor([0, 1, 2] * 10)

        def __len__(self):
            return 30

    reads_artist = lambda imgs: imgs.mean((2, 3))  # noqa: E731  one-hot style -> correct artist
    always_zero = lambda imgs: torch.tensor([[1.0, 0, 0]]).expand(imgs.shape[0], 3)  # noqa: E731
    assert generated_accuracy(FakeModel(), Data(), 60, classify=reads_artist) == 1.0
    assert 0.15 < generated_accuracy(FakeModel(), Data(), 60, classify=always_zero) < 0.55


def test_content_hits_counts_the_true_row_among_the_k_nearest():
    gallery = torch.tensor([[0.0, 0], [1, 0], [0, 1], [5, 5]])
    queries = torch.tensor([[0.1, 0], [0.7, 0.6], [4.0, 4]])
    truth = torch.tensor([0, 2, 3])  # the second query's nearest row is 1, its truth (row 2) is 2nd nearest
    assert content_hits(queries, gallery, truth, 1).tolist() == [True, False, True]
    assert content_hits(queries, gallery, truth, 2).tolist() == [True, True, True]


def test_content_identity_separates_a_transfer_that_keeps_content_from_one_that_does_not(artist_folder, monkeypatch):  # noqa: F811
    """The nearest-neighbour content classifier, fitted on the target artist's real drawings, names the source
    content of a transfer that keeps each shape and misses one that draws the same shape for every input."""
    data = load_artist_folder(artist_folder, 16)
    rows, gallery = content_gallery(data, 1, lambda x: x.flatten(1))
    assert sorted(rows) == [f"shape{k}" for k in range(6)] and gallery.shape == (6, 3 * 16 * 16)

    class Recolours:  # keeps the shape, paints it in the target artist's colour: content kept
        def __init__(self, keep: bool):
            self.keep = keep
            self.S = type("S", (), {"mean": torch.eye(3)})()

        def generate(self, codes, style):
            b = int(style[0].argmax())
            shapes = codes if self.keep else codes[:1].expand_as(codes)
            mask = (shapes < 0.99).any(1, keepdim=True)  # the shape (white background elsewhere)
            colour = data.images[data.labels == b].float().div(255).amin((0, 2, 3)).view(1, 3, 1, 1)
            return torch.where(mask, colour, torch.ones_like(shapes))

    import studio.models.gadn.evaluate as ev

    monkeypatch.setattr(ev, "encode_images", lambda model, images: images.float() / 255)  # code = the drawing
    flat = lambda x: x.flatten(1)  # noqa: E731
    kept = transfer_truth(Recolours(True), data, features=flat)["overall"]["gadn"]
    lost = transfer_truth(Recolours(False), data, features=flat)["overall"]["gadn"]
    assert kept["content_top1"] == 1.0
    assert lost["content_top1"] < 0.4 and lost["content_top5"] < kept["content_top5"]
