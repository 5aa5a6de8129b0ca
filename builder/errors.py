"""One family of errors and one report of problems, for every stage of atlas.

Why: a user must see one clear line per problem and a distinct exit status per
kind of problem, and a build must list every input it left out (file and why)
instead of stopping. Two things serve that:

* :class:`AtlasError` - the base of every error atlas raises on purpose. It
  carries structured fields (``file``, ``line``, ``reason``) so no caller has to
  parse its text back, and an ``exit_code`` that ``atlas`` (builder/cli.py)
  returns. Anything that is not an AtlasError (or a known OS condition) is a bug
  and is reported as "internal error" (exit 1).
* :class:`Problems` - the inputs a run skipped and why (a list of
  :class:`SkippedItem`), passed explicitly to every reader instead of ad-hoc
  ``skipped`` lists; shown on the data page and failing ``--strict``.

Exit statuses of ``atlas`` (also in ``atlas --help`` and the README):
:data:`EXIT_CODES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Exit status of ``atlas`` -> what it means. One status per kind of user-facing problem.
EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "internal error (a bug: run with -v for the traceback and report it)",
    2: "bad input: a file, folder or argument (one line says which and why)",
    3: "finished, but problems were found (--strict with skipped inputs; atlas check with broken links)",
    4: "bad configuration (atlas.toml)",
    5: "front-end assets missing or the search indexer failed (run `npm ci`)",
    6: "download failed (network, server, checksum) - run the same command again to resume",
    7: "Earthdata credentials missing or rejected",
    8: "unusable classifier model file",
    9: "malformed content page",
    10: "system problem: disk full, port in use",
    130: "interrupted (Ctrl-C)",
}
EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_PROBLEMS, EXIT_CONFIG = 0, 1, 2, 3, 4
EXIT_ASSET, EXIT_FETCH, EXIT_CREDENTIALS, EXIT_MODEL, EXIT_CONTENT, EXIT_SYSTEM = 5, 6, 7, 8, 9, 10
EXIT_INTERRUPTED = 130


class AtlasError(Exception):
    """Base of every error atlas raises on purpose: ``reason`` (one line), optionally the ``file``
    (a file name, or an item such as "sources") and ``line`` it concerns. ``str()`` is
    ``file:line: reason`` (the parts that are known); ``exit_code`` is what ``atlas`` returns."""

    exit_code = EXIT_INTERNAL

    def __init__(self, reason: str, *, file: str | Path | None = None, line: int | None = None):
        self.reason = str(reason)
        self.file = None if file is None else str(file)
        self.line = line
        super().__init__(self.where() + self.reason if self.file is not None else self.reason)

    def where(self) -> str:
        """``file:line: `` or ``file: `` ('' without a file)."""
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "


class InputError(AtlasError):
    """A bad input file, folder, row or argument: ``item`` (the file or thing) and ``reason``."""

    exit_code = EXIT_INPUT

    def __init__(self, item: str | Path, reason: str, *, line: int | None = None):
        super().__init__(reason, file=item, line=line)

    @property
    def item(self) -> str:
        """The file or thing that is bad (``file``; the name older callers use)."""
        return self.file or ""


class UsageError(AtlasError):
    """A bad command-line argument or combination of arguments (the message says which)."""

    exit_code = EXIT_INPUT


class ConfigError(AtlasError, ValueError):
    """atlas.toml is unreadable or holds an unknown key or a bad value (or a bad --inventory)."""

    exit_code = EXIT_CONFIG


class AssetError(AtlasError, RuntimeError):
    """A vendored front-end asset is missing (``npm ci`` was not run) or the search indexer failed."""

    exit_code = EXIT_ASSET


class ContentError(AtlasError, ValueError):
    """A content page (``content/*.md``) is malformed: ``file``, ``line`` (if known) and ``reason``."""

    exit_code = EXIT_CONTENT


class FetchError(AtlasError):
    """A download that cannot start, search or complete (bad arguments, network, server)."""

    exit_code = EXIT_FETCH


class CredentialsError(FetchError):
    """Earthdata credentials are missing or rejected; raised before any download."""

    exit_code = EXIT_CREDENTIALS


class ModelError(AtlasError, ValueError):
    """A classifier model file that cannot be used (which file, why)."""

    exit_code = EXIT_MODEL


def one_line(exc: BaseException, limit: int = 200) -> str:
    """The reason of an exception on one line, at most ``limit`` characters, without
    build-machine paths for OS errors (their ``strerror`` alone)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def exc_line(exc: BaseException, path: Path) -> str:
    """``Type: message`` on one line, without the folder of ``path`` (reasons are published on the site)."""
    text = " ".join(str(exc).replace(str(path), path.name).split())
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


@dataclass
class SkippedItem:
    """An input that was skipped: which one and why (shown on the data page)."""

    item: str      # file name or "file:row"
    reason: str
    stage: str     # "ingest", "inventory", "content", ...


class Problems(list):
    """What a run skipped and why: a list of :class:`SkippedItem` passed explicitly to the
    readers (``problems.add(item, reason, stage)``). It is a list so that code that extends,
    iterates or counts the skipped items keeps working."""

    @staticmethod
    def of(problems: "Problems | None") -> "Problems":
        """``problems`` itself, or a new report for a reader called without one (a plain list
        is refused: its items would not be reported)."""
        if problems is None:
            return Problems()
        if not isinstance(problems, Problems):
            raise TypeError(f"expected a builder.errors.Problems, got {type(problems).__name__}")
        return problems

    def add(self, item: str | Path, reason: str, stage: str) -> None:
        """Record one skipped input."""
        self.append(SkippedItem(item=str(item), reason=reason, stage=stage))

    def add_error(self, exc: InputError, stage: str) -> None:
        """Record an :class:`InputError` that made an input be skipped."""
        self.add(exc.item, exc.reason, stage)

    def records(self) -> list[dict]:
        """The items as plain dicts (summary.json)."""
        return [vars(s) for s in self]
