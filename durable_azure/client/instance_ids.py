"""Instance ids: the original's validation rules, and new random ids. Part of the client layer.

The rules keep an id usable as a table key, a queue-message field and a URL
segment of the HTTP API, so they are checked before anything is written.
"""

from __future__ import annotations

import uuid

MAX_INSTANCE_ID_LENGTH = 256
_FORBIDDEN_ID_CHARACTERS = frozenset("/\\#?")


def validate_instance_id(instance_id: str) -> str:
    """Return `instance_id`, or raise ValueError naming what the original (DF DurableClient) rejects in it."""
    if not isinstance(instance_id, str) or not instance_id:
        raise ValueError("instance_id must be a non-empty string")
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise ValueError(f"instance_id is {len(instance_id)} characters long; at most {MAX_INSTANCE_ID_LENGTH}")
    if instance_id.startswith("@"):
        raise ValueError(f"instance_id {instance_id!r} starts with '@', which is reserved for entities")
    for character in instance_id:
        if character in _FORBIDDEN_ID_CHARACTERS or _is_control(character):
            raise ValueError(f"instance_id {instance_id!r} contains the forbidden character {character!r}")
    return instance_id


def new_instance_id() -> str:
    """32 lowercase hex characters, as `Guid.ToString("N")` gives."""
    return uuid.uuid4().hex


def _is_control(character: str) -> bool:
    code = ord(character)
    return code < 0x20 or 0x7F <= code <= 0x9F
