"""tag, untag, tags, tags add, tags edit, tags delete."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from typing_extensions import TypedDict

from bot.mylivechat import BadRequest, MyLiveChatError, NotFound, OutcomeUnknown, Tag
from commands.context import Context
from commands.data import TagData, tag_data
from commands.errors import CommandError, UsageError, unknown_session
from commands.failures import api_error_reply
from commands.formatting import count, data, joined, na, tag_label, tag_row
from commands.outcomes import unchanged
from commands.params import SESSION_ID, TAG_NAME_MAX_LENGTH
from commands.readback import RUN_AGAIN_SAFELY, confirmed, not_applied, settle
from commands.reply import Action, Failure, Field, Kind, Reply, Table
from commands.spec import Param, ParamType, Permission, Source, command
from commands.tagging import enabled_tags, find_tag, resolve_tag, resolve_tags

MAX_TAGS_AT_ONCE = 10
"""The most tags one ``tag`` or ``untag`` applies or removes (one API call each)."""

_TAG_REFS = Param(
    "tag",
    ParamType.TEXT,
    "one or more tag names (any case) or numeric ids, separated by spaces",
    positional=True,
    required=True,
    complete=Source.TAG,
    metavar="tag",
    max_length=MAX_TAGS_AT_ONCE * (TAG_NAME_MAX_LENGTH + 1),
)
_EXISTING_TAG = Param(
    "tag",
    ParamType.TEXT,
    "the tag's name or id",
    positional=True,
    required=True,
    complete=Source.TAG,
    metavar="name|id",
    max_length=TAG_NAME_MAX_LENGTH,
)
_COLOR = Param("color", ParamType.COLOR, "the tag's colour")
_DESCRIPTION = Param(
    "description", ParamType.TEXT, "what the tag is for", metavar="text", max_length=500
)


async def _tags_for_session(
    ctx: Context, session_id: str, text: str, *, allow_deleted: bool = False
) -> list[Tag]:
    """The tags to apply or remove; spots ``tag vip s_123`` (arguments swapped)."""
    try:
        found = await resolve_tags(ctx, text, allow_deleted=allow_deleted)
    except CommandError:
        # The failed lookup just refreshed the list, so this costs no call.
        if find_tag(await ctx.site.tags(ctx.api), session_id) is not None:
            raise UsageError(
                f"`{data(session_id)}` is a tag, not a session id: the session comes first."
            ) from None
        raise
    if len(found) > MAX_TAGS_AT_ONCE:
        raise UsageError(f"Give at most {MAX_TAGS_AT_ONCE} tags at once, not {len(found)}.")
    return [_with_id(tag) for tag in found]


def _with_id(tag: Tag) -> Tag:
    if tag.id is None:
        raise CommandError(f"MyLiveChat sent the tag `{data(tag.name)}` without an id; try again.")
    return tag


class TagChange(TypedDict):
    tag: TagData
    changed: bool
    """False when the session already had the tag (tag) or did not have it (untag)."""


class SessionTagsData(TypedDict):
    session_id: str
    tags: list[TagChange]
    """Each tag asked for, in order."""


def _session_tags(session_id: str, asked: list[Tag], changed: list[Tag]) -> SessionTagsData:
    done = {id(t) for t in changed}
    return {
        "session_id": session_id,
        "tags": [{"tag": tag_data(t), "changed": id(t) in done} for t in asked],
    }


class TagsData(TypedDict):
    tags: list[TagData]
    """The enabled tags; with --all, the deleted ones too (enabled: false)."""
    deleted_not_shown: int


class EditedTag(TypedDict):
    tag: TagData
    changed: bool
    """False when it already had the values asked for (nothing was sent)."""


class TagCreated(TypedDict):
    tag: TagData
    created: bool
    """False when a tag of that name existed: it is returned unchanged."""


class TagDeleted(TypedDict):
    tag: TagData
    changed: bool
    """False when it was already deleted."""


def _names(tags: list[Tag]) -> str:
    """```vip``, ``bug``` as people read a list: "`vip` and `bug`"."""
    quoted = [f"`{data(t.name)}`" for t in tags]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


async def _unknown_session_or_tag(
    ctx: Context, tag: Tag, session_id: str, answer: NotFound
) -> CommandError:
    """After a 404: the tag was removed meanwhile, or (usually) the session is unknown."""
    current = find_tag(await ctx.site.tags(ctx.api, refresh=True), str(tag.id))
    if current is None:
        return CommandError(
            f"The tag `{data(tag.name)}` is no longer on this site.",
            hint="Type `tags` to see them.",
        )
    return unknown_session(session_id, answer)


async def _each(
    ctx: Context,
    session_id: str,
    tags: list[Tag],
    change: Callable[[str, int], Awaitable[bool]],
) -> tuple[list[Tag], list[Tag], MyLiveChatError | None]:
    """Apply ``change`` to each tag in turn, stopping at the first error.

    Returns the tags changed, those already so, and the error that stopped it (raised
    instead when it came first: then nothing was changed).
    """
    changed: list[Tag] = []
    already: list[Tag] = []
    for tag in tags:
        try:
            did = await change(session_id, tag.id)  # type: ignore[arg-type]
        except NotFound as exc:
            if changed or already:
                return changed, already, exc
            raise await _unknown_session_or_tag(ctx, tag, session_id, exc) from None
        except BadRequest as exc:
            ctx.site.drop_tags()  # e.g. the tag was deleted in the dashboard since we cached it
            if changed or already:
                return changed, already, exc
            raise
        except MyLiveChatError as exc:
            if changed or already:
                return changed, already, exc
            raise
        (changed if did else already).append(tag)
    return changed, already, None


def _partial(
    summary: str, verb: str, failed: Tag, untried: list[Tag], error: MyLiveChatError
) -> Reply:
    """Some tags were done before an error stopped the rest: say exactly which."""
    lost = isinstance(error, OutcomeUnknown)
    outcome = "may or may not have been" if lost else "was not"
    why = api_error_reply(error).text.splitlines()[0]
    lines = [f"{summary}.", f"{_names([failed])} {outcome} {verb}: {why}"]
    if untried:
        lines.append(f"Not tried: {_names(untried)}.")
    return Reply(
        title="Partly done",
        text="\n".join(lines),
        kind=Kind.WARNING,
        failure=Failure.UNKNOWN if lost else Failure.API,
        request_id=error.request_id,
        error_code=error.code,
    )


@command(
    "tag",
    help="Tag a chat session with one or more tags, by name or id.",
    examples=["tag s_8f2a91c0d4e1 vip", "tag s_8f2a91c0d4e1 vip billing", "tag s_8f2a91c0d4e1 42"],
    params=[SESSION_ID, _TAG_REFS],
    writes=True,
    cost="1 call per tag: POST apply_tag (tag list cached; +1 GET tags when cold or on a miss)",
    data=SessionTagsData,
)
async def tag(ctx: Context, session_id: str, tag: str) -> Reply:
    found = await _tags_for_session(ctx, session_id, tag)

    async def apply(session: str, tag_id: int) -> bool:
        return (await ctx.api.apply_tag(session, tag_id)).created is not False

    added, already, error = await _each(ctx, session_id, found, apply)
    undo = (Action("Undo", f"untag {session_id} {' '.join(str(t.id) for t in added)}"),)
    summary = _TAGGING.of(session_id, added, already)
    if error is not None:
        settled = len(added) + len(already)
        reply = _partial(summary, "applied", found[settled], found[settled + 1 :], error)
        return dataclasses.replace(reply, actions=undo if added else ())
    if not added:
        return unchanged(
            "Already tagged", f"{summary}.", data=_session_tags(session_id, found, added)
        )
    return Reply(
        title="Tagged",
        text=f"{summary}.",
        kind=Kind.SUCCESS,
        actions=undo,
        data=_session_tags(session_id, found, added),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Summary:
    """How a summary words the tags changed, those already so, and no change at all."""

    changed: str
    kept_too: str
    kept: str
    nothing: str

    def of(self, session_id: str, changed: list[Tag], kept: list[Tag]) -> str:
        session = f"Session `{data(session_id)}`"
        if changed and kept:
            return f"{session} {self.changed} {_names(changed)}; {self.kept_too} {_names(kept)}"
        if changed:
            return f"{session} {self.changed} {_names(changed)}"
        if kept:
            return f"{session} {self.kept} {_names(kept)}"
        return f"{session} {self.nothing}"


_TAGGING = _Summary("is now tagged", "it already had", "already has", "got no tag")
""" "Session `s_1` is now tagged `vip`; it already had `bug`" (either part may be empty)."""
_UNTAGGING = _Summary("no longer has", "it did not have", "does not have", "lost no tag")
""" "Session `s_1` no longer has `vip`; it did not have `bug`" (either part may be empty)."""


@command(
    "untag",
    help="Take one or more tags off a chat session, by name or id.",
    examples=["untag s_8f2a91c0d4e1 vip", "untag s_8f2a91c0d4e1 vip billing"],
    params=[SESSION_ID, _TAG_REFS],
    writes=True,
    cost="1 call per tag: DELETE apply_tag (tag list cached; +1 GET tags when cold or on a miss)",
    data=SessionTagsData,
)
async def untag(ctx: Context, session_id: str, tag: str) -> Reply:
    found = await _tags_for_session(ctx, session_id, tag, allow_deleted=True)

    async def remove(session: str, tag_id: int) -> bool:
        return bool((await ctx.api.remove_tag(session, tag_id)).removed)

    removed, absent, error = await _each(ctx, session_id, found, remove)
    summary = _UNTAGGING.of(session_id, removed, absent)
    if error is not None:
        settled = len(removed) + len(absent)
        return _partial(summary, "removed", found[settled], found[settled + 1 :], error)
    if not removed:
        return unchanged(
            "Not tagged", f"{summary}.", data=_session_tags(session_id, found, removed)
        )
    title = "Tag removed" if len(removed) == 1 else "Tags removed"
    return Reply(
        title=title,
        text=f"{summary}.",
        kind=Kind.SUCCESS,
        data=_session_tags(session_id, found, removed),
    )


@command(
    "tags",
    help="List the site's conversation tags.",
    examples=["tags", "tags --all"],
    params=[Param("all", ParamType.FLAG, "include deleted tags")],
    cost="1 call: GET tags (also refreshes the cached list)",
    data=TagsData,
)
async def tags(ctx: Context, all: bool = False) -> Reply:
    rows = await ctx.site.tags(ctx.api, refresh=True)
    shown = rows if all else enabled_tags(rows)
    hidden = len(rows) - len(shown)
    data = TagsData(tags=[tag_data(t) for t in shown], deleted_not_shown=hidden)
    if not shown:
        return Reply(
            title="No tags yet",
            text="This site has no tags.",
            notes=("Create one with `tags add vip --color #7c3aed`.",),
            data=data,
        )
    notes = (
        [f"{count(hidden, 'deleted tag')} not shown; `tags --all` lists them."] if hidden else []
    )
    notes.append("Tag a session with `tag <session_id> <tag>`.")
    return Reply(
        title=f"Tags ({len(shown)})",
        table=Table.of(["id", "name", "colour", "description"], [tag_row(t) for t in shown]),
        notes=tuple(notes),
        data=data,
    )


@command(
    "tags add",
    help="Create a tag. A name that exists is left as it is; a deleted one is restored.",
    examples=["tags add vip --color #7c3aed --description Priority customer"],
    params=[
        Param(
            "name",
            ParamType.TEXT,
            "the new tag's name",
            positional=True,
            required=True,
            max_length=TAG_NAME_MAX_LENGTH,
        ),
        _COLOR,
        _DESCRIPTION,
    ],
    permission=Permission.MEMBER_WRITE,
    writes=True,
    cost="1 call: POST tags (+1 GET tags when the tag list is not cached, to tell a tag "
    "brought back from one that was there)",
    data=TagCreated,
)
async def tags_add(
    ctx: Context, name: str, color: str | None = None, description: str | None = None
) -> Reply:
    before = find_tag(await ctx.site.tags(ctx.api), name, by_id=False)
    try:
        created = await ctx.api.create_tag(name, color=color, description=description)
    finally:
        ctx.site.drop_tags()
    if created.created is False:
        kept = (color is not None and color != created.color) or (
            description is not None and description != created.description
        )
        notes = (
            ("Its colour and description were kept; change them with `tags edit`.",) if kept else ()
        )
        label = f"`{data(created.name)}` (id {na(created.id)})"
        if created.enabled is not False and before is not None and before.enabled is False:
            return Reply(
                title=f"Restored tag {data(created.name)}",
                text=f"The tag {label} was deleted; adding it again brought it back, "
                "so it can be applied again.",
                fields=_tag_fields(created),
                notes=notes,
                kind=Kind.SUCCESS,
                data=TagCreated(tag=tag_data(created), created=False),
            )
        state = (
            "it is deleted, and MyLiveChat kept it that way"
            if created.enabled is False
            else "it can be applied"
        )
        return unchanged(
            "Tag already exists",
            f"The tag {label} already exists: {state}.",
            fields=_tag_fields(created),
            notes=notes,
            data=TagCreated(tag=tag_data(created), created=False),
        )
    return Reply(
        title=f"Created tag {data(created.name)}",
        fields=_tag_fields(created),
        kind=Kind.SUCCESS,
        data=TagCreated(tag=tag_data(created), created=True),
    )


@command(
    "tags edit",
    help="Rename a tag, or change its colour or description.",
    examples=["tags edit vip --name high-value --color #16a34a", "tags edit 42 --description VIPs"],
    params=[
        _EXISTING_TAG,
        Param("name", ParamType.TEXT, "the new name", max_length=TAG_NAME_MAX_LENGTH),
        _COLOR,
        _DESCRIPTION,
    ],
    permission=Permission.MEMBER_WRITE,
    writes=True,
    cost="1 call: PATCH tags (tag list cached; +1 GET tags when cold or on a miss)",
    data=EditedTag,
)
async def tags_edit(
    ctx: Context,
    tag: str,
    name: str | None = None,
    color: str | None = None,
    description: str | None = None,
) -> Reply:
    if name is None and color is None and description is None:
        raise UsageError("Say what to change: --name, --color or --description.")
    found = _with_id(await resolve_tag(ctx, tag, allow_deleted=True))
    wanted = {"name": name, "colour": color, "description": description}
    if not _unlike(found, wanted):
        # The cached copy already has it all: look again before saying nothing changes.
        fresh = find_tag(await ctx.site.tags(ctx.api, refresh=True), str(found.id))
        if fresh is not None and not _unlike(fresh, wanted):
            asked = [field for field, value in wanted.items() if value is not None]
            return unchanged(
                "Nothing to change",
                f"The tag {tag_label(fresh)} already has the {joined(asked)} asked for.",
                fields=_tag_fields(fresh),
                data=EditedTag(tag=tag_data(fresh), changed=False),
            )
        found = fresh or found
    if name is not None:
        clash = find_tag(await ctx.site.tags(ctx.api), name, by_id=False)
        if clash is not None and clash.id != found.id:
            raise CommandError(
                f"There is already a tag called `{data(clash.name)}` (id {clash.id}).",
                hint="Pick another name, or delete that tag first with `tags delete`.",
            )
    try:
        updated = await ctx.api.update_tag(
            found.id,  # type: ignore[arg-type]
            name=name,
            color=color,
            description=description,
        )
    except OutcomeUnknown as lost:
        return await settle(
            lost,
            ctx.api.list_tags,
            lambda lost, rows: _judge_edit(lost, rows, found, wanted),
            what=f"the tag {tag_label(found)} was changed",
            check="Type `tags --all` to see it as it is now.",
        )
    finally:
        ctx.site.drop_tags()
    return _updated_reply(updated, found)


def _updated_reply(updated: Tag, found: Tag) -> Reply:
    return Reply(
        title=f"Updated tag {data(updated.name or found.name)}",
        fields=_tag_fields(updated),
        kind=Kind.SUCCESS,
        data=EditedTag(tag=tag_data(updated), changed=True),
    )


def _judge_edit(
    lost: OutcomeUnknown, rows: list[Tag], found: Tag, wanted: dict[str, str | None]
) -> Reply:
    tag = next((t for t in rows if t.id == found.id), None)
    if tag is None:
        return not_applied(
            lost,
            f"Tag {tag_label(found)} not changed",
            "no tag with that id on this site",
            again="Type `tags --all` to see the tags.",
        )
    unlike = _unlike(tag, wanted)
    if unlike:
        return not_applied(
            lost,
            f"Tag {tag_label(found)} not changed",
            f"its {joined(unlike)} as before",
            again=RUN_AGAIN_SAFELY,
            fields=_tag_fields(tag),
        )
    return confirmed(lost, _updated_reply(tag, found))


@command(
    "tags delete",
    help="Delete a tag. Sessions keep it in their history; it can no longer be applied.",
    examples=["tags delete legacy-promo"],
    params=[
        _EXISTING_TAG,
    ],
    permission=Permission.MEMBER_WRITE,
    writes=True,
    cost="1 call: DELETE tags (tag list cached; +1 GET tags when cold or on a miss)",
    data=TagDeleted,
)
async def tags_delete(ctx: Context, tag: str) -> Reply:
    found = _with_id(await resolve_tag(ctx, tag, allow_deleted=True))
    if found.enabled is False:
        return unchanged(
            "Already deleted",
            f"The tag {tag_label(found)} is already deleted.",
            data=TagDeleted(tag=tag_data(found), changed=False),
        )
    try:
        await ctx.api.delete_tag(found.id)  # type: ignore[arg-type]
    finally:
        ctx.site.drop_tags()
    return Reply(
        title=f"Deleted tag {data(found.name)}",
        text="Sessions tagged with it keep it in their history; it can no longer be applied.",
        kind=Kind.SUCCESS,
        data=TagDeleted(tag={**tag_data(found), "enabled": False}, changed=True),
    )


def _unlike(tag: Tag, wanted: dict[str, str | None]) -> list[str]:
    """The fields asked for (``name``, ``colour``, ``description``) that ``tag`` lacks."""
    shown = {"name": tag.name, "colour": tag.color, "description": tag.description}
    return [
        field
        for field, value in wanted.items()
        if value is not None and not _same(shown[field], value, fold=field == "colour")
    ]


def _same(shown: str | None, wanted: str, *, fold: bool = False) -> bool:
    """Whether a read-back value is the one asked for (colours in any case)."""
    have, want = (shown or "").strip(), wanted.strip()
    return have.casefold() == want.casefold() if fold else have == want


def _tag_fields(tag: Tag) -> tuple[Field, ...]:
    return (
        Field("Name", na(tag.name)),
        Field("Id", na(tag.id)),
        Field("Colour", na(tag.color)),
        Field("Description", na(tag.description), inline=False),
    )
