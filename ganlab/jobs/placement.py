"""Where a job trains: one function of what the job is (its RunSpec), which every transport uses.

    STACK  one student's single 2-D toy run, or MLP image run on the embedded digits (mnist-mlp), that the class
           engine takes (ganlab.engine.batched.refusal) and that does not continue a checkpoint: it joins a
           stack group (ganlab/jobs/stacking.py; on Ray a group actor) of runs with the same key,
           ganlab.engine.batched.stack_key, computed from the shapes of the networks the config builds -- so a
           run whose hidden widths differ from its preset's can never join the preset's group.
    TOY    any other RunSpec of 2-D toy runs that starts fresh (the Mode collapse lab's A and B, a remedy the
           engine does not stack): a worker thread of the training process, on Ray an actor of its own.
    HERE   everything else (other image runs, the 1-D game, a continued checkpoint, a plain callable): the worker
           threads of the process that admitted it, on Ray an actor of its own.

A factory that wraps a RunSpec's runners (a Ray group actor's checkpointing) names the spec as `.spec`.
Pages never choose: the manager asks `place(factory)` when it admits a job.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganlab.jobs.spec import RunSpec

STACK, TOY, HERE = "stack", "toy", "here"


@dataclass(frozen=True, eq=False)
class Placement:
    """where: STACK, TOY or HERE. For STACK: the group's key, and the one run's config and uploaded points."""

    where: str
    key: Any = None
    config: Any = None
    points: Any = None
    score: bool = False  # an image run logs the quality columns (RunSpec.score)


ALONE = Placement(HERE)


def spec_of(factory) -> RunSpec | None:
    """The RunSpec a factory builds (itself, or the `.spec` of a wrapper), or None (a plain callable)."""
    spec = factory if isinstance(factory, RunSpec) else getattr(factory, "spec", None)
    return spec if isinstance(spec, RunSpec) else None


def place(factory, stacking: bool = True) -> Placement:
    """Where the job `factory` builds trains. stacking=False (GANLAB_CLASS_ENGINE=0): no run is stacked."""
    spec = spec_of(factory)
    if spec is None or spec.resume is not None:
        return ALONE
    toy = all(getattr(c, "is_toy", False) for c in spec.configs)
    if stacking and len(spec.configs) == 1 and stackable(spec.configs[0]):
        from ganlab.engine.batched import stack_key

        config = spec.configs[0]
        try:
            return Placement(STACK, stack_key(config), config, spec.points, spec.score)
        except Exception:  # noqa: BLE001 - e.g. cuda asked for and missing here: the run reports it alone
            pass
    return Placement(TOY) if toy else ALONE


def stackable(config) -> bool:
    """Whether one fresh run of `config` joins a stack group: a 2-D toy run, or an MLP image run on data every
    process has (the embedded digits: no data folder, no download), that the class engine takes."""
    from ganlab.config import TrainConfig

    if not isinstance(config, TrainConfig):
        return False
    if not config.is_toy:
        from ganlab.data.images import EMBEDDED

        if config.model != "mlp" or config.data not in EMBEDDED:
            return False
    from ganlab.engine.batched import refusal

    return refusal(config) is None
