"""Named classroom scenarios: each is a complete TrainConfig plus the one- or two-sentence lesson it teaches
(an English msgid, marked with N_; pages show it with `preset.text()`, in the session's language).

Toy pairs (`*-collapse` / `*-fixed`) share data, architecture, z-dim, batch and seed; the fixed twin changes
only the loss and/or one classic remedy, so the lesson is "toggle it, watch the collapse go away".
Image presets are the tutorials' MNIST GANs on the embedded 5,000-digit subset (offline); each step budget
fits about five minutes on a 2-core laptop CPU (measured results: README, "Presets").
The tutorials draw z ~ U(-1, 1); ganlab always draws z ~ N(0, I), which trains the same here.
Samples, grids and scores come from a running average of G's weights over ~10 steps (g_ema 0.9, Yazici et
al. 2019): training is unchanged, and it removes Adam's step-to-step jitter from what is drawn and scored.
"""
from __future__ import annotations

from ganlab.config import Preset, TrainConfig
from ganlab.i18n import N_

# Shared by every toy pair: a 2x128 ReLU MLP for G and D, batch 256, z = 64, and a D that learns 10x slower
# than G -- the setting in which the standard GAN reliably collapses. Points are drawn from a running average
# of G's weights over ~10 steps (g_ema 0.9, Yazici et al. 2019): it does not change training, it removes
# Adam's step-to-step jitter, so a covered mode shows as a sharp blob (unrolled D on the ring, seeds 0-4: 0.32 ->
# 0.7+ of points within 3 std of a centre), and a collapsed G stays collapsed (1 of 8 modes either way).
_TOY = dict(model="mlp", z_dim=64, g_width=128, g_depth=2, d_width=128, d_depth=2, activation="relu",
            batch_size=256, g_lr=1e-3, d_lr=1e-4, g_ema=0.9, seed=0, log_every=50)

_PRESETS = [
    Preset("ring-collapse", TrainConfig(data="ring", loss="non_saturating", steps=2000, **_TOY),
           N_("The standard (non-saturating) GAN on 8 Gaussians: G finds one or two modes that fool D and hops "
              "between them instead of covering the ring -- mode collapse.")),
    # D as fast as G plus R1 (gamma 1): 8 of 8 modes and the sharpest points of the setups we measured in two
    # minutes (README, "Measured preset results"; unrolled D, 5 steps, the preset until 2026-12-07: 73 % sharp).
    Preset("ring-fixed", TrainConfig(data="ring", loss="non_saturating", r1_gamma=1.0, steps=10_000,
                                     **{**_TOY, "d_lr": 1e-3}),
           N_("Same data, networks and seed with two fixes that let the game settle: D learns as fast as G "
              "(balanced learning rates), and an R1 penalty (Mescheder et al. 2018) keeps D flat on the real "
              "points, so once G's points sit on the data nothing pushes them off again. G spreads over all "
              "eight modes and its points come to rest on them instead of hopping.")),
    Preset("grid-collapse", TrainConfig(data="grid", loss="non_saturating", steps=6000, **_TOY),
           N_("The standard GAN on a 5x5 grid of Gaussians, with G learning 10x faster than D: G piles onto one to "
              "four of the 25 modes and D never catches up.")),
    # The ring's two fixes on the grid: 25 of 25 modes on every seed 0-4 (README); packing 4 on top made the
    # points looser (49 % sharp against 86 %), and pack 4 with balanced rates alone, the preset until
    # 2026-12-07, drew 42 % of them sharply.
    Preset("grid-fixed", TrainConfig(data="grid", loss="non_saturating", r1_gamma=1.0, steps=20_000,
                                     **{**_TOY, "d_lr": 1e-3}),
           N_("Same data, networks and seed with the ring's two fixes: D learns as fast as G (balanced learning "
              "rates), and an R1 penalty (Mescheder et al. 2018) keeps D flat on the real points. G first spreads "
              "over the whole grid, then its points gather on all 25 modes and sharpen there.")),
]



# ---- images -------------------------------------------------------------------------------------------
# The tutorials' vanilla MLP GAN (TF1 code): G 100-128-128-784 tanh, D 784-128-128-1, LeakyReLU(0.01),
# sigmoid cross-entropy (= non_saturating: G maximises log D(G(z))), Adam 1e-3, batch 100, D's real
# label 0.9 (one-sided label smoothing). Betas (0.5, 0.999) as in the benchmark's textbook loop (README, Benchmarks).
MNIST_MLP = TrainConfig(
    data="mnist", model="mlp", z_dim=100, g_width=128, g_depth=2, d_width=128, d_depth=2,
    activation="leaky_relu", leaky_slope=0.01, loss="non_saturating", real_label=0.9,
    optimizer="adam", g_lr=1e-3, d_lr=1e-3, beta1=0.5, beta2=0.999, batch_size=100, steps=6000,
    g_ema=0.9, seed=0, log_every=100)

# The tutorials' Keras MLP GAN, layer for layer: G 100-128-256-512-1024-784 (tanh), each
# hidden layer Dense -> LeakyReLU(0.01) -> BatchNormalization(momentum 0.8, i.e. torch momentum 0.2); D
# 784-1024-512-256-1 (sigmoid in the loss), each hidden layer Dense -> LeakyReLU(0.01) -> Dropout(0.3); binary
# cross-entropy with real label 1 for D and for G's "combined model" (= non_saturating); RMSprop, lr 4e-4 for D
# and 2e-4 for G; batch 128. 1,514,128 + 1,460,225 weights as Keras counts them (ganlab/models/summary.py).
# Left as torch has them: RMSprop's squared-gradient decay (torch 0.99, Keras 0.9) and the weight init; and
# Keras steps D twice per G step (train_on_batch on the real batch, then on the fake one), ganlab once on the
# sum of the two losses.
MNIST_MLP_BN = TrainConfig(
    data="mnist", model="mlp", z_dim=100, g_widths="128,256,512,1024", d_widths="1024,512,256",
    activation="leaky_relu", leaky_slope=0.01, g_batchnorm=True, d_dropout=0.3, loss="non_saturating",
    real_label=1.0, optimizer="rmsprop", g_lr=2e-4, d_lr=4e-4, batch_size=128, steps=3000, g_ema=0.9, seed=0,
    log_every=100)

# DCGAN (Radford et al. 2016) at half the paper's width (dcgan_width 32), batch 64, Adam beta1 0.5, N(0, 0.02)
# init. Tuned on the embedded digits (judge = ganlab.quality, 2,500 samples; measurements: README, "Presets"):
# - Adam lr 5e-4, not the paper's 2e-4, which was far slower in this budget.
# - pack 4 (PacGAN, Lin et al. 2018: D judges four images at once, (64, 1, 28, 28) -> (16, 4, 28, 28)): with
#   pack 1 the thin "1" was under-drawn; pack 2 left seed 1's "4" at 4.8 % of samples (FID 108), pack 4 drew
#   it at 6.4 % (FID 87), and D's smaller batch makes a step ~12 % cheaper.
# - the hinge loss (Lim & Ye 2017): it kept improving over 5,000 steps where the non-saturating loss (with the
#   tutorials' label smoothing 0.9) levelled off; wider nets, a larger batch, spectral norm, Dropout in D,
#   lr 3e-4 or 2 D steps per G step did not beat it in the same time.
# - G's weight average over ~100 steps (g_ema 0.99): the last few points of FID over 0.9's (0.995 and 0.999
#   were no better).
# - 9,000 steps, what fits the 5-minute preset budget on a 2-core CPU with two threads: seeds 0-2 feature FID
#   95.8, 86.8, 104.1 (98.5, 91.3, 98.1 at 7,500 steps); the smallest class 7.2, 6.4, 6.2 %.
MNIST_DCGAN = TrainConfig(
    data="mnist", model="dcgan", z_dim=100, dcgan_width=32, loss="hinge", real_label=1.0,
    optimizer="adam", g_lr=5e-4, d_lr=5e-4, beta1=0.5, beta2=0.999, batch_size=64, pack=4, steps=9000,
    g_ema=0.99, seed=0, log_every=50)

# The conditional DCGAN keeps its own settings (and its bundled demo): the non-saturating loss with the
# tutorials' label smoothing, 1,500 steps; its D already sees the label, which spreads G over the classes, so
# no packing.
MNIST_CGAN = MNIST_DCGAN.replace(conditional=True, pack=1, loss="non_saturating", real_label=0.9, steps=1500,
                                 g_ema=0.9)

# WGAN (Arjovsky et al. 2017) as the paper trains it: the critic's weights clipped to [-0.01, 0.01] after every
# critic step, RMSprop lr 5e-5, 5 critic steps per G step, the DCGAN networks (BatchNorm in the critic, as in
# the paper's DCGAN critic).
MNIST_WGAN = MNIST_DCGAN.replace(pack=1, loss="wgan", clip_value=0.01, optimizer="rmsprop", g_lr=5e-5, d_lr=5e-5,
                                 d_steps=5, g_ema=0.9, steps=1500)

# WGAN-GP (Gulrajani et al. 2017): lambda 10, Adam betas (0.5, 0.9) as in their MNIST code, no BatchNorm in the
# critic (see models/dcgan.py). Their 5 critic steps per G step at lr 1e-4 get nowhere in a classroom budget
# (a G step costs ~6 DCGAN steps); instead one critic step per G step with the critic learning ~3x faster
# (two time-scale update rule, Heusel et al. 2017: critic lr 1e-3, G lr 3e-4), which beat 2 critic steps at
# 3e-4 and TTUR 6e-4 / 2e-4 in the same time.
MNIST_WGAN_GP = MNIST_DCGAN.replace(pack=1, loss="wgan_gp", gp_weight=10.0, d_steps=1, g_lr=3e-4, d_lr=1e-3,
                                    beta1=0.5, beta2=0.9, g_ema=0.9, steps=4000)

# VAE (Kingma & Welling 2014): the decoder is mnist-dcgan's G network, the encoder mirrors its D
# (ganlab/models/vae.py); Adam 1e-3 with the usual betas (0.9, 0.999), batch 64. A VAE uses no GAN loss.
# Its code z has 8 numbers, not the GANs' 100: samples come from the prior N(0, I), and with 100 dimensions the
# digits' codes leave most of it empty, so prior samples decode to blends of digits (seed 0, 4,000 steps: the
# thin "1" drawn 4.8 % of the time while the other classes reached 7-15 %; z 32 or 16, KL weights 0.5 to 2,
# lr 5e-4, batch 128 or beta1 0.5 left it at 3.8-5.1 %). With z 8 the codes fill the prior: every digit
# >= 6.6 % at 4,000 and 6,000 steps, feature FID 265 -> 249. 6,000 steps take under 3 minutes on 2 cores.
MNIST_VAE = MNIST_DCGAN.replace(model="vae", loss="non_saturating", pack=1, z_dim=8, g_lr=1e-3, d_lr=1e-3,
                                beta1=0.9, beta2=0.999, g_ema=0.0, steps=6000)

IMAGE_PRESETS: list[Preset] = [
    Preset("mnist-mlp", MNIST_MLP,
           N_("The tutorials' vanilla GAN: two small fully connected networks and one-sided label smoothing "
              "(D's target for real digits is 0.9) already turn noise into recognisable, if blotchy, digits."),
           twin="mnist-dcgan"),
    Preset("mnist-mlp-bn", MNIST_MLP_BN,
           N_("The tutorials' Keras GAN: wider fully connected networks that grow (G: 128 to 1024 units) and "
              "shrink (D: 1024 to 256). BatchNorm in G rescales each layer's outputs to a steady range, so the "
              "deep G trains at all; Dropout in D switches off 30 % of its units at random, so D cannot memorise "
              "the 5,000 real digits and keeps giving G useful gradients."),
           twin="mnist-mlp"),
    Preset("mnist-dcgan", MNIST_DCGAN,
           N_("Convolutions that upsample (G) and downsample (D), with BatchNorm: the same game as the MLP "
              "GAN, but the networks know that pixels have neighbours, so strokes come out smooth and connected. "
              "D judges images in fours (pack 4), which keeps G from quietly dropping the hard digits, and uses "
              "the hinge loss, which keeps improving the digits for longer."),
           twin="mnist-vae"),
    Preset("mnist-cgan", MNIST_CGAN,
           N_("A conditional GAN: G and D are both told the digit's label, so G learns to draw the digit you "
              "ask for -- each row of the grid is one class."),
           twin="mnist-dcgan"),
    Preset("mnist-wgan-gp", MNIST_WGAN_GP,
           N_("WGAN-GP: D becomes a critic whose score gap estimates the Wasserstein distance, kept 1-Lipschitz "
              "by a gradient penalty instead of clipped weights; its loss curve finally means something -- it "
              "falls as the digits improve. Compare it with mnist-wgan: same networks, sharper digits."),
           twin="mnist-wgan"),
    Preset("mnist-wgan", MNIST_WGAN,
           N_("The original WGAN: the critic is kept (roughly) 1-Lipschitz by clipping every weight to "
              "[-0.01, 0.01]. Watch its loss curve: it is a usable distance, yet progress is slower and the digits "
              "blurrier than WGAN-GP's, because clipping squeezes the critic into a crude, nearly linear function."),
           twin="mnist-wgan-gp"),
    Preset("mnist-vae", MNIST_VAE,
           N_("Not a GAN: a variational autoencoder. Its encoder (D's mirror) squeezes each digit into a code z of 8 "
              "numbers, its decoder (the DCGAN's G network) draws the digit back, and the ELBO trades reconstruction "
              "against keeping the codes close to N(0, I). No adversary: its samples are blurrier (a worse FID) but "
              "cover every digit."),
           twin="mnist-dcgan"),
]


PRESETS: dict[str, Preset] = {p.name: p for p in _PRESETS + list(IMAGE_PRESETS)}


def get(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
