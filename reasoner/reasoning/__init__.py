"""Reasoning over cases: the engine, the condition rules, classification, derivations, the stores."""
