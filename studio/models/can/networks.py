"""CAN networks: a generator and a two-headed (real/fake + style) discriminator, as plain nn.Modules.

Images are [N,3,S,S] floats in [0,1] everywhere (the studio's image range); the discriminator maps them
to [-1,1] itself, as the report normalised its data.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from studio.core.bnfold import folded_linear, frozen_norm

from .config import CANConfig

SIG_LO = 1.0 / (1.0 + math.exp(4.0))  # sigmoid(-4)
SIG_HI = 1.0 - SIG_LO  # sigmoid(4)


def map_output(x: torch.Tensor, how: str) -> torch.Tensor:
    """Last-layer output → [-4, 4] → sigmoid → stretched to exactly [0, 1].

    Why: the report found the sigmoid saturating (all-0/255 pixels) and fixed it by mapping the sigmoid's
    input linearly to [-4, 4]; stretching [σ(-4), σ(4)] to [0, 1] then lets generated images reach pure
    white and black like real ones, so the discriminator cannot spot fakes by their value range.
    """
    if how == "minmax":
        flat = x.flatten(1)
        lo = flat.min(1).values.view(-1, 1, 1, 1)
        hi = flat.max(1).values.view(-1, 1, 1, 1)
        y = -4.0 + 8.0 * (x - lo) / (hi - lo).clamp_min(1e-6)
    else:
        y = 4.0 * torch.tanh(x)
    return ((torch.sigmoid(y) - SIG_LO) / (SIG_HI - SIG_LO)).clamp(0.0, 1.0)


class ReportGenerator(nn.Module):
    """z → FC fc_dim → FC (S/8)²·128 → reshape → 3 × (LeakyReLU + transposed conv) → [-4,4] → sigmoid."""

    def __init__(self, cfg: CANConfig):
        super().__init__()
        self.cfg = cfg
        self.base = cfg.image_size // 8
        c0, c1, c2 = cfg.ch(128), cfg.ch(64), cfg.ch(32)
        self.c0 = c0
        self.fc = nn.Sequential(
            nn.Linear(cfg.latent_dim, cfg.fc_dim),
            nn.LeakyReLU(cfg.leak),
            nn.Linear(cfg.fc_dim, self.base * self.base * c0),
        )
        self.up = nn.Sequential(
            nn.LeakyReLU(cfg.leak),
            nn.ConvTranspose2d(c0, c1, 4, 2, 1),
            nn.LeakyReLU(cfg.leak),
            nn.ConvTranspose2d(c1, c2, 4, 2, 1),
            nn.LeakyReLU(cfg.leak),
            nn.ConvTranspose2d(c2, 3, 4, 2, 1),
        )

    def latent_features(self, z: torch.Tensor) -> torch.Tensor:
        """The first hidden layer (GANSpace's layer for the latent sliders)."""
        return self.fc[0](z)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(z).view(-1, self.c0, self.base, self.base)
        return map_output(self.up(x), self.cfg.output_map)


class ReportDiscriminator(nn.Module):
    """3 × (conv + LeakyReLU + 2×2 avg pool), 32/64/128 channels, then two parallel FC heads."""

    def __init__(self, cfg: CANConfig):
        super().__init__()
        self.cfg = cfg
        k, p = cfg.kernel, cfg.kernel // 2
        chans = [3, cfg.ch(32), cfg.ch(64), cfg.ch(128)]
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(cin, cout, k, 1, p), nn.LeakyReLU(cfg.leak), nn.AvgPool2d(2)]
        self.body = nn.Sequential(*layers)
        flat = chans[-1] * (cfg.image_size // 8) ** 2
        self.style_hidden = nn.Sequential(nn.Linear(flat, cfg.fc_dim), nn.LeakyReLU(cfg.leak))
        self.style_out = nn.Linear(cfg.fc_dim, cfg.num_styles)
        self.real_head = nn.Sequential(nn.Linear(flat, cfg.fc_dim), nn.LeakyReLU(cfg.leak), nn.Linear(cfg.fc_dim, 1))

    def trunk(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images * 2.0 - 1.0).flatten(1)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (real/fake logits [N], style logits [N,K])."""
        h = self.trunk(images)
        return self.real_head(h).squeeze(1), self.style_out(self.style_hidden(h))

    def style_logits(self, images: torch.Tensor) -> torch.Tensor:
        return self.style_out(self.style_hidden(self.trunk(images)))

    def style_features(self, images: torch.Tensor) -> torch.Tensor:
        """The style head's hidden layer: the feature space in which 'nearest training images' are found."""
        return self.style_hidden(self.trunk(images))


class DCGANGenerator(nn.Module):
    """Deeper variant: z → 4×4 → (transposed conv + BN + ReLU) × log2(S/4) → [-4,4] → sigmoid."""

    def __init__(self, cfg: CANConfig):
        super().__init__()
        self.cfg = cfg
        n_up = int(math.log2(cfg.image_size // 4))
        c = cfg.ch(64) * 2 ** (n_up - 1)
        self.c0 = c
        self.fc = nn.Sequential(
            nn.Linear(cfg.latent_dim, 16 * c),
        )
        self.bn0: nn.Module = nn.BatchNorm2d(c)
        layers: list[nn.Module] = []
        for i in range(n_up):
            last = i == n_up - 1
            cout = 3 if last else c // 2
            layers.append(nn.ConvTranspose2d(c, cout, 4, 2, 1, bias=last))
            if not last:
                layers += [nn.BatchNorm2d(cout), nn.ReLU()]
            c = cout
        self.up = nn.Sequential(*layers)

    def fold_norms_for_render(self) -> int:
        """On a render copy only (studio.core.bnfold): the projection's norm into the projection."""
        linear, norm = self.fc[0], self.bn0
        if not isinstance(linear, nn.Linear) or not isinstance(norm, nn.BatchNorm2d) or not frozen_norm(norm, self.c0):
            return 0
        self.fc[0] = folded_linear(linear, norm, 16)
        self.bn0 = nn.Identity()
        return 1

    def latent_features(self, z: torch.Tensor) -> torch.Tensor:
        """The projection before its norm (GANSpace's layer for the latent sliders)."""
        return self.fc[0](z)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn0(self.fc(z).view(-1, self.c0, 4, 4)))
        return map_output(self.up(x), self.cfg.output_map)


class FastGANGenerator(nn.Module):
    """The csgan family's FastGAN generator (skip-layer excitation) as CAN's G, tanh output mapped to [0, 1].

    Why the csgan body itself, parameter names (``fast.*``) included: a content GAN already trained on the
    same images (e.g. the bundled ``openclipart-fastgan``) can then start the CAN's generator
    (``--init-generator``), so the CPU's few thousand steps go to the style-ambiguity term rather than to
    learning to draw at all."""

    def __init__(self, cfg: CANConfig):
        super().__init__()
        from studio.models.csgan.networks import CSGANConfig, FastGANBody

        self.cfg = cfg
        self.fast = FastGANBody(
            CSGANConfig(arch=f"fastgan{cfg.image_size}", width=cfg.width, latent_dim=cfg.latent_dim)
        )

    def latent_features(self, z: torch.Tensor) -> torch.Tensor:
        """The 4×4 map after the first block, flattened (GANSpace's layer, as for csgan's FastGAN)."""
        return self.fast.features(z).flatten(1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (self.fast.decode(self.fast.features(z)) + 1.0) * 0.5


class DCGANDiscriminator(nn.Module):
    """Deeper variant: strided convs (BN + LeakyReLU) down to 4×4; real head FC → 1, style head FC → FC → K."""

    def __init__(self, cfg: CANConfig):
        super().__init__()
        self.cfg = cfg
        n_down = int(math.log2(cfg.image_size // 4))
        layers: list[nn.Module] = []
        cin, cout = 3, cfg.ch(64)
        for i in range(n_down):
            layers.append(nn.Conv2d(cin, cout, 4, 2, 1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.LeakyReLU(cfg.leak))
            cin, cout = cout, cout * 2
        self.body = nn.Sequential(*layers)
        flat = cin * 16
        self.real_head = nn.Linear(flat, 1)
        self.style_hidden = nn.Sequential(
            nn.Linear(flat, cfg.fc_dim),
            nn.LeakyReLU(cfg.leak),
            nn.Linear(cfg.fc_dim, max(2, cfg.fc_dim // 2)),
            nn.LeakyReLU(cfg.leak),
        )
        self.style_out = nn.Linear(max(2, cfg.fc_dim // 2), cfg.num_styles)

    def trunk(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images * 2.0 - 1.0).flatten(1)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(images)
        return self.real_head(h).squeeze(1), self.style_out(self.style_hidden(h))

    def style_logits(self, images: torch.Tensor) -> torch.Tensor:
        return self.style_out(self.style_hidden(self.trunk(images)))

    def style_features(self, images: torch.Tensor) -> torch.Tensor:
        return self.style_hidden(self.trunk(images))


CANGenerator = ReportGenerator | DCGANGenerator | FastGANGenerator
CANDiscriminator = ReportDiscriminator | DCGANDiscriminator


def build_networks(cfg: CANConfig) -> tuple[CANGenerator, CANDiscriminator]:
    """(generator, discriminator) for a config, freshly initialised.

    The dcgan variant uses the DCGAN init N(0, 0.02) (its batch norms restore the scale). The report
    network has no normalisation layers: there PyTorch's default init shrinks activations ~3× per layer
    while its random biases do not shrink, so after five layers every z draws the same image (pixel
    diversity ~0.02 of a Kaiming init's) and the generator starts collapsed. It therefore gets
    Kaiming-normal weights for LeakyReLU and zero biases, which keep the code's influence alive. The
    fastgan variant's generator keeps PyTorch's default init, as csgan's FastGAN does (its discriminator is
    the dcgan one, with the dcgan init).
    """
    g: CANGenerator
    d: CANDiscriminator
    if cfg.arch == "dcgan":
        g, d = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    elif cfg.arch == "fastgan":
        g, d = FastGANGenerator(cfg), DCGANDiscriminator(cfg)
    else:
        g, d = ReportGenerator(cfg), ReportDiscriminator(cfg)
    for net in (g, d) if cfg.arch != "fastgan" else (d,):
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                if cfg.arch != "report":
                    nn.init.normal_(m.weight, 0.0, 0.02)
                else:
                    nn.init.kaiming_normal_(m.weight, a=cfg.leak, nonlinearity="leaky_relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)
    return g, d
