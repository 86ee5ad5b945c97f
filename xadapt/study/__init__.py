"""Studies: sweeps over methods, training sizes, learning rates, seeds and languages, their
results store, and the report and plots a researcher reads afterwards."""
