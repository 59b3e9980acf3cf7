"""Readable labels for the training and job options ("Generator learning rate", not "lr g").

The forms are built from the families' CLI options (:mod:`studio.ui.job_dialog`), whose names are
written for a terminal. Known names get a label here; any other name is spelled out word by word
(``lr`` → "learning rate", ``d`` → "discriminator", …), so a plugin's options read well too. The
CLI flag stays in each field's tooltip.
"""

from __future__ import annotations

LABELS: dict[str, str] = {
    "data": "Image folder",
    "a": "Folder of domain A images",
    "b": "Folder of domain B images",
    "out": "Model name",
    "steps": "Training steps",
    "steps1": "Stage 1 steps",
    "steps2": "Stage 2 steps",
    "steps_cls": "Classifier steps",
    "batch": "Images per step (batch)",
    "batch_cls": "Classifier batch",
    "lr": "Learning rate",
    "lr_g": "Generator learning rate",
    "lr_d": "Discriminator learning rate",
    "lr1": "Stage 1 learning rate",
    "lr1_style": "Stage 1 style learning rate",
    "lr2": "Stage 2 learning rate",
    "lr2_style": "Stage 2 style learning rate",
    "lr_cls": "Classifier learning rate",
    "fc_dim": "Fully connected layer width",
    "fc_features": "Fully connected layer width",
    "d_threshold": "Pause the discriminator below this loss",
    "d_channels": "Discriminator channels",
    "d_strides": "Discriminator strides",
    "d_norm": "Discriminator normalisation",
    "g_norm": "Generator normalisation",
    "ndf": "Discriminator width",
    "ngf": "Generator width",
    "n_blocks": "Residual blocks",
    "n_res": "Residual blocks",
    "r1": "R1 penalty (gamma)",
    "r1_every": "R1 penalty every N steps",
    "ema": "Generator moving average (0 = off)",
    "arch": "Architecture",
    "width": "Network width (×)",
    "image_size": "Image size (px)",
    "size": "Image size (px)",
    "load_size": "Load size (px)",
    "fit": "Make square by",
    "flip": "Random flips",
    "augment": "Augmentation",
    "time_limit": "Stop after (minutes)",
    "checkpoint_every": "Save every N steps",
    "preview_every": "Preview every N steps",
    "kid_every": "Measure KID every N steps",
    "kid_samples": "Images per KID measurement",
    "kid_features": "KID feature network",
    "precision": "Precision",
    "threads": "CPU threads (0 = all)",
    "device": "Device",
    "seed": "Random seed",
    "resume": "Continue the run in the run folder",
    "run_dir": "Run folder",
    "force": "Overwrite an existing run or model",
    "licence": "Licence of the images",
    "data_name": "Name of the data set",
    "data_note": "Note about the data",
    "notes": "Notes",
    "model_name": "Display name",
    "holdout": "Share held out for evaluation",
    "max_per_style": "At most N images per style",
    "max_per_artist": "At most N images per artist",
    "limit": "At most N images per folder",
    "val_count": "Validation images",
    "pca_samples": "Samples for the direction analysis",
    "pca_k": "Number of directions",
    "index_size": "Images in the search index",
    "half": "Save weights as float16",
    "lambda_cycle": "Cycle-consistency weight",
    "lambda_identity": "Identity weight",
    "cycle_weight": "Cycle-consistency weight",
    "identity_weight": "Identity weight",
    "adv_weight": "Adversarial weight",
    "cam_weight": "Attention (CAM) weight",
    "ambiguity_weight": "Style-ambiguity weight",
    "ambiguity": "Style-ambiguity loss",
    "adversary1": "Stage-1 adversary",
    "late_decay": "LSGAN late learning-rate decay",
    "late_after_epochs": "Late decay after (epochs)",
    "d_output": "Discriminator output",
    "ratio": "Generator updates per discriminator update",
    "pool_size": "Image pool size",
    "decay_start": "Learning-rate decay starts at step",
    "content_dim": "Content code size",
    "style_dim": "Style code size",
    "latent_dim": "Latent code size",
    "base_channels": "Base channels",
    "output_map": "Output mapping",
    "kernel": "Discriminator kernel size",
}

WORDS = {
    "lr": "learning rate",
    "g": "generator",
    "d": "discriminator",
    "cls": "classifier",
    "dim": "size",
    "fc": "fully connected",
    "w": "weight",
    "kl": "KL",
    "n": "number of",
    "rec": "reconstruction",
    "dis": "discriminator",
}


def label(dest: str) -> str:
    """The form label of an option's ``dest``."""
    if dest in LABELS:
        return LABELS[dest]
    words = [WORDS.get(w, w) for w in dest.split("_") if w]
    text = " ".join(words) or dest
    return text[:1].upper() + text[1:]
