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


class CaseError(SpinekgError):
    """A case was rejected (exit status 2): every problem found, and the graph of its clean entries.

    ``problems`` are :class:`reasoner.case.model.CaseProblem` (field path, value as given, message);
    ``salvage`` is the case graph built only from the symptoms, imaging findings and risk factors that
    had no problem (plus age and sex), so red flags can still be reported; None when nothing was clean.
    """

    exit_code = 2

    def __init__(self, problems, *, salvage=None, source: str = "<dict>") -> None:
        self.problems = tuple(problems)
        self.salvage = salvage
        self.source = source
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        super().__init__("\n  ".join([f"{source}: {count} in the case", *(str(p) for p in self.problems)]))


class GraphvizError(SpinekgError):
    """Graphviz's ``dot`` is not installed or could not draw a picture (exit status 1)."""

    exit_code = 1


class EndpointError(SpinekgError):
    """The SPARQL endpoint could not start (exit status 1), or refused a request (``status``: its HTTP status)."""

    exit_code = 1

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class QueryError(SpinekgError):
    """A SPARQL query could not be run: unknown name, syntax error, unknown or missing parameter (exit status 2)."""

    exit_code = 2
