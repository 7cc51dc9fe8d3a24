"""A plan as JSON text, fast: the same text as ``json.dumps(plan.to_dict())``, with the parts every plan shares
with others (evidence sentences, the answers for recommendations no case fact speaks to) serialised once."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass

_FIELDS: dict[type, tuple[str, ...]] = {}
_SHARED: dict[int, tuple[object, str]] = {}  # id → (the object, kept alive so the id stays its own; its text)
_encode = json.JSONEncoder(ensure_ascii=False).encode


def share(obj: object) -> None:
    """Mark an immutable object that many plans contain: its text is made once and reused."""
    if id(obj) not in _SHARED:
        _SHARED[id(obj)] = (obj, dumps(obj))


def dumps(value: object) -> str:
    """JSON text of a plan (or any part of one), byte for byte ``json.dumps(asdict(value), ensure_ascii=False)``.

    >>> from reasoner.plan.model import Warning
    >>> dumps(Warning("missing_fact", "the case does not record “age”", ("age",)))
    '{"id": "missing_fact", "message": "the case does not record “age”", "subjects": ["age"]}'
    """
    shared = _SHARED.get(id(value))
    if shared is not None and shared[0] is value:
        return shared[1]
    if value is None or isinstance(value, (str, bool, int, float)):
        return _encode(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(dumps(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_encode(str(k))}: {dumps(v)}" for k, v in value.items()) + "}"
    if is_dataclass(value):
        names = _FIELDS.get(type(value))
        if names is None:
            names = _FIELDS[type(value)] = tuple(f.name for f in fields(value))
        return "{" + ", ".join(f'"{n}": {dumps(getattr(value, n))}' for n in names) + "}"
    raise TypeError(f"{type(value).__name__} is not part of a plan")
