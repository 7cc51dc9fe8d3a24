"""Plans for a cohort: the batched run and its output files."""
