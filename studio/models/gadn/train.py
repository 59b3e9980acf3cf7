"""GADN training: stage 1 (style-free content encoder), classifier pre-training, stage 2 (dual-conditional
generator), in that order, as one resumable job.

Resumability: the run folder holds ``checkpoint.safetensors`` + ``checkpoint.json`` written atomically by
:func:`studio.core.checkpoint.save_checkpoint`: every network, every optimiser's tensors (the optimisers'
scalar settings go into the card as JSON -- never a pickle), and the stage, the step within it and the
wall time so far. Batches are drawn from a generator seeded by (seed, stage, step), so a resumed run
draws the same batches it would have drawn.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from studio.core.checkpoint import ModelCard, TrainingInfo, load_checkpoint, module_tensors, load_module_tensors, \
    save_checkpoint
from studio.core.device import resolve_device
from studio.core.errors import JobCancelled, StudioError
from studio.core.grid import tile, to_uint8
from studio.core.history import TrainingHistory
from studio.core.jobs import Reporter, cancelled_with
from studio.metrics.training_kid import TrainingKID

from .config import GADNConfig, TrainConfig
from .data import ArtistImages, check_artists, load_artist_folder
from .losses import (code_distance, kl_standard_normal, lsgan_discriminator, lsgan_generator,
                     negative_log_unlikelihood, other_artists, pixel_distance, reparameterise)
from .networks import GADNNets

STAGES = ("stage1", "cls", "stage2")
STAGE_TITLES = {"stage1": "stage 1 (content encoder)", "cls": "classifier pre-training",
                "stage2": "stage 2 (dual-conditional generator)"}


# ----------------------------------------------------------------------------------------------- optimisers
def make_optimisers(nets: GADNNets, stage: str, tc: TrainConfig) -> dict[str, torch.optim.Optimizer]:
    """Stage 1: Adam; classifier pre-training: Adam; stage 2: RMSprop (momentum destabilises GANs).
    The style tables get their own (larger) learning rate, as in the authors' code."""
    if stage == "stage1":
        return {"eg1": torch.optim.Adam([
                    {"params": list(nets.E.parameters()) + list(nets.G.parameters()), "lr": tc.lr1},
                    {"params": list(nets.S.parameters()), "lr": tc.lr1_style}]),
                "c1": torch.optim.Adam(nets.C1.parameters(), lr=tc.lr1)}
    if stage == "cls":
        return {"c2pre": torch.optim.Adam(nets.C2.parameters(), lr=tc.lr_cls)}
    if stage == "stage2":
        return {"g2": torch.optim.RMSprop([
                    {"params": list(nets.G.parameters()), "lr": tc.lr2},
                    {"params": list(nets.S.parameters()), "lr": tc.lr2_style}]),
                "d2": torch.optim.RMSprop(nets.D.parameters(), lr=tc.lr2),
                "c2": torch.optim.RMSprop(nets.C2.parameters(), lr=tc.lr2)}
    return {}


def optimiser_to_flat(name: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimiser state into tensors (for safetensors) and JSON (settings, plain numbers)."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {"param_groups": sd["param_groups"], "state": {}}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"optim.{name}.{idx}.{key}"] = value.detach().cpu().clone()
            else:
                meta["state"].setdefault(str(idx), {})[key] = value
    return tensors, meta


def optimiser_from_flat(name: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                        meta: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    prefix = f"optim.{name}."
    for key, value in tensors.items():
        if key.startswith(prefix):
            idx, sub = key[len(prefix):].split(".", 1)
            state.setdefault(int(idx), {})[sub] = value
    for idx, extra in (meta.get("state") or {}).items():
        state.setdefault(int(idx), {}).update(extra)
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


# ----------------------------------------------------------------------------------------------- steps
def stage1_step(nets: GADNNets, opts: dict, x: torch.Tensor, a: torch.Tensor, tc: TrainConfig,
                gen: torch.Generator | None = None, trace: dict | None = None) -> dict[str, float]:
    """One stage-1 update. C1 learns to find the true artist a in G(E(x), S(a')) with a' != a;
    E, G and S learn to reconstruct x from (E(x), S(a)) while making C1 fail."""
    A = nets.cfg.num_artists
    a_other = other_artists(a, A, gen)
    c_mean, c_std = nets.E(x)
    c = reparameterise(c_mean, c_std, gen)
    s_mean, s_std = nets.S(a)
    s = reparameterise(s_mean, s_std, gen)
    so_mean, so_std = nets.S(a_other)
    s_other = reparameterise(so_mean, so_std, gen)
    recon = nets.G(c, s)
    restyled = nets.G(c, s_other)
    if trace is not None:
        trace.update(source=a.clone(), styled_as=a_other.clone(), c1_input=restyled.detach().clone())

    # C1: recognise the source artist of the content in an image restyled as someone else
    c1_loss = F.cross_entropy(nets.C1(restyled.detach()), a)
    opts["c1"].zero_grad(set_to_none=True)
    c1_loss.backward()
    opts["c1"].step()

    # E, G, S: reconstruct, stay close to N(0, 1), and fool C1
    logits = nets.C1(restyled)
    if tc.adversary1 == "likelihood":  # maximise C1's negative log-likelihood of the true artist
        adv = -F.cross_entropy(logits, a)
    else:  # minimise -log(1 - p_C1(a | .))
        adv = negative_log_unlikelihood(logits, a)
    rec = pixel_distance(recon, x)
    kl_c = kl_standard_normal(c_mean, c_std)
    kl_s = kl_standard_normal(torch.cat([s_mean, so_mean]), torch.cat([s_std, so_std]))
    loss = tc.w_rec * rec + tc.w_kl_content * kl_c + tc.w_kl_style * kl_s + tc.w_cls1 * adv
    opts["eg1"].zero_grad(set_to_none=True)
    loss.backward()
    opts["eg1"].step()
    with torch.no_grad():
        acc = (logits.argmax(1) == a).float().mean()
    return {"rec": rec.item(), "kl_c": kl_c.item(), "kl_s": kl_s.item(), "adv": adv.item(),
            "c1": c1_loss.item(), "c1_acc": acc.item()}


def classifier_step(nets: GADNNets, opts: dict, x: torch.Tensor, a: torch.Tensor) -> dict[str, float]:
    """Pre-train C2 on real images only (it should already know the artists when stage 2 starts)."""
    logits = nets.C2(x)
    loss = F.cross_entropy(logits, a)
    opts["c2pre"].zero_grad(set_to_none=True)
    loss.backward()
    opts["c2pre"].step()
    return {"c2": loss.item(), "c2_acc": (logits.argmax(1) == a).float().mean().item()}


def freeze_encoder(nets: GADNNets) -> None:
    """Stage 2 keeps E fixed: no gradients, eval mode."""
    nets.E.eval()
    for p in nets.E.parameters():
        p.requires_grad_(False)


def stage2_step(nets: GADNNets, opts: dict, x: torch.Tensor, a: torch.Tensor, tc: TrainConfig,
                gen: torch.Generator | None = None) -> dict[str, float]:
    """One stage-2 update: LSGAN D, adversarial classifier C2 ("not a'" on generated images),
    and G/S trained against both plus the content condition E(G(c, s)) ~ c."""
    A = nets.cfg.num_artists
    with torch.no_grad():
        c_mean, c_std = nets.E(x)
        c = reparameterise(c_mean, c_std, gen)
    a_gen = torch.randint(0, A, a.shape, generator=gen).to(a.device)
    s_mean, s_std = nets.S(a_gen)
    s = reparameterise(s_mean, s_std, gen)
    fake = nets.G(c, s)

    d_loss = lsgan_discriminator(nets.D(x), nets.D(fake.detach()))
    opts["d2"].zero_grad(set_to_none=True)
    d_loss.backward()
    opts["d2"].step()

    real_logits = nets.C2(x)
    c2_real = F.cross_entropy(real_logits, a)
    c2_fake = negative_log_unlikelihood(nets.C2(fake.detach()), a_gen)
    c2_loss = c2_real + c2_fake
    opts["c2"].zero_grad(set_to_none=True)
    c2_loss.backward()
    opts["c2"].step()

    g_adv = lsgan_generator(nets.D(fake))
    fake_logits = nets.C2(fake)
    g_cls = F.cross_entropy(fake_logits, a_gen)
    content = code_distance(nets.E(fake)[0], c)
    kl_s = kl_standard_normal(s_mean, s_std)
    g_loss = tc.w_dis2 * g_adv + tc.w_cls2 * g_cls + tc.w_content2 * content + tc.w_kl_style * kl_s
    opts["g2"].zero_grad(set_to_none=True)
    g_loss.backward()
    opts["g2"].step()
    with torch.no_grad():
        acc_gen = (fake_logits.argmax(1) == a_gen).float().mean()
    return {"d": d_loss.item(), "g_adv": g_adv.item(), "g_cls": g_cls.item(), "content": content.item(),
            "c2_real": c2_real.item(), "c2_fake": c2_fake.item(), "c2_acc_gen": acc_gen.item()}


# ----------------------------------------------------------------------------------------------- helpers
@torch.no_grad()
def preview_grid(nets: GADNNets, x: torch.Tensor) -> "Any":
    """Rows = fixed contents (first column: the real image), columns = every artist's style."""
    was = nets.training
    nets.eval()
    c, _ = nets.E(x)
    A = nets.cfg.num_artists
    cells = []
    for i in range(x.shape[0]):
        cells.append(x[i:i + 1])
        cells.append(nets.G(c[i:i + 1].expand(A, -1), nets.S.mean))
    nets.train(was)
    imgs = (torch.cat(cells) + 1) / 2
    return tile(to_uint8(imgs.cpu()), x.shape[0], A + 1)


@torch.no_grad()
def content_statistics(nets: GADNNets, data: ArtistImages, device: torch.device, batch: int = 256,
                       max_images: int = 1500) -> dict[str, torch.Tensor]:
    """Mean, principal axes (rows, largest variance first) and variances of the training set's content
    codes (E's means): the content sliders and "sample new content" draw from this Gaussian.
    At most ``max_images`` (a fixed random subset) are encoded: enough for a 64-512-d covariance and
    it keeps the export cheap on a shared CPU."""
    codes = encode_all(nets, data, device, batch, max_images)
    mean = codes.mean(0)
    centred = (codes - mean).double()
    cov = centred.T @ centred / max(1, codes.shape[0] - 1)
    variances, vectors = torch.linalg.eigh(cov)
    order = torch.argsort(variances, descending=True)
    return {"content.mean": mean.float(), "content.axes": vectors[:, order].T.float().contiguous(),
            "content.variances": variances[order].clamp_min(0).float()}


@torch.no_grad()
def encode_all(nets: GADNNets, data: ArtistImages, device: torch.device, batch: int = 256,
               max_images: int = 0) -> torch.Tensor:
    nets.E.eval()
    order = torch.arange(len(data))
    if max_images and len(data) > max_images:
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:max_images]
    out = []
    for i in range(0, len(order), batch):
        x, _ = data.batch(order[i:i + batch])
        out.append(nets.E(x.to(device))[0].cpu())
    return torch.cat(out)


def batch_generator(tc: TrainConfig, stage: str, step: int) -> torch.Generator:
    return torch.Generator().manual_seed(tc.seed * 1_000_003 + STAGES.index(stage) * 10_000_019 + step)


# ----------------------------------------------------------------------------------------------- the job
class GADNTrainJob:
    """``studio train gadn --data DIR``: stage 1, classifier pre-training, stage 2; resumable per stage."""

    def __init__(self, data: str | Path, out: str | Path | None = None, run_dir: str | Path | None = None,
                 resume: bool = False, device: str = "auto", model: GADNConfig | None = None,
                 train: TrainConfig | None = None, command: str = "", name: str | None = None,
                 threads: int = 0, max_per_artist: int = 0, kid_every: int = 0, kid_samples: int = 256,
                 kid_features: str = "mobilenet_v2"):
        from studio.core.paths import runs_dir, user_models_dir

        self.data_dir = Path(data)
        self.name = name or f"gadn-{self.data_dir.name}"
        self.out = Path(out) if out else user_models_dir() / self.name
        self.run_dir = Path(run_dir) if run_dir else runs_dir() / self.name
        self.resume = resume
        self.device_name = device
        self.mcfg = model or GADNConfig()
        self.tc = train or TrainConfig()
        self.command = command
        self.threads = threads
        self.max_per_artist = max_per_artist
        self.title = f"Train GADN on {self.data_dir.name}"
        self.commands = [command] if command else []  # every command that worked on this run, in order
        self.kid_options = {"kid_every": kid_every, "kid_samples": kid_samples, "kid_features": kid_features}
        self.curves = TrainingHistory()

    # -- run-folder checkpoint -------------------------------------------------------------------------
    @property
    def checkpoint_stem(self) -> Path:
        return self.run_dir / "checkpoint"

    def _save_run(self, nets: GADNNets, opts: dict, stage: str, step: int, wall: float,
                  artists: list[str], history: dict) -> Path:
        tensors = module_tensors("nets", nets)
        optim_meta = {}
        for name, opt in opts.items():
            t, meta = optimiser_to_flat(name, opt)
            tensors.update(t)
            optim_meta[name] = meta
        card = ModelCard(name=self.name + "-run", family="gadn", config=self.mcfg.to_dict(),
                         image_size=self.mcfg.image_size, latent_dim=self.mcfg.content_dim,
                         labels={"artists": list(artists)},
                         extra={"run": {"stage": stage, "step": step, "wall_time_s": wall,
                                        "train": self.tc.to_dict(), "data": str(self.data_dir),
                                        "history": history, "commands": self.commands,
                                        "curves": self.curves.to_dict()},
                                "optimisers": optim_meta})
        return save_checkpoint(self.checkpoint_stem, tensors, card)

    def _load_run(self, nets: GADNNets) -> tuple[str, int, float, dict, dict[str, torch.Tensor], dict]:
        tensors, card = load_checkpoint(self.checkpoint_stem.with_suffix(".json"))
        load_module_tensors("nets", nets, tensors, self.checkpoint_stem.with_suffix(".safetensors"))
        run = card.extra.get("run") or {}
        self.curves = TrainingHistory.from_dict(run.get("curves"))
        return (run.get("stage", "stage1"), int(run.get("step", 0)), float(run.get("wall_time_s", 0.0)),
                run.get("history") or {}, tensors, card.extra.get("optimisers") or {})

    # -- main ------------------------------------------------------------------------------------------
    def run(self, reporter: Reporter) -> dict[str, Any]:
        if self.threads:
            torch.set_num_threads(self.threads)
        device = resolve_device(self.device_name)
        reporter.message(f"loading images from {self.data_dir} …")
        data = load_artist_folder(self.data_dir, self.mcfg.image_size, self.max_per_artist)
        self.mcfg.num_artists = len(data.artists)
        self.mcfg.__post_init__()
        torch.manual_seed(self.tc.seed)
        nets = GADNNets(self.mcfg)
        stage, step, wall, history = "stage1", 0, 0.0, {}
        saved_tensors: dict[str, torch.Tensor] = {}
        saved_optim: dict = {}
        if self.resume:
            if not self.checkpoint_stem.with_suffix(".json").exists():
                raise StudioError(f"--resume: no run checkpoint in {self.run_dir}")
            from studio.core.checkpoint import read_card

            card = read_card(self.checkpoint_stem.with_suffix(".json"))
            check_artists(data, card.labels.get("artists", []))
            self.mcfg = GADNConfig.from_dict(card.config)
            card_tc = TrainConfig.from_dict((card.extra.get("run") or {}).get("train") or {})
            # schedule options given now win (a resumed run may be extended); weights stay as they were
            for key in ("steps1", "steps_cls", "steps2", "preview_every", "checkpoint_every"):
                setattr(card_tc, key, getattr(self.tc, key))
            self.tc = card_tc
            nets = GADNNets(self.mcfg)
            stage, step, wall, history, saved_tensors, saved_optim = self._load_run(nets)
            earlier = (card.extra.get("run") or {}).get("commands") or []
            self.commands = list(earlier) + ([self.command] if self.command else [])
            reporter.message(f"resuming at {STAGE_TITLES.get(stage, stage)}, step {step}")
        elif self.checkpoint_stem.with_suffix(".json").exists():
            raise StudioError(f"{self.run_dir} already holds a run: pass --resume to continue it, or choose "
                              "another --run-dir")
        nets.to(device).train()
        pick = torch.randperm(len(data), generator=torch.Generator().manual_seed(1234))[:6]
        preview_x = data.batch(pick)[0].to(device)
        steps = {"stage1": self.tc.steps1, "cls": self.tc.steps_cls, "stage2": self.tc.steps2}
        offsets = {"stage1": 0, "cls": self.tc.steps1, "stage2": self.tc.steps1 + self.tc.steps_cls}
        total = sum(steps.values())
        if self.resume:
            self.curves.truncate(offsets.get(stage, total) + step)
        t0 = time.perf_counter()
        opts: dict = {}
        kid = TrainingKID.from_options(self.kid_options, device)
        kid_pick = torch.randperm(len(data), generator=torch.Generator().manual_seed(4321))

        def kid_reference(n: int) -> torch.Tensor:
            return data.batch(kid_pick[:n])[0]

        def kid_samples(n: int) -> torch.Tensor:
            """Training contents redrawn by another artist: what stage 2 learns to do."""
            x, a = data.batch(kid_pick[-n:])
            others = (a + 1 + torch.arange(n) % max(1, nets.cfg.num_artists - 1)) % nets.cfg.num_artists
            was = nets.training
            nets.eval()
            content, _ = nets.E(x.to(device))
            out = nets.G(content, nets.S.mean[others.to(device)])
            nets.train(was)
            return out

        def elapsed() -> float:
            return wall + time.perf_counter() - t0

        try:
            for st in STAGES[STAGES.index(stage) if stage in STAGES else len(STAGES):]:
                if st == "stage2":
                    freeze_encoder(nets)
                opts = make_optimisers(nets, st, self.tc)
                if st == stage and saved_optim:
                    for name, opt in opts.items():
                        if name in saved_optim:
                            optimiser_from_flat(name, opt, saved_tensors, saved_optim[name])
                    saved_optim = {}
                start = step if st == stage else 0
                stage, step = st, start
                bsz = self.tc.batch_cls if st == "cls" else self.tc.batch
                while step < steps[st]:
                    gen = batch_generator(self.tc, st, step)
                    idx = torch.randint(0, len(data), (bsz,), generator=gen)
                    x, a = data.batch(idx)
                    x, a = x.to(device), a.to(device)
                    if st == "stage1":
                        losses = stage1_step(nets, opts, x, a, self.tc, gen)
                    elif st == "cls":
                        losses = classifier_step(nets, opts, x, a)
                    else:
                        losses = stage2_step(nets, opts, x, a, self.tc, gen)
                    step += 1
                    history.setdefault(st, {"first": losses})
                    history[st]["last"] = losses
                    here = offsets[st] + step
                    self.curves.add(here, losses)
                    scores: dict[str, float] = {}
                    if st != "cls" and kid.due(here):
                        scores = kid.measure(kid_reference, kid_samples, reporter.message)
                        self.curves.add_scores(here, scores)
                    preview = None
                    if step % self.tc.preview_every == 0 or step == steps[st]:
                        preview = preview_grid(nets, preview_x)
                    reporter.report(here, total, losses=losses, preview=preview, metrics=scores,
                                    message=STAGE_TITLES[st])
                    if step % self.tc.checkpoint_every == 0 and step < steps[st]:
                        self._save_run(nets, opts, st, step, elapsed(), data.artists, history)
                # stage finished: the next one starts at step 0
                if st != STAGES[-1]:
                    self._save_run(nets, {}, STAGES[STAGES.index(st) + 1], 0, elapsed(), data.artists, history)
            # a finished run rests at the end of stage 2 (with its optimisers), so --resume with a
            # larger --steps2 trains stage 2 further
            self.curves.flush(total)
            self._save_run(nets, opts, "stage2", step, elapsed(), data.artists, history)
            stage = "done"
        except JobCancelled:
            self.curves.flush(offsets.get(stage, total) + step)
            if stage != "done":
                self._save_run(nets, opts, stage, step, elapsed(), data.artists, history)
            card = self.export(nets, data, device, elapsed(), offsets.get(stage, total) + step, history,
                               finished=False)
            raise cancelled_with({"card": str(card), "run": str(self.run_dir)})
        card = self.export(nets, data, device, elapsed(), total, history, finished=True)
        return {"card": str(card), "run": str(self.run_dir)}

    def export(self, nets: GADNNets, data: ArtistImages, device: torch.device, wall: float, steps: int,
               history: dict, finished: bool) -> Path:
        """Save the renderable model (E, G, S, C2 + content statistics) with its model card."""
        stats = content_statistics(nets, data, device)
        tensors = {}
        for name in GADNNets.RENDER:
            tensors.update(module_tensors(name, getattr(nets, name)))
        tensors.update(stats)
        info = data.info
        notes = "finished" if finished else "stopped early (cancelled); resumable from the run folder"
        if len(self.commands) > 1:
            notes += "; continued with: " + " ; ".join(self.commands[1:])
        card = ModelCard(
            name=self.name, family="gadn", config=self.mcfg.to_dict(), image_size=self.mcfg.image_size,
            latent_dim=self.mcfg.content_dim, labels={"artists": list(data.artists)},
            training=TrainingInfo(data=info.get("data") or str(self.data_dir), licence=info.get("licence", ""),
                                  command=self.commands[0] if self.commands else self.command,
                                  steps=int(steps), wall_time_s=round(wall, 1),
                                  device=str(device),
                                  notes=f"{notes}; schedule stage1={self.tc.steps1}, classifier={self.tc.steps_cls}, "
                                        f"stage2={self.tc.steps2} steps; {len(data)} images"),
            metrics={"final_losses": {k: v.get("last", {}) for k, v in history.items()}},
            extra={"train": self.tc.to_dict(), "content_images": len(data), "commands": self.commands,
                   "loss_history": self.curves.card_columns()})
        return save_checkpoint(self.out, tensors, card)
