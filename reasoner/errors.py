"""The exception hierarchy of spinekg; every message names the file, IRI or field it is about."""

from __future__ import annotations


class SpinekgError(Exception):
    """Base class of every error spinekg raises on purpose."""

    exit_code = 1


class UsageError(SpinekgError):
    """A command was called with arguments it cannot use (exit status 2)."""

    exit_code = 2


class KBLoadError(SpinekgError):
    """A knowledge-base file could not be found or parsed (exit status 1)."""

    exit_code = 1


class SeedsNotFoundError(SpinekgError):
    """The source articles needed to check quotes were not found (exit status 1)."""

    exit_code = 1
