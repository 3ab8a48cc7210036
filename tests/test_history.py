import numpy as np

from ganlab.engine.history import History


def test_bounded_and_evenly_decimated():
    h = History(("step", "v"), capacity=100)
    for i in range(1, 10_001):
        h.append({"step": i, "v": i * 2.0})
    a = h.arrays()
    assert len(h) <= 100 and a["step"].dtype == np.float32
    assert a["step"][0] == 1
    gaps = np.diff(a["step"])
    assert (gaps == gaps[0]).all()  # evenly spaced after repeated halving
    assert a["step"][-1] > 9_000  # the recent end is kept


def test_state_round_trip():
    h = History(("step", "v"), capacity=10)
    for i in range(25):
        h.append({"step": i, "v": float(i)})
    h2 = History.from_state(h.state(), capacity=10)
    np.testing.assert_array_equal(h.arrays()["step"], h2.arrays()["step"])
    h.append({"step": 25, "v": 1.0})
    h2.append({"step": 25, "v": 1.0})
    np.testing.assert_array_equal(h.arrays()["step"], h2.arrays()["step"])


def test_missing_column_is_nan():
    h = History(("step", "fid"))
    h.append({"step": 1})
    assert np.isnan(h.last()["fid"])
