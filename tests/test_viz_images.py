"""ganlab/viz/image_gan.py: quality panels plot only the scored (finite) rows; the class histogram; in-place updates."""
import numpy as np

from ganlab.viz import image_gan as vi

NAN = np.nan


def _history(conditional=False, classes=False):
    h = {"step": np.array([20, 40, 60, 80], np.float32),
         "fid": np.array([900, NAN, 300, NAN], np.float32),
         "classes_present": np.array([2, NAN, 7, NAN], np.float32)}
    if conditional:
        h["cond_acc"] = np.array([0.1, NAN, 0.6, NAN], np.float32)
    if classes:
        shares = np.full((4, 10), NAN, np.float32)
        shares[0] = 0.1
        shares[2] = [0.5, 0.5] + [0.0] * 8  # collapsed onto two digits
        h.update({f"class_{i}": shares[:, i] for i in range(10)})
    return h


def test_quality_figure_plots_scored_rows_only_and_updates_in_place():
    h = _history(conditional=True)
    fig = vi.quality_figure(h)
    assert [t.name for t in fig.data] == ["fid", "classes_present", "cond_acc"]
    assert list(fig.data[0].x) == [20, 60] and list(fig.data[0].y) == [900, 300]
    np.testing.assert_allclose(fig.data[2].y, [10, 60], rtol=1e-6)  # percent
    assert fig.layout.yaxis.type == "log"
    h["fid"][3] = 100.0
    h["classes_present"][3] = 9.0
    h["cond_acc"][3] = 0.9
    same = vi.quality_figure(h, fig=fig)
    assert same is fig and list(fig.data[0].y) == [900, 300, 100]
    assert vi.last_value(h, "fid") == 100.0 and vi.last_value(h, "missing") is None


def test_quality_columns_skip_unscored_and_absent_columns():
    h = _history()
    assert vi.quality_columns(h) == ("fid", "classes_present")
    assert vi.quality_columns({"step": np.zeros(3, np.float32), "fid": np.full(3, NAN, np.float32)}) == ()


def test_class_histogram_takes_the_last_scored_row_and_greys_dropped_classes():
    assert vi.class_shares(_history()) is None  # not recorded
    shares = vi.class_shares(_history(classes=True))
    np.testing.assert_allclose(shares, [0.5, 0.5] + [0.0] * 8)
    fig = vi.class_hist_figure(shares)
    bar = fig.data[0]
    assert list(bar.y[:3]) == [50, 50, 0] and list(bar.x[:2]) == ["0", "1"]
    assert bar.marker.color[0] != bar.marker.color[2] and bar.marker.color[2] == "#bbbbbb"
    assert vi.class_hist_figure(np.full(10, 0.1), fig=fig) is fig and list(fig.data[0].y) == [10] * 10


def test_two_runs_share_the_quality_panels_and_get_grouped_class_bars():
    a, b = _history(conditional=True, classes=True), _history(classes=True)
    fig = vi.quality_figure([("A", a), ("B", b)])
    assert [t.name for t in fig.data] == ["A: fid", "A: classes_present", "A: cond_acc", "B: fid",
                                          "B: classes_present"]
    assert fig.data[0].line.dash == "solid" and fig.data[3].line.dash == "dash"  # A solid, B dashed
    shares = [("A", vi.class_shares(a)), ("B", np.full(10, 0.1)), ("C", None)]
    bars = vi.class_hist_figure(shares)
    assert [t.name for t in bars.data] == ["A", "B"] and bars.layout.barmode == "group"
    assert bars.data[0].marker.color[2] == "#bbbbbb" and bars.data[1].marker.color[0] != bars.data[0].marker.color[0]
