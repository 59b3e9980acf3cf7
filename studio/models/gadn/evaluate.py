"""The paper's measures for a trained GADN (appendix B.4 and C.2), plus a truthful transfer check.

1. Content space (stage 1's encoder, B.4): average Euclidean distance of a code to its class mean,
   by artist, by content group and over the whole set; a diagonal-Gaussian naive Bayes classifier on the
   codes (average probability of the correct class, average rank, top-1), by artist -- which should be
   near chance if E keeps no style -- and by content group, which should be well above chance. The paper
   truncates codes to their first 2 or 8 dimensions (ordered by nested dropout); our codes are unordered,
   so we project onto their first 2 / 8 principal axes and also report the full code. Naive Bayes is
   scored with 2-fold cross-fitting (fit on one half, score the other).
2. Top-1 accuracy on generated samples for their conditioned artist (C.2), with contents drawn from
   the content Gaussian (unseen codes) and artists in training-set proportions, by two classifiers, as
   the paper's table 8 does: the model's own C2, which stage 2 trained *adversarially* ("not a'" on
   generated images; the paper's 14.37 %), and an independent classifier of the same architecture
   trained here on real images only (the paper's 86.65 % column). The independent one is fitted on half
   of the contents and its accuracy on the other half's real images is reported next to it.
3. Transfer against the truth: emoji vendors (and icon themes) draw the same contents, so A's drawing
   redrawn in B's style can be compared with B's real drawing (pixel L1 and a feature distance), next to
   the trivial baselines "unchanged input" and "colour-statistics transfer" (A's per-channel mean/std matched to B's).

    python -m studio.models.gadn.evaluate MODEL --data data/gadn_emoji --write
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from studio.metrics.baselines import channel_statistics, colour_transfer

from .data import ArtistImages, held_out_contents, load_artist_folder

__all__ = ["colour_transfer", "content_hits", "evaluate_gadn", "transfer_truth"]


# ----------------------------------------------------------------------------------------- content space
def class_mean_distance(codes: torch.Tensor, labels: Sequence) -> float:
    """Average Euclidean distance of each code to the mean of its class."""
    classes = sorted(set(labels))
    index = torch.tensor([classes.index(label) for label in labels])
    total = 0.0
    for k in range(len(classes)):
        members = codes[index == k]
        total += (members - members.mean(0)).norm(dim=1).sum().item()
    return total / codes.shape[0]


def _nb_log_posterior(train: torch.Tensor, train_idx: torch.Tensor, test: torch.Tensor, k_count: int) -> torch.Tensor:
    floor = 1e-3 * train.var(0, unbiased=False).mean() + 1e-12  # keeps tiny classes from collapsing
    out = torch.full((test.shape[0], k_count), float("-inf"), dtype=torch.float64)
    for k in range(k_count):
        members = train[train_idx == k]
        if members.shape[0] == 0:
            continue
        mean = members.mean(0)
        var = (members.var(0, unbiased=False) if members.shape[0] > 1 else torch.zeros_like(mean)) + floor
        prior = members.shape[0] / train.shape[0]
        out[:, k] = -0.5 * ((test - mean) ** 2 / var + var.log()).sum(1) + torch.log(torch.tensor(prior))
    return out


def naive_bayes(codes: torch.Tensor, labels: Sequence, folds: int = 2, seed: int = 0) -> dict[str, float]:
    """Axis-aligned Gaussian per class, Bayes' rule with class frequencies as priors. Returns average
    probability of the correct class, its average rank (1 = best), top-1 accuracy, and chance levels.

    Unlike the paper (which fitted and scored the same 400k samples), each sample is scored by a model
    fitted on the other folds: with a few thousand codes and up to 64 dimensions a fit on the scored
    samples themselves would overstate every accuracy."""
    classes = sorted(set(labels))
    index = torch.tensor([classes.index(label) for label in labels])
    x = codes.double()
    fold = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed)) % max(1, folds)
    log_post = torch.empty(x.shape[0], len(classes), dtype=torch.float64)
    for f in range(max(1, folds)):
        test = fold == f
        train = ~test if folds > 1 else test
        log_post[test] = _nb_log_posterior(x[train], index[train], x[test], len(classes))
    post = torch.softmax(log_post, 1)
    p_true = post[torch.arange(x.shape[0]), index]
    rank = (post > p_true.unsqueeze(1)).sum(1) + 1
    counts = Counter(index.tolist())
    return {
        "avg_prob_correct": p_true.mean().item(),
        "avg_rank": rank.double().mean().item(),
        "top1": (post.argmax(1) == index).double().mean().item(),
        "classes": len(classes),
        "chance_top1": max(counts.values()) / x.shape[0],
        "chance_avg_rank": (len(classes) + 1) / 2,
        "folds": folds,
    }


def principal_projection(codes: torch.Tensor, k: int) -> torch.Tensor:
    centred = codes - codes.mean(0)
    _, _, vh = torch.linalg.svd(centred.double(), full_matrices=False)
    return (centred.double() @ vh[:k].T).float()


def content_space_measures(codes: torch.Tensor, groupings: dict[str, Sequence]) -> dict[str, Any]:
    """B.4 measures for codes [N, D] under several labelings (e.g. artist, category, emoji)."""
    out: dict[str, Any] = {}
    views = {"pc2": principal_projection(codes, 2), "pc8": principal_projection(codes, 8), "full": codes}
    for view, c in views.items():
        dist = {"whole_set": class_mean_distance(c, [0] * c.shape[0])}
        nb = {}
        for name, labels in groupings.items():
            dist[f"by_{name}"] = class_mean_distance(c, labels)
            if name != "content":  # one sample per (content, artist): too few per class for a fit
                nb[f"by_{name}"] = naive_bayes(c, labels)
        out[view] = {"class_mean_distance": dist, "naive_bayes": nb}
    return out


# ----------------------------------------------------------------------------------------- helpers
@torch.no_grad()
def encode_images(model, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """Content codes of uint8 images [N, 3, H, W]."""
    out = []
    for i in range(0, images.shape[0], batch):
        x = images[i : i + batch].float().to(model.device) / 127.5 - 1
        out.append(model.E(x)[0].cpu())
    return torch.cat(out)


@torch.no_grad()
def generated_accuracy(
    model,
    data: ArtistImages,
    count: int,
    seed: int = 0,
    batch: int = 256,
    classify: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> float:
    """Top-1 accuracy of ``classify`` (default: the model's C2) on ``count`` samples from unseen content
    codes, artists in data proportions. ``classify`` takes images in [0, 1] and returns scores per artist."""
    classify = classify or model.classify
    g = torch.Generator().manual_seed(seed)
    artists = data.labels[torch.randint(0, len(data), (count,), generator=g)]
    n = torch.randn(count, model.cfg.content_dim, generator=g)
    content = model.content_mean + (n * model.content_stds) @ model.content_axes
    correct = 0
    for i in range(0, count, batch):
        imgs = model.generate(content[i : i + batch], model.S.mean[artists[i : i + batch]].detach().cpu())
        correct += int((classify(imgs).argmax(1).cpu() == artists[i : i + batch]).sum())
    return correct / count


def split_by_content(keys: Sequence[str], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Boolean masks (fit, held out) that put every drawing of one content on the same side, so the
    held-out accuracy is on emoji the classifier never saw in any style."""
    unique = sorted(set(keys))
    order = torch.randperm(len(unique), generator=torch.Generator().manual_seed(seed)).tolist()
    fit_keys = {unique[i] for i in order[: (len(unique) + 1) // 2]}
    fit = torch.tensor([k in fit_keys for k in keys])
    return fit, ~fit


def train_independent_classifier(
    cfg,
    data: ArtistImages,
    steps: int = 1500,
    batch: int = 32,
    lr: float = 2e-4,
    seed: int = 0,
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """A fresh classifier with C2's architecture, trained on real images only (cross-entropy, Adam,
    random horizontal flips) from half of the contents; returns it in eval mode with its held-out
    real-image accuracy. This is the non-adversarial judge of C.2: it never sees a generated image."""
    from .networks import Classifier

    torch.manual_seed(seed)
    net = Classifier(cfg).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999))
    fit, held = split_by_content(data.keys, seed)
    fit_idx = fit.nonzero().squeeze(1)
    g = torch.Generator().manual_seed(seed + 1)
    net.train()
    for step in range(steps):
        x, a = data.batch(fit_idx[torch.randint(0, fit_idx.numel(), (batch,), generator=g)])
        flip = torch.rand(batch, generator=g) < 0.5
        x[flip] = x[flip].flip(3)
        loss = torch.nn.functional.cross_entropy(net(x.to(device)), a.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % 500 == 0:
            log(f"  independent classifier step {step + 1}/{steps}: loss {loss.item():.3f}")
    net.eval()
    correct = 0
    held_idx = held.nonzero().squeeze(1)
    with torch.no_grad():
        for i in range(0, held_idx.numel(), 256):
            x, a = data.batch(held_idx[i : i + 256])
            correct += (net(x.to(device)).argmax(1).cpu() == a).sum().item()
    info = {
        "steps": steps,
        "batch": batch,
        "fit_images": int(fit_idx.numel()),
        "held_out_images": int(held_idx.numel()),
        "held_out_real_top1": correct / max(1, held_idx.numel()),
    }
    return net, info


@torch.no_grad()
def transfer_truth(
    model,
    data: ArtistImages,
    per_pair: int = 200,
    seed: int = 0,
    features: Callable[[torch.Tensor], torch.Tensor] | None = None,
    only_keys: set[str] | None = None,
    galleries: dict[int, tuple[dict[str, int], torch.Tensor]] | None = None,
) -> dict[str, Any]:
    """Redraw artist A's drawing of a content in B's style and compare with B's real drawing (of the
    contents in ``only_keys`` when given; the identity gallery still holds every content B draws).
    ``galleries`` (B -> its identity gallery) is filled as B's are built, so a second call reuses them."""
    by_key: dict[str, dict[int, int]] = {}
    for i, (k, a) in enumerate(zip(data.keys, data.labels.tolist())):
        if only_keys is None or k in only_keys:
            by_key.setdefault(k, {})[a] = i
    names = data.artists
    g = torch.Generator().manual_seed(seed)
    stats = {b: channel_statistics(data.images[data.labels == b].float() / 255) for b in range(len(names))}
    methods = ("gadn", "unchanged_input", "colour_transfer", "gadn_reconstruction")
    sums = {m: {"pixel_l1": 0.0, "feature_l2": 0.0, "content_top1": 0.0, "content_top5": 0.0} for m in methods}
    if galleries is None:
        galleries = {}  # B -> (content key -> row, features)
    pairs, total = {}, 0
    for a in range(len(names)):
        for b in range(len(names)):
            if a == b:
                continue
            keys = [k for k, v in by_key.items() if a in v and b in v]
            if not keys:
                continue
            order = torch.randperm(len(keys), generator=g)[:per_pair].tolist()
            ia = torch.tensor([by_key[keys[j]][a] for j in order])
            ib = torch.tensor([by_key[keys[j]][b] for j in order])
            src = data.images[ia].float() / 255
            tgt = data.images[ib].float() / 255
            codes = encode_images(model, data.images[ia])
            style_b = model.S.mean[b].detach().cpu().expand(len(order), -1)
            outs = {
                "gadn": model.generate(codes, style_b),
                "unchanged_input": src,
                "colour_transfer": colour_transfer(src, *stats[b]),
                "gadn_reconstruction": model.generate(encode_images(model, data.images[ib]), style_b),
            }
            tf = features(tgt) if features else None
            if features is not None and b not in galleries:
                galleries[b] = content_gallery(data, b, features)
            row = {}
            for m, out in outs.items():
                l1 = (out - tgt).abs().mean((1, 2, 3))
                row[m] = {"pixel_l1": l1.mean().item()}
                sums[m]["pixel_l1"] += l1.sum().item()
                if features is not None and tf is not None:
                    fo = features(out)
                    fd = (fo - tf).norm(dim=1)
                    row[m]["feature_l2"] = fd.mean().item()
                    sums[m]["feature_l2"] += fd.sum().item()
                    rows, gallery = galleries[b]
                    truth = torch.tensor([rows[keys[j]] for j in order])
                    for top in (1, 5):
                        hit = content_hits(fo, gallery, truth, top)
                        row[m][f"content_top{top}"] = hit.float().mean().item()
                        sums[m][f"content_top{top}"] += hit.float().sum().item()
            pairs[f"{names[a]}->{names[b]}"] = row
            total += len(order)
    overall = {m: {k: v / max(1, total) for k, v in s.items() if features or k == "pixel_l1"} for m, s in sums.items()}
    result: dict[str, Any] = {"overall": overall, "pairs": pairs, "samples": total}
    if galleries:
        result["content_identity"] = (
            "content_top1/top5: a nearest-neighbour classifier of content identity (emoji, icon name) fitted on real "
            "images only -- the target artist's own drawings of every content it draws ("
            + ", ".join(f"{names[b]} {len(g[0])}" for b, g in sorted(galleries.items()))
            + "), in the feature network's space -- names the redrawn image's source content in its top 1 / 5"
        )
    return result


def content_gallery(
    data: ArtistImages, artist: int, features: Callable[[torch.Tensor], torch.Tensor]
) -> tuple[dict[str, int], torch.Tensor]:
    """Features of every real drawing by ``artist``, and each content key's row: the "training set" of the
    nearest-neighbour content classifier."""
    idx = (data.labels == artist).nonzero().flatten()
    rows = {data.keys[i]: r for r, i in enumerate(idx.tolist())}
    return rows, features(data.images[idx].float() / 255)


def content_hits(queries: torch.Tensor, gallery: torch.Tensor, truth: torch.Tensor, k: int) -> torch.Tensor:
    """True where a query's ``truth`` row is among its ``k`` nearest gallery rows (Euclidean)."""
    nearest = torch.cdist(queries.float(), gallery.float()).topk(min(k, gallery.shape[0]), largest=False).indices
    return (nearest == truth.view(-1, 1)).any(dim=1)


def mobilenet_features(device: str = "cpu", size: int = 112) -> Callable[[torch.Tensor], torch.Tensor]:
    """ImageNet MobileNetV2 pooled features (offline weights; inputs resized to ``size`` to stay cheap)."""
    from studio.metrics.features import load_feature_net

    net = load_feature_net("mobilenet_v2", device)
    net.input_size = size

    def run(images: torch.Tensor) -> torch.Tensor:
        out = []
        for i in range(0, images.shape[0], 64):
            out.append(net(images[i : i + 64].to(device))[0].cpu())
        return torch.cat(out)

    return run


# ----------------------------------------------------------------------------------------- all together
def evaluate_gadn(
    model,
    data: ArtistImages,
    generated: int = 0,
    per_pair: int = 200,
    feature_net: str = "mobilenet_v2",
    classifier_steps: int = 1500,
    log: Callable[[str], None] = print,
    holdout_contents: float | None = None,
) -> dict[str, Any]:
    """Every measure above for a loaded GADN on its training folder; JSON-ready. Where contents were held
    out of training (the card's ``holdout_contents``, or the one given, e.g. to score another model on
    the same contents), the transfer is also judged on those alone (``transfer_truth_held_out``)."""
    if data.artists != model.artists:
        from studio.core.errors import StudioError

        raise StudioError(f"the data folder's artists {data.artists} differ from the model's {model.artists}")
    log(f"encoding {len(data)} images …")
    codes = encode_images(model, data.images)
    groupings: dict[str, Sequence] = {
        "artist": [data.artists[i] for i in data.labels.tolist()],
        "content": list(data.keys),
    }
    cats = [data.category_of(k) for k in data.keys]
    if all(c is not None for c in cats) and len(set(cats)) > 1:
        groupings["category"] = cats
    results: dict[str, Any] = {"content_space": content_space_measures(codes, groupings), "images": len(data)}
    count = generated or len(data)
    log(f"classifying {count} generated samples with C2 …")
    results["c2_top1_generated"] = generated_accuracy(model, data, count)
    results["c2_generated_samples"] = count
    if classifier_steps:
        log(f"training an independent classifier on real images ({classifier_steps} steps) …")
        judge, info = train_independent_classifier(model.cfg, data, classifier_steps, device=str(model.device), log=log)

        def judge_classify(images: torch.Tensor) -> torch.Tensor:  # runs under generated_accuracy's no_grad
            return judge(images.to(model.device) * 2 - 1)

        info["top1_generated"] = generated_accuracy(model, data, count, classify=judge_classify)
        results["independent_classifier"] = info
    if per_pair:
        feats = None
        if feature_net and feature_net != "none":
            try:
                feats = mobilenet_features(str(model.device))
                results["feature_network"] = "mobilenet_v2 (ImageNet, pooled features, 112 px input)"
            except Exception as exc:  # the weights package is optional: pixel distances still work
                log(f"feature network unavailable ({exc}); pixel distances only")
        log("transfer against the other artists' real drawings …")
        galleries: dict[int, tuple[dict[str, int], torch.Tensor]] = {}  # built once, for both calls
        results["transfer_truth"] = transfer_truth(model, data, per_pair, features=feats, galleries=galleries)
        if holdout_contents is None:
            train = (getattr(getattr(model, "card", None), "extra", None) or {}).get("train") or {}
            holdout_contents = float(train.get("holdout_contents") or 0.0)
        held = held_out_contents(data.keys, holdout_contents)
        if held:
            log(f"transfer of the {len(held)} contents held out of training …")
            results["transfer_truth_held_out"] = transfer_truth(
                model, data, per_pair, features=feats, only_keys=held, galleries=galleries
            )
            results["held_out_contents"] = {"fraction": holdout_contents, "contents": len(held)}
    return results


def summary(results: dict[str, Any]) -> str:
    cs = results["content_space"]["full"]
    lines = ["content space (full code):"]
    for k, v in cs["class_mean_distance"].items():
        lines.append(f"  distance to class mean {k:14s} {v:.4f}")
    for k, v in cs["naive_bayes"].items():
        lines.append(
            f"  naive Bayes {k:12s} top1 {v['top1']:.3f} (chance {v['chance_top1']:.3f}), "
            f"avg p {v['avg_prob_correct']:.3f}, avg rank {v['avg_rank']:.2f}/{v['classes']}"
        )
    lines.append(f"C2 (adversarial, the model's own) top-1 on generated samples: {results['c2_top1_generated']:.4f}")
    ind = results.get("independent_classifier")
    if ind:
        lines.append(
            f"independent classifier (real images only) top-1 on generated samples: "
            f"{ind['top1_generated']:.4f} (on held-out real images: {ind['held_out_real_top1']:.4f})"
        )
    for key, title in (("transfer_truth", "transfer"), ("transfer_truth_held_out", "held-out")):
        tt = results.get(key)
        if tt:
            for m, v in tt["overall"].items():
                lines.append(f"  {title} {m:20s} " + " ".join(f"{k} {x:.4f}" for k, x in v.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from studio.core.checkpoint import read_card, update_card
    from studio.core.errors import StudioError
    from studio.core.store import ModelStore, load_model

    ap = argparse.ArgumentParser(description="GADN disentanglement and transfer measures")
    ap.add_argument("model")
    ap.add_argument("--data", type=Path, required=True, help="the folder the model was trained on")
    ap.add_argument("--generated", type=int, default=0, help="generated samples for C2 (default: as many as images)")
    ap.add_argument("--per-pair", type=int, default=200, help="contents per artist pair for the transfer check")
    ap.add_argument("--features", default="mobilenet_v2", help="feature network, or 'none'")
    ap.add_argument(
        "--classifier-steps",
        type=int,
        default=1500,
        help="training steps of the independent (real-images-only) classifier; 0 = skip it",
    )
    ap.add_argument("--write", action="store_true", help="store the results in the model card's metrics")
    ap.add_argument("--json", type=Path, help="also write the full results to this file")
    ap.add_argument("--max-per-artist", type=int, default=0, help="use at most N images per artist")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    try:
        store = ModelStore()
        path = store.resolve(args.model)
        model = load_model(path, device=args.device, registry=store.registry)
        data = load_artist_folder(args.data, model.image_size, args.max_per_artist)
        results = evaluate_gadn(
            model,
            data,
            args.generated,
            args.per_pair,
            args.features,
            args.classifier_steps,
            log=lambda m: print(m, file=sys.stderr),
        )
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.write:
        metrics = dict(read_card(path).metrics)
        metrics["gadn_eval"] = results
        update_card(path, metrics=metrics)
        print(f"wrote the results into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
