import pytest

from ganlab.config import ConfigError, TrainConfig, from_dict, from_json, from_query
from ganlab.presets import PRESETS


@pytest.mark.parametrize("changes, message", [
    ({"loss": "magic"}, "loss must be one of"),
    ({"data": "faces"}, "data must be one of"),
    ({"g_lr": 0.0}, "g_lr must be between"),
    ({"batch_size": 1}, "batch_size must be between"),
    ({"z_dim": 0}, "z_dim must be between"),
    ({"batch_size": 250, "pack": 4}, "multiple of pack"),
    ({"data": "ring", "conditional": True}, "conditional models need labelled"),
    ({"data": "ring", "model": "dcgan"}, "works with model 'mlp' only"),
    ({"unrolled_steps": 3, "d_steps": 2}, "do not combine"),
    ({"steps": -5}, "steps must be between"),
])
def test_validation_messages(changes, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**changes)


def test_type_errors_are_config_errors():
    with pytest.raises(ConfigError, match="expected int"):
        TrainConfig(z_dim=2.5)
    with pytest.raises(ConfigError, match="expected a whole number"):
        from_dict({"z_dim": "two"})
    with pytest.raises(ConfigError, match="finite"):
        from_dict({"g_lr": "nan"})
    with pytest.raises(ConfigError, match="true or false"):
        from_dict({"conditional": "maybe"})


def test_unknown_keys_rejected():
    with pytest.raises(ConfigError, match="unknown setting"):
        from_dict({"lr": 0.1})


def test_json_round_trip():
    c = TrainConfig(data="grid", loss="hinge", z_dim=8, g_lr=3e-4, spectral_norm=True)
    assert from_json(c.to_json()) == c
    with pytest.raises(ConfigError, match="not valid JSON"):
        from_json("{nope")


def test_query_round_trip_only_non_defaults():
    c = TrainConfig(data="grid", unrolled_steps=5, g_lr=0.002)
    q = c.to_query()
    assert q == {"data": "grid", "unrolled_steps": "5", "g_lr": "0.002"}
    assert from_query({**q, "preset": "whatever"}) == c


def test_query_bad_value_raises():
    with pytest.raises(ConfigError, match="z_dim"):
        from_query({"z_dim": "-3"})


def test_replace_validates():
    with pytest.raises(ConfigError):
        TrainConfig().replace(d_steps=0)


def test_presets_required_and_paired():
    for name in ("ring-collapse", "ring-fixed", "grid-collapse", "grid-fixed"):
        assert name in PRESETS and PRESETS[name].lesson
    for data in ("ring", "grid"):
        a, b = PRESETS[f"{data}-collapse"].config, PRESETS[f"{data}-fixed"].config
        for key in ("data", "model", "z_dim", "batch_size", "seed", "g_width", "g_depth", "d_width", "d_depth",
                    "activation"):
            assert getattr(a, key) == getattr(b, key), key
        assert a != b
