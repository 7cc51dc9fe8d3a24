"""Where the knowledge files are: an override from the environment, the wheel's package data, or this checkout."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

#: The environment variable that overrides each folder.
OVERRIDES = {"ontology": "SPINEKG_ONTOLOGY", "queries": "SPINEKG_QUERIES"}


def knowledge_dir(name: str) -> Path:
    """The folder of ``name`` (``ontology`` or ``queries``): ``$SPINEKG_ONTOLOGY`` / ``$SPINEKG_QUERIES`` if set;
    else the copy an installed wheel carries (``reasoner/knowledge/NAME``, package data); else the checkout's
    top-level folder, which curators edit and an editable install reads.

    >>> knowledge_dir("ontology").name, knowledge_dir("queries").name
    ('ontology', 'queries')
    """
    override = os.environ.get(OVERRIDES[name])
    if override:
        return Path(override)
    packaged = _PACKAGE / "knowledge" / name
    return packaged if packaged.is_dir() else _PACKAGE.parent / name
