"""Quality gates of the knowledge base, OWL DL consistency, the release set."""
