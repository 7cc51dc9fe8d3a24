"""The spinekg benchmark: synthetic cases, three baselines, and one harness that times them all in one run."""
