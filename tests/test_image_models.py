"""Image models: output shapes, labels that reach G and D, DCGAN init, BatchNorm left out of D for WGAN-GP."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from ganlab import losses
from ganlab.config import TrainConfig
from ganlab.models import build
from ganlab.models.dcgan import DCGANDiscriminator, DCGANGenerator

DC = dict(data="mnist", model="dcgan", z_dim=100, dcgan_width=8)
MLP = dict(data="mnist", model="mlp", z_dim=100, g_width=32, d_width=32, activation="leaky_relu",
           leaky_slope=0.01)



def _io(config: TrainConfig, shape, n=4):
    torch.manual_seed(0)
    G, D = build(config, shape, 10)
    z = torch.randn(n, config.z_dim)
    y = torch.arange(n) % 10 if config.conditional else None
    x = G(z, y)
    return G, D, x, D(x, y)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 32, 32)])
@pytest.mark.parametrize("conditional", [False, True])
def test_dcgan_shapes(shape, conditional):
    G, D, x, s = _io(TrainConfig(**DC, conditional=conditional), shape)
    assert x.shape == (4, *shape) and s.shape == (4, 1)
    assert x.min() >= -1 and x.max() <= 1  # tanh output


def test_dcgan_width_64_matches_textbook_layers():
    """w = 64 gives the bench's reference DCGAN (benchmarks/reference/dcgan.py): G 100->256@7->128@14->1@28,
    D 1->64->128->Linear."""
    G, D = build(TrainConfig(**{**DC, "dcgan_width": 64}), (1, 28, 28))
    g_convs = [(m.in_channels, m.out_channels, m.kernel_size[0]) for m in G.modules()
               if isinstance(m, nn.ConvTranspose2d)]
    d_convs = [(m.in_channels, m.out_channels) for m in D.modules() if isinstance(m, nn.Conv2d)]
    first = G.net[0]  # the textbook's ConvT(100, 256, 7) on a 1x1 input, written as a Linear
    assert isinstance(first, nn.Linear) and first.weight.shape == (256 * 7 * 7, 100)
    assert g_convs == [(256, 128, 4), (128, 1, 4)]
    assert d_convs == [(1, 64), (64, 128)]
    assert sum(p.numel() for p in G.parameters()) == 1_781_504  # as benchmarks/reference/dcgan.py
    assert sum(p.numel() for p in D.parameters()) == 138_625


def test_dcgan_rejects_other_sizes():
    with pytest.raises(ValueError, match="28, 28"):
        DCGANGenerator(100, (1, 8, 8), 8)


@pytest.mark.parametrize("kw", [DC, MLP], ids=["dcgan", "mlp"])
def test_labels_reach_g_and_d(kw):
    c = TrainConfig(**kw, conditional=True)
    torch.manual_seed(0)
    G, D = build(c, (1, 28, 28), 10)
    G.eval(), D.eval()  # BatchNorm on running stats: each sample's output depends on its own input only
    z = torch.randn(1, 100).repeat(2, 1)
    x = G(z, torch.tensor([3, 7]))
    assert (x[0] - x[1]).abs().max() > 1e-4  # same z, other label -> other image
    s = D(x[:1].repeat(2, 1, 1, 1), torch.tensor([3, 7]))
    assert (s[0] - s[1]).abs().max() > 1e-6  # same image, other label -> other score


def test_unconditional_models_ignore_missing_labels():
    G, D, x, s = _io(TrainConfig(**DC), (1, 28, 28))
    assert G.embed is None and D.embed is None


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    G, D = build(TrainConfig(**{**DC, "dcgan_width": 32}), (1, 28, 28))
    convs = torch.cat([m.weight.flatten() for M in (G, D) for m in M.modules()
                       if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))] + [G.net[0].weight.flatten()])
    bns = torch.cat([m.weight for M in (G, D) for m in M.modules() if isinstance(m, nn.BatchNorm2d)])
    bn_bias = torch.cat([m.bias for M in (G, D) for m in M.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(convs.mean().item()) < 1e-3 and abs(convs.std().item() - 0.02) < 1e-3
    assert abs(bns.mean().item() - 1) < 5e-3 and abs(bns.std().item() - 0.02) < 5e-3
    assert bn_bias.abs().max() == 0


def test_no_batchnorm_in_d_for_wgan_gp():
    def n_bn(loss):
        _, D = build(TrainConfig(**DC, loss=loss), (1, 28, 28))
        return sum(isinstance(m, nn.BatchNorm2d) for m in D.modules())

    assert n_bn("non_saturating") == 1
    assert n_bn("wgan_gp") == 0


def test_wgan_gp_penalty_is_per_sample():
    """Without BatchNorm, D's score for sample i does not depend on sample j: the GP's gradient is per-sample."""
    _, D = build(TrainConfig(**DC, loss="wgan_gp"), (1, 28, 28))
    x = torch.randn(3, 1, 28, 28, requires_grad=True)
    (g,) = torch.autograd.grad(D(x)[0].sum(), x)
    assert g[1:].abs().max() == 0 and g[0].abs().max() > 0
    gp = losses.gradient_penalty(D, torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28))
    assert torch.isfinite(gp) and gp > 0
    gp.backward()  # double backward through D (the penalty's own gradient) works
    grads = [p.grad for p in D.parameters() if p.grad is not None]  # the head's bias has no say in grad_x
    assert len(grads) >= 3 and all(torch.isfinite(g).all() for g in grads)


def test_spectral_norm_wraps_d():
    _, D = build(TrainConfig(**DC, spectral_norm=True, conditional=True), (1, 28, 28), 10)
    wrapped = [m for m in D.modules() if hasattr(m, "parametrizations")]
    assert len(wrapped) == 4  # 2 convs, the linear head, the projection embedding


def test_pack_stacks_samples_along_channels():
    _, D = build(TrainConfig(**DC, pack=2, batch_size=64), (1, 28, 28))
    assert D(torch.randn(6, 1, 28, 28)).shape == (3, 1)
    Dc = DCGANDiscriminator((1, 28, 28), 8, n_classes=10, pack=2).eval()
    x = torch.randn(2, 1, 28, 28).repeat(2, 1, 1, 1)  # two packed pairs with the same images
    s = Dc(x, torch.tensor([1, 2, 1, 5]))
    assert s.shape == (2, 1) and (s[0] - s[1]).abs() > 1e-6  # the pair's labels reach the score


@pytest.mark.parametrize("name", ["mnist-mlp", "mnist-dcgan", "mnist-cgan", "mnist-wgan-gp"])
def test_image_presets_train_and_sample(name, one_thread):
    from ganlab.engine.trainer import Trainer
    from ganlab.presets import get

    p = get(name)
    assert p.config.data == "mnist" and len(p.lesson) > 40
    t = Trainer(p.config.replace(steps=2, log_every=1, batch_size=16, device="cpu"))
    t.step(2)
    assert t.status == "ready" and len(t.history) == 2
    x, y = t.sample(20, seed=0)
    assert x.shape == (20, 1, 28, 28) and torch.isfinite(x).all()
    assert (y is not None) == p.config.conditional
    if y is not None:
        assert y.tolist() == [i % 10 for i in range(20)]


def test_g_update_respects_grad_layout(one_thread):
    """A channels_last activation gives channels_last weight grads; the G step must still update each weight
    by its own gradient (fused Adam once applied them by memory order: half the signs came out wrong)."""
    from ganlab.engine.trainer import Trainer

    c = TrainConfig(**DC, batch_size=16, log_every=1, device="cpu", g_lr=1e-3, d_lr=1e-3)
    a, b = Trainer(c), Trainer(c)

    class ToChannelsLast(nn.Module):
        def forward(self, x):
            return x.contiguous(memory_format=torch.channels_last)

    a.G.net.insert(2, ToChannelsLast())
    w0 = b.G.net[4].weight.detach().clone()  # the 4w -> 2w transposed conv
    a.step(1), b.step(1)
    wa, wb = a.G.net[5].weight.detach(), b.G.net[4].weight.detach()
    assert (wb - w0).abs().max() > 5e-4  # Adam's first step moves every weight by ~lr
    assert ((wa - wb).abs() > 1e-4).float().mean() < 0.01


# The Keras tutorial's networks, written out as Keras builds them: (layer, detail) in order.
KERAS_G = ([("Linear", "100 -> 128"), ("LeakyReLU", "slope 0.01"), ("BatchNorm1d", "128 features, momentum 0.2")]
           + [x for a, b in ((128, 256), (256, 512), (512, 1024)) for x in
              (("Linear", f"{a} -> {b}"), ("LeakyReLU", "slope 0.01"), ("BatchNorm1d", f"{b} features, momentum 0.2"))]
           + [("Linear", "1024 -> 784"), ("Tanh", "")])
KERAS_D = [x for a, b in ((784, 1024), (1024, 512), (512, 256)) for x in
           (("Linear", f"{a} -> {b}"), ("LeakyReLU", "slope 0.01"), ("Dropout", "p 0.3"))] + [("Linear", "256 -> 1")]


def test_mnist_mlp_bn_is_the_keras_tutorial_layer_for_layer():
    """Keras's model.summary() totals: G 1,514,128 (1,510,288 trainable + 3,840 BatchNorm moving statistics),
    D 1,460,225 (Dense 784-1024-512-256-1)."""
    from ganlab.models import summary
    from ganlab.presets import PRESETS

    c = PRESETS["mnist-mlp-bn"].config
    nets = summary.networks(c, (1, 28, 28))
    assert [(layer.kind, layer.detail) for layer in nets["G"]] == KERAS_G
    assert [(layer.kind, layer.detail) for layer in nets["D"]] == KERAS_D
    G, D = build(c, (1, 28, 28))
    assert summary.keras_count(G) == 1_514_128 and summary.keras_count(D) == 1_460_225
    assert sum(p.numel() for p in G.parameters()) == 1_510_288  # BN's moving mean/var are buffers in torch
    bn = [m for m in G.modules() if isinstance(m, nn.BatchNorm1d)]
    assert all(m.momentum == 0.2 and m.eps == 1e-3 for m in bn)  # Keras momentum 0.8, epsilon 1e-3
    assert (c.optimizer, c.d_lr, c.g_lr, c.batch_size, c.loss) == ("rmsprop", 4e-4, 2e-4, 128, "non_saturating")


def test_mlp_widths_override_width_and_depth():
    c = TrainConfig(**MLP, g_widths="16, 32", d_widths="24")
    G, D = build(c, (1, 28, 28))
    assert [m.out_features for m in G.modules() if isinstance(m, nn.Linear)] == [16, 32, 784]
    assert [m.out_features for m in D.modules() if isinstance(m, nn.Linear)] == [24, 1]
    assert c.hidden_widths("g") == (16, 32) and TrainConfig(**MLP).hidden_widths("d") == (32, 32)


@pytest.mark.parametrize("bad", ["", "a,b", "0", "16,,16", ",".join(["8"] * 9), "4096"])
def test_bad_widths_are_refused(bad):
    from ganlab.config import ConfigError

    if not bad:  # empty means "width x depth"
        TrainConfig(**MLP, g_widths=bad)
        return
    with pytest.raises(ConfigError, match="g_widths"):
        TrainConfig(**MLP, g_widths=bad)


def test_dcgan_d_dropout_follows_each_leaky_relu_and_adds_no_weights():
    plain = build(TrainConfig(**DC), (1, 28, 28))[1]
    D = build(TrainConfig(**DC, d_dropout=0.3), (1, 28, 28))[1]
    kinds = [type(m).__name__ for m in D.features]
    assert kinds == ["Conv2d", "LeakyReLU", "Dropout", "Conv2d", "BatchNorm2d", "LeakyReLU", "Dropout", "Flatten"]
    assert [p.shape for p in D.parameters()] == [p.shape for p in plain.parameters()]  # no weights of its own
    D.eval()
    x = torch.randn(4, 1, 28, 28)
    torch.testing.assert_close(D(x), D(x))  # off in eval mode
