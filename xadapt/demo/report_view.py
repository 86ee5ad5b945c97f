"""The study tab's content: a sweep's report (summary and tables) and its plots with their titles."""

from pathlib import Path

from xadapt.study.plots import TITLES
from xadapt.study.report import PLOTS_DIR, REPORT_FILE

PLOTS_HEADING = "\n## Plots"  # the report's last section; the page shows the images themselves instead


def report_view(out_dir: Path) -> tuple[str, list[tuple[Path, str]]]:
    """The report's markdown without its plot links, and each PNG plot with its title."""
    report = out_dir / REPORT_FILE
    if not report.is_file():
        return (f"`{out_dir}` holds results but no report yet. Write it with `xadapt report {out_dir}` "
                "(a running sweep writes it when it finishes).", [])
    text = report.read_text(encoding="utf-8").split(PLOTS_HEADING, 1)[0]
    plots = [(png, TITLES.get(png.stem, png.stem)) for png in sorted((out_dir / PLOTS_DIR).glob("*.png"))]
    return text, plots
