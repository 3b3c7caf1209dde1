"""Reading the app's JSON files (host.json, local.settings.json, function.json) with errors that name them.

Imports only the standard library and `durable_azure.errors`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from durable_azure.errors import ConfigurationError

_log = logging.getLogger(__name__)


def read_json_file(path: Path) -> Any:
    """The JSON document in `path` (UTF-8, BOM allowed); ConfigurationError naming the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ConfigurationError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        if error.msg == "Extra data" and path.name == "host.json":
            return _first_of_concatenated(path, text)
        raise ConfigurationError(
            f"{path}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error


_warned_concatenated: set[Path] = set()


def _first_of_concatenated(path: Path, text: str) -> Any:
    """A host.json holding several JSON documents one after another: the first one, with a warning.

    Some published samples ship such a file (an edit pasted a second `{...}` after the first). Refusing to
    start would stop users at the first step, so the first document is used, as a JSON reader that stops at
    the end of its first value reads it; everything after it is ignored, and said so once per file, with the
    keys that differ, because the Functions host on Azure refuses the file ("Additional text encountered after
    finished reading JSON content") and the app would not start there.
    """
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    position = 0
    while position < len(text):
        try:
            document, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise ConfigurationError(
                f"{path}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
            ) from error
        documents.append(document)
        position = end
        while position < len(text) and text[position].isspace():
            position += 1
    first = documents[0]
    if path not in _warned_concatenated:
        _warned_concatenated.add(path)
        ignored = sorted(
            {
                str(key)
                for later in documents[1:]
                for key, value in (later.items() if isinstance(later, dict) else [("(not an object)", None)])
                if not isinstance(first, dict) or first.get(key) != value
            }
        )
        differing = f"; keys there that differ from the first: {', '.join(ignored)}" if ignored else ""
        _log.warning(
            "%s holds %d JSON documents one after another: using the first and ignoring the rest%s. "
            "The Functions host on Azure refuses such a file: keep one JSON object in it.",
            path,
            len(documents),
            differing,
        )
    return first
