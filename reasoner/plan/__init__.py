"""The plan: its model, its assembly from a run, concordance, provenance, its words and JSON."""
