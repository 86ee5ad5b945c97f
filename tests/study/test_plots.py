"""Every figure the results support is written as a real PNG and SVG, labelled; the others are not."""

import struct

import pytest

from xadapt.study import plots
from xadapt.study.plots import FORMATS, TITLES, write_plots
from xadapt.study.results import best_lr_runs, results_frame

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])  # width and height from the IHDR chunk


def test_full_sweep_writes_every_figure_as_png_and_svg(full_report):
    plots_dir = full_report.parent / "plots"
    expected = {f"{name}.{fmt}" for name in TITLES for fmt in FORMATS}
    assert {path.name for path in plots_dir.iterdir()} == expected
    for name in TITLES:
        png = (plots_dir / f"{name}.png").read_bytes()
        svg = (plots_dir / f"{name}.svg").read_bytes()
        assert png.startswith(PNG_MAGIC) and len(png) > 20_000
        width, height = _png_size(png)
        assert width > 500 and height > 300
        assert b"<svg" in svg[:1000] and svg.rstrip().endswith(b"</svg>") and len(svg) > 20_000


def test_single_rate_sweep_has_no_learning_rate_figure(tmp_path, sweep_records):
    frame = results_frame(sweep_records(lrs=(1e-4,), sizes=(100, 1000), drift=False, zero_shot=False))
    stale = tmp_path / "lr_sensitivity.png"
    stale.write_bytes(PNG_MAGIC)  # left by an earlier report; it would describe nothing now
    written = write_plots(frame, tmp_path)
    assert sorted(p.name for p in written) == ["curves.png", "curves.svg", "score_vs_size.png", "score_vs_size.svg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


def test_partial_sweep_still_plots(tmp_path, make_record):
    """One method, one size, one seed, no curve: the score figure still has its point."""
    record = make_record(drift=False)
    record["curve"] = []
    written = write_plots(results_frame([record]), tmp_path)
    assert [p.name for p in written] == ["score_vs_size.png", "score_vs_size.svg"]


BUILDERS = {
    "score_vs_size": lambda frame: plots._score_vs_size(best_lr_runs(frame)),
    "curves": lambda frame: plots._curves(best_lr_runs(frame)),
    "lr_sensitivity": lambda frame: plots._lr_sensitivity(frame[frame["status"] == "ok"]),
    "zero_shot": lambda frame: plots._zero_shot(best_lr_runs(frame)),
    "drift": lambda frame: plots._drift(best_lr_runs(frame)),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_figures_have_titles_axis_labels_and_legends(name, sweep_records):
    figure = BUILDERS[name](results_frame(sweep_records()))
    assert figure._suptitle is not None and figure._suptitle.get_text()
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert panels
    for ax in panels:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        legend = ax.get_legend()
        assert legend is not None and len(legend.get_texts()) >= 2


def test_score_figure_draws_the_mean_with_a_band(sweep_records):
    figure = plots._score_vs_size(best_lr_runs(results_frame(sweep_records())))
    in_language = figure.axes[0]
    assert in_language.get_title() == "sw → sw" and in_language.get_xscale() == "log"
    madx = next(line for line in in_language.get_lines() if line.get_label() == "madx")
    assert list(madx.get_xdata()) == [100, 300, 1000]
    assert list(madx.get_ydata()) == pytest.approx([0.62, 0.668, 0.72], abs=1e-3)
    assert len(in_language.collections) == 3  # one shaded band per method
