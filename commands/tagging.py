"""Finding a tag by name or id through the site's cached tag list.

A warm cache makes ``tag <session> <name>`` cost one API call (the apply
itself). A miss refreshes the list once, so a tag created a moment ago in the
dashboard is found too; a name that is still unknown gets a "did you mean".
"""

from __future__ import annotations

import re

from bot.mylivechat import Tag

from .context import Context
from .errors import CommandError
from .suggest import did_you_mean

__all__ = [
    "deleted_tag",
    "enabled_tags",
    "find_tag",
    "resolve_tag",
    "resolve_tags",
    "split_tags",
    "unknown_tag",
]

# An id is ASCII digits ("²" passes str.isdigit() but is no number), at most 10 of them.
_TAG_ID = re.compile(r"[0-9]{1,10}")


def enabled_tags(tags: list[Tag]) -> list[Tag]:
    return [t for t in tags if t.enabled is not False]


def find_tag(tags: list[Tag], ref: str, *, by_id: bool = True) -> Tag | None:
    """The tag whose id is ``ref`` (ASCII digits), else whose name matches case-insensitively.

    An enabled tag wins over a soft-deleted one of the same name.
    """
    ref = ref.strip()
    if by_id and _TAG_ID.fullmatch(ref):
        numbered = next((t for t in tags if t.id == int(ref)), None)
        if numbered is not None:
            return numbered
    wanted = ref.casefold()
    named = [t for t in tags if (t.name or "").casefold() == wanted]
    named.sort(key=lambda t: t.enabled is False)
    return named[0] if named else None


async def resolve_tag(ctx: Context, ref: str, *, allow_deleted: bool = False) -> Tag:
    """The site's tag called (or numbered) ``ref``; raises :class:`CommandError` if none.

    Costs no API call when the cached list has it, else one GET tags.
    A soft-deleted tag is refused unless ``allow_deleted``.
    """
    tags = await ctx.site.tags(ctx.api)
    tag = find_tag(tags, ref)
    if tag is None:
        tags = await ctx.site.tags(ctx.api, refresh=True)
        tag = find_tag(tags, ref)
    if tag is None:
        raise unknown_tag(ref, tags)
    if tag.enabled is False and not allow_deleted:
        raise deleted_tag(tag)
    return tag


async def resolve_tags(ctx: Context, text: str, *, allow_deleted: bool = False) -> list[Tag]:
    """The tags ``text`` names: one tag's name or id, or several separated by spaces.

    ``high value bug`` is the tags "high value" and "bug": the longest names that match
    are taken first. Costs no API call when the cached list has them all, else one GET
    tags. Raises :class:`CommandError` for a word that names no tag (or a deleted one,
    unless ``allow_deleted``), before anything is changed.
    """
    tags = await ctx.site.tags(ctx.api)
    found, missing = split_tags(tags, text)
    if missing is not None:
        tags = await ctx.site.tags(ctx.api, refresh=True)
        found, missing = split_tags(tags, text)
    if missing is not None:
        raise unknown_tag(missing, tags)
    unique = list({tag.id: tag for tag in found}.values())
    if not allow_deleted:
        gone = next((t for t in unique if t.enabled is False), None)
        if gone is not None:
            raise deleted_tag(gone)
    return unique


def split_tags(tags: list[Tag], text: str) -> tuple[list[Tag], str | None]:
    """The tags named in ``text`` and the first word that names none (None: all found).

    The whole text is one tag when it is one tag's name or id; otherwise its words are
    grouped into names from the left, the longest group that names a tag first.
    """
    whole = find_tag(tags, text)
    if whole is not None:
        return [whole], None
    words = text.split()
    found: list[Tag] = []
    start = 0
    while start < len(words):
        for end in range(len(words), start, -1):
            tag = find_tag(tags, " ".join(words[start:end]))
            if tag is not None:
                found.append(tag)
                start = end
                break
        else:
            return found, words[start]
    return found, None


def unknown_tag(ref: str, tags: list[Tag]) -> CommandError:
    names = [t.name for t in enabled_tags(tags) if t.name]
    hint = did_you_mean(ref, names)
    return CommandError(
        f"There is no tag `{ref}` on this site.{hint}",
        hint=f"Create it with `tags add {ref}`, or type `tags` to see them all.",
    )


def deleted_tag(tag: Tag) -> CommandError:
    return CommandError(
        f"The tag `{tag.name}` was deleted, so it cannot be applied.",
        hint=f"Bring it back with `tags add {tag.name}`, or type `tags` for the others.",
    )
