"""Where a job trains is one function of its RunSpec (ganlab/jobs/placement.py), the same for every transport."""
from __future__ import annotations

from dataclasses import dataclass

from ganlab.config import TrainConfig
from ganlab.engine.batched import stack_key
from ganlab.jobs.placement import HERE, STACK, TOY, place
from ganlab.jobs.spec import RunSpec
from ganlab.presets import PRESETS
from ganlab.theory.config import TheoryConfig

RING = PRESETS["ring-collapse"].config


def test_a_single_fresh_toy_run_is_stacked_under_the_key_of_its_networks_shapes():
    p = place(RunSpec((RING,)))
    assert p.where == STACK and p.key == stack_key(RING) and p.config is RING and p.points is None
    # another seed and another loss: the same networks, the same group
    assert place(RunSpec((RING.replace(seed=7, loss="hinge"),))).key == p.key


def test_hidden_widths_from_a_link_place_the_run_in_a_group_of_its_own_shapes():
    """The share link `?preset=ring-collapse&compare=0&g_widths=128` builds G 64-128-2, not 64-128-128-2: its key
    differs from the preset's, so it can never join (and break) the preset's group."""
    hidden = place(RunSpec((RING.replace(g_widths="128"),)))
    assert hidden.where == STACK and hidden.key != place(RunSpec((RING,))).key
    assert place(RunSpec((RING.replace(d_widths="128,128"),))).key == place(RunSpec((RING,))).key  # same shapes


def test_uploaded_points_travel_with_the_stacked_run():
    import numpy as np

    pts = np.zeros((16, 2), np.float32)
    p = place(RunSpec((RING.replace(data="csv"),), points=pts))
    assert p.where == STACK and p.points is pts


def test_other_toy_runs_train_as_toy_jobs_and_the_rest_here():
    assert place(RunSpec((RING, RING.replace(seed=1)))).where == TOY  # the lab's A and B advance together
    assert place(RunSpec((RING.replace(optimizer="rmsprop"),))).where == TOY  # the class engine refuses it
    assert place(RunSpec((RING,)), stacking=False).where == TOY  # GANLAB_CLASS_ENGINE=0
    assert place(RunSpec((RING,), resume=object())).where == HERE  # continues a checkpoint
    image = TrainConfig(data="digits", model="mlp", steps=2, batch_size=16, g_width=16, d_width=16)
    p = place(RunSpec((image,)))  # one MLP image run on embedded data: stacked, never with toy runs
    assert p.where == STACK and p.key != place(RunSpec((RING,))).key and p.score
    assert place(RunSpec((image, image.replace(seed=1)))).where == HERE  # the image page's A and B
    assert place(RunSpec((image.replace(data="fashion-mnist"),))).where == HERE  # a data folder: here
    assert place(RunSpec((image.replace(data="mnist", model="dcgan"),))).where == HERE
    assert place(RunSpec((image.replace(conditional=True),))).where == HERE  # the engine refuses it
    assert place(RunSpec((image,)), stacking=False).where == HERE
    assert place(RunSpec((TheoryConfig(),))).where == HERE
    assert place(lambda: []).where == HERE  # a plain callable: nothing to place it by


def test_a_wrapping_factory_is_placed_as_the_spec_it_names():
    @dataclass
    class Wrapped:
        spec: RunSpec

        def __call__(self):
            return self.spec()

    assert place(Wrapped(RunSpec((RING,)))).key == place(RunSpec((RING,))).key
