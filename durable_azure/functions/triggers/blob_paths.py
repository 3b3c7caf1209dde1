"""A blob trigger's `path` pattern: which blobs of the container it watches, and the names it binds.

`samples-workitems/{name}.png` watches blobs of `samples-workitems` ending in `.png` and binds `name` to the
rest (which may hold `/`, as blob "folders" do); `input/{folder}/{file}` binds the first segment to `folder`.
`{{` and `}}` are literal braces. The container part is literal (the host refuses expressions there), and
`%Setting%` is resolved from the app settings when the pattern is parsed, as the host resolves it at
indexing. The literal text before the first `{` is the listing prefix, so a narrow pattern lists less.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from durable_azure.errors import ConfigurationError
from durable_azure.functions.bindings.expressions import has_parameters, resolve_settings

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class BlobPathPattern:
    container: str
    blob_pattern: str
    """The part after the container, e.g. "{name}.png"; empty matches every blob of the container."""
    prefix: str
    """Literal start of every matching blob name, for the listing."""
    _regex: re.Pattern[str]
    _names: tuple[str, ...]

    @classmethod
    def parse(cls, path: str, *, where: str) -> BlobPathPattern:
        text = resolve_settings(path, where=where).strip("/")
        container, _, blob_pattern = text.partition("/")
        if not container or has_parameters(container) or "{" in container or "}" in container:
            raise ConfigurationError(
                f"{where}: path {path!r} needs a literal container name before the first '/' (e.g. container/{{name}})"
            )
        pieces: list[str] = []
        names: list[str] = []
        prefix: str | None = None
        position = 0
        for match in _TOKEN.finditer(blob_pattern):
            literal = blob_pattern[position : match.start()]
            pieces.append(re.escape(literal))
            position = match.end()
            token = match.group(0)
            if token in ("{{", "}}"):
                pieces.append(re.escape(token[0]))
                continue
            name = (match.group(1) or "").strip()
            if not name.isidentifier() and not re.fullmatch(r"[\w-]+", name):
                raise ConfigurationError(f"{where}: path {path!r} has an invalid parameter {token!r}")
            if prefix is None:
                prefix = _unescape(blob_pattern[: match.start()])
            pieces.append(f"(?P<p{len(names)}>.+?)")
            names.append(name)
        pieces.append(re.escape(blob_pattern[position:]))
        if prefix is None:
            prefix = _unescape(blob_pattern)
        regex = re.compile("".join(pieces) if blob_pattern else ".+", re.DOTALL)
        return cls(container, blob_pattern, prefix, regex, tuple(names))

    def match(self, blob_name: str) -> dict[str, str] | None:
        """The named parts of `blob_name`, or None when the pattern does not watch it."""
        found = self._regex.fullmatch(blob_name)
        if found is None:
            return None
        return {name: found.group(f"p{index}") for index, name in enumerate(self._names)}

    def __str__(self) -> str:
        return f"{self.container}/{self.blob_pattern}" if self.blob_pattern else self.container


def _unescape(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


__all__ = ["BlobPathPattern"]
