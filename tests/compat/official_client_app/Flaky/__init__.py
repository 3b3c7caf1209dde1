from pathlib import Path


def main(marker: str) -> str:
    """Fails until the file `marker` exists: the test creates it, then rewinds the failed instance."""
    if not Path(marker).exists():
        raise RuntimeError(f"{marker} does not exist yet")
    return "recovered"
