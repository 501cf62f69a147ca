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

__all__ = ["enabled_tags", "find_tag", "resolve_tag"]

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
        names = [t.name for t in enabled_tags(tags) if t.name]
        hint = did_you_mean(ref, names)
        raise CommandError(
            f"There is no tag `{ref}` on this site.{hint}",
            hint=f"Create it with `tags add {ref}`, or type `tags` to see them all.",
        )
    if tag.enabled is False and not allow_deleted:
        raise CommandError(
            f"The tag `{tag.name}` was deleted, so it cannot be applied.",
            hint=f"Bring it back with `tags add {tag.name}`, or type `tags` for the others.",
        )
    return tag
