"""DCGAN (Radford et al. 2016) generator and discriminator for 28x28 and 32x32 images, with conditional variants.

w = config.dcgan_width. Shapes for 28x28 (w = 64 has the layers and weight counts of the benchmark's textbook
`dcgan`, README "Benchmarks"; its first ConvT on a 1x1 input is written as the equal Linear):
  G: z (B, z_dim) -Linear (= ConvT 7x7 on 1x1)-> (B, 4w, 7, 7) BN ReLU -ConvT 4 s2-> (B, 2w, 14, 14) BN ReLU
     -ConvT 4 s2-> (B, C, 28, 28) tanh
  D: x (B, C, 28, 28) -Conv 4 s2-> (B, w, 14, 14) LReLU(0.2) -Conv 4 s2-> (B, 2w, 7, 7) BN LReLU -> Linear -> (B, 1)
32x32 (C = 1 or 3) starts from 4x4 and has one more stage on each side:
  G: 4w@4x4 -> 2w@8x8 -> w@16x16 -> C@32x32;  D: w@16x16 -> 2w@8x8 -> 4w@4x4 -> Linear.

Conditional (n_classes > 0):
  G: z' = [z, e_G(y)], a learned label embedding (n_classes wide) concatenated to the noise (Mirza & Osindero 2014).
  D: projection discriminator (Miyato & Koyama 2018): with phi(x) the flattened features before the last
     Linear, D(x, y) = w . phi(x) + b + e_D(y) . phi(x). The label asks "does x look real *as a y*".
pack > 1 (PacGAN, Lin et al. 2018): D scores `pack` samples stacked along channels, (B, C, H, W) ->
(B / pack, pack * C, H, W); a conditional packed group adds up its members' label embeddings.
BatchNorm in D is left out when the loss is wgan_gp: the gradient penalty is a per-sample quantity
||grad_x D(x)||, and BatchNorm makes each sample's score depend on the rest of the batch (WGAN-GP paper, sec. 4).
It is decided when the model is built; switching the loss to wgan_gp during a run keeps the BatchNorm.
With config.spectral_norm every D conv / linear / projection embedding is spectrally normalised; with
config.d_dropout = p each of D's LeakyReLUs is followed by Dropout(p) (no weights of its own).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

# start resolution of G (and end resolution of D) per image side, and how many 2x stages lie between
LAYOUTS = {28: (7, 2), 32: (4, 3)}


def dcgan_init(m: nn.Module) -> None:
    """DCGAN paper init: conv weights ~ N(0, 0.02); BatchNorm scale ~ N(1, 0.02), shift 0. Use with .apply()."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def _layout(shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] not in LAYOUTS:
        raise ValueError(f"dcgan handles (C, 28, 28) and (C, 32, 32) images, got {tuple(shape)}; "
                         f"use model 'mlp' for other sizes")
    start, n_up = LAYOUTS[shape[1]]
    return shape[0], start, n_up


class DCGANGenerator(nn.Module):
    def __init__(self, z_dim: int, shape: tuple[int, ...], width: int, n_classes: int = 0):
        super().__init__()
        c, start, n_up = _layout(shape)
        self.embed = nn.Embedding(n_classes, n_classes) if n_classes else None
        chans = [width * 2 ** (2 - i) for i in range(n_up)]  # 28: [4w, 2w]; 32: [4w, 2w, w]
        z_in = z_dim + n_classes
        # The first "ConvT start x start on a 1x1 input" is a Linear z' -> (chans[0], start, start): the same
        # function and weight count (z' * chans[0] * start^2), and faster on a CPU than the transposed conv.
        project = nn.Linear(z_in, chans[0] * start * start, bias=False)
        nn.init.normal_(project.weight, 0.0, 0.02)  # it is a conv in disguise: DCGAN init
        layers: list[nn.Module] = [project, nn.Unflatten(1, (chans[0], start, start)),
                                   nn.BatchNorm2d(chans[0]), nn.ReLU(True)]
        for a, b in zip(chans, chans[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(chans[-1], c, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(labels)], 1)  # (B, z_dim + n_classes)
        return self.net(z)  # (B, z') -> (B, 4w, s, s) -> ... -> (B, C, H, W)

    def pre_tanh(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """a (B, C, H, W) with forward(z) = tanh(a): the VAE decoder's Bernoulli logits are 2a, since
        (tanh(a) + 1) / 2 = sigmoid(2a) is the pixel's mean in [0, 1]."""
        if self.embed is not None:
            z = torch.cat([z, self.embed(labels)], 1)
        return self.net[:-1](z)


class DCGANDiscriminator(nn.Module):
    """Raw score (B / pack, 1); sigmoid(score) is D's probability for the probabilistic losses.
    With out > 1 (the VAE's encoder) the head gives `out` numbers per image instead of one score."""

    def __init__(self, shape: tuple[int, ...], width: int, n_classes: int = 0, batchnorm: bool = True,
                 sn: bool = False, slope: float = 0.2, pack: int = 1, out: int = 1, dropout: float = 0.0):
        super().__init__()
        c, start, n_up = _layout(shape)
        self.pack = pack
        c *= pack  # PacGAN: `pack` samples stacked along channels, (B, C, H, W) -> (B / pack, pack * C, H, W)
        chans = [width * 2 ** i for i in range(n_up)]  # 28: [w, 2w]; 32: [w, 2w, 4w]
        # the first conv has no norm (DCGAN); later convs are followed by BN unless it is left out
        # dropout > 0: each LeakyReLU is followed by Dropout(p), so D cannot simply memorise the training set
        drop = [nn.Dropout(dropout)] if dropout else []
        layers: list[nn.Module] = [nn.Conv2d(c, chans[0], 4, 2, 1, bias=False), nn.LeakyReLU(slope, True), *drop]
        for a, b in zip(chans, chans[1:]):
            layers.append(nn.Conv2d(a, b, 4, 2, 1, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm2d(b))
            layers += [nn.LeakyReLU(slope, True), *([nn.Dropout(dropout)] if dropout else [])]
        layers.append(nn.Flatten())  # phi(x): (B, chans[-1] * start * start)
        self.features = nn.Sequential(*layers)
        n_feat = chans[-1] * start * start
        self.head = nn.Linear(n_feat, out)  # out = 1 score; a VAE encoder's head gives (mu, log sigma^2)
        self.embed = nn.Embedding(n_classes, n_feat) if n_classes else None
        self.apply(dcgan_init)
        if self.embed is not None:
            nn.init.normal_(self.embed.weight, 0.0, 0.02)
        if sn:
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
                    spectral_norm(m)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.pack > 1:
            x = x.reshape(x.shape[0] // self.pack, -1, *x.shape[2:])
        h = self.features(x)  # (B, F)
        s = self.head(h)  # (B, out)
        if self.embed is not None:  # projection: e(y) . phi(x); a packed group sums its members' e(y_j)
            e = self.embed(labels).view(h.shape[0], self.pack, -1).sum(1)  # (B / pack, F)
            s = s + (e * h).sum(1, keepdim=True)
        return s


def build_dcgan(config, shape: tuple[int, ...], n_classes: int = 0) -> tuple[nn.Module, nn.Module]:
    """(G, D) for config: width config.dcgan_width, no BN in D for wgan_gp, spectral norm on request."""
    w = config.dcgan_width
    G = DCGANGenerator(config.z_dim, shape, w, n_classes)
    D = DCGANDiscriminator(shape, w, n_classes, batchnorm=config.loss != "wgan_gp", sn=config.spectral_norm,
                           slope=0.2, pack=config.pack, dropout=config.d_dropout)
    return G, D
