"""Studies: sweeps over methods, training sizes, learning rates, seeds and languages, their
results store, and the report and plots a researcher reads afterwards.

`xadapt.study.load(OUT)` reads a study's results as a pandas DataFrame (`xadapt.study.table`)."""


def load(*out_dirs):
    """The results of the studies in `out_dirs` (their `--out` directories) as one flat DataFrame, one
    row per run and evaluation language: the table `results.csv` holds."""
    from xadapt.study.table import load as load_table  # pandas only for callers that read results

    return load_table(*out_dirs)
