"""Files from the Hugging Face hub: a repository's snapshot, downloaded or taken from the hub cache.

Offline, or for an unknown or gated id, the failure names the local alternatives, so a user
without hub access learns at once what works instead."""

from pathlib import Path

from xadapt.errors import XadaptError


def looks_like_hub_id(name: str) -> bool:
    """Whether `name` has the shape of a hub id (`org/name` or `name`) rather than a path."""
    return not name.startswith((".", "/", "~")) and name.count("/") <= 1 and bool(name.strip())


def snapshot(repo_id: str, patterns: list[str], what: str, alternatives: str) -> Path:
    """The local folder of `repo_id`'s files matching `patterns`; `what` and `alternatives` word the failure."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns))
    except Exception as err:  # offline, unknown id, gated repo: all end the same way for the user
        detail = str(err).splitlines()[0] if str(err) else "no detail"
        local = f" There is no local folder {repo_id} either." if "/" in repo_id else ""
        raise XadaptError(
            f"could not get {what} {repo_id!r} from the Hugging Face hub ({type(err).__name__}: {detail}).{local} "
            f"Without hub access use {alternatives}."
        ) from None
