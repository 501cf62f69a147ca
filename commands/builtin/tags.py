"""tag, untag, tags, tags add, tags edit, tags delete."""

from __future__ import annotations

from typing_extensions import TypedDict

from bot.mylivechat import BadRequest, OutcomeUnknown, Tag
from commands.context import Context
from commands.data import TagData, tag_data
from commands.errors import CommandError, UsageError
from commands.formatting import count, data, joined, na, tag_label, tag_row
from commands.params import SESSION_ID, TAG_NAME_MAX_LENGTH
from commands.readback import RUN_AGAIN, confirmed, not_applied, settle
from commands.reply import Action, Field, Kind, Reply, Table
from commands.spec import Param, ParamType, Permission, Source, command
from commands.tagging import enabled_tags, find_tag, resolve_tag

_TAG_REF = Param(
    "tag",
    ParamType.TEXT,
    "a tag name (any case) or its numeric id",
    positional=True,
    required=True,
    complete=Source.TAG,
    max_length=TAG_NAME_MAX_LENGTH,
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


async def _tag_for_session(
    ctx: Context, session_id: str, ref: str, *, allow_deleted: bool = False
) -> Tag:
    """The tag to apply or remove; spots ``tag vip s_123`` (arguments swapped)."""
    try:
        found = await resolve_tag(ctx, ref, allow_deleted=allow_deleted)
    except CommandError:
        # The failed lookup just refreshed the list, so this costs no call.
        if find_tag(await ctx.site.tags(ctx.api), session_id) is not None:
            raise UsageError(
                f"`{data(session_id)}` is a tag, not a session id: the session comes first."
            ) from None
        raise
    return _with_id(found)


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


def _session_tags(session_id: str, tag: Tag, changed: bool) -> SessionTagsData:
    return {"session_id": session_id, "tags": [{"tag": tag_data(tag), "changed": changed}]}


class TagsData(TypedDict):
    tags: list[TagData]
    """The enabled tags; with --all, the deleted ones too (enabled: false)."""
    deleted_not_shown: int


class EditedTag(TypedDict):
    tag: TagData


class TagCreated(TypedDict):
    tag: TagData
    created: bool
    """False when a tag of that name existed: it is returned unchanged."""


class TagDeleted(TypedDict):
    tag: TagData
    changed: bool
    """False when it was already deleted."""


@command(
    "tag",
    help="Tag a chat session, by tag name or id.",
    examples=["tag s_8f2a91c0d4e1 vip", "tag s_8f2a91c0d4e1 42"],
    params=[SESSION_ID, _TAG_REF],
    writes=True,
    cost="1 call: POST apply_tag (tag list cached; +1 GET tags when cold or on a miss)",
    data=SessionTagsData,
)
async def tag(ctx: Context, session_id: str, tag: str) -> Reply:
    found = await _tag_for_session(ctx, session_id, tag)
    try:
        applied = await ctx.api.apply_tag(session_id, found.id)  # type: ignore[arg-type]
    except BadRequest:
        ctx.site.drop_tags()  # e.g. the tag was deleted in the dashboard since we cached it
        raise
    if applied.created is False:
        return Reply(
            title="Already tagged",
            text=f"Session `{data(session_id)}` already has the tag `{data(found.name)}`.",
            data=_session_tags(session_id, found, changed=False),
        )
    return Reply(
        title="Tagged",
        text=f"Session `{data(session_id)}` is now tagged `{data(found.name)}`.",
        kind=Kind.SUCCESS,
        actions=(Action("Undo", f"untag {session_id} {found.id}"),),
        data=_session_tags(session_id, found, changed=True),
    )


@command(
    "untag",
    help="Take a tag off a chat session, by tag name or id.",
    examples=["untag s_8f2a91c0d4e1 vip"],
    params=[SESSION_ID, _TAG_REF],
    writes=True,
    cost="1 call: DELETE apply_tag (tag list cached; +1 GET tags when cold or on a miss)",
    data=SessionTagsData,
)
async def untag(ctx: Context, session_id: str, tag: str) -> Reply:
    found = await _tag_for_session(ctx, session_id, tag, allow_deleted=True)
    removed = await ctx.api.remove_tag(session_id, found.id)  # type: ignore[arg-type]
    if not removed.removed:
        return Reply(
            title="Was not tagged",
            text=f"Session `{data(session_id)}` did not have the tag `{data(found.name)}`; "
            "nothing changed.",
            data=_session_tags(session_id, found, changed=False),
        )
    return Reply(
        title="Tag removed",
        text=f"Session `{data(session_id)}` no longer has the tag `{data(found.name)}`.",
        kind=Kind.SUCCESS,
        data=_session_tags(session_id, found, changed=True),
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
    help="Create a tag. Adding a name that exists returns that tag unchanged.",
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
    cost="1 call: POST tags",
    data=TagCreated,
)
async def tags_add(
    ctx: Context, name: str, color: str | None = None, description: str | None = None
) -> Reply:
    try:
        created = await ctx.api.create_tag(name, color=color, description=description)
    finally:
        ctx.site.drop_tags()
    if created.created is False:
        state = (
            "It is deleted, and MyLiveChat kept it that way."
            if created.enabled is False
            else "It is enabled and can be applied."
        )
        kept = (color is not None and color != created.color) or (
            description is not None and description != created.description
        )
        notes = ("Its colour and description were kept; change them with `tags edit`.",)
        return Reply(
            title="Tag already exists",
            text=f"The tag `{data(created.name)}` already exists (id {na(created.id)}). {state}",
            fields=_tag_fields(created),
            notes=notes if kept else (),
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
        wanted = {"name": name, "colour": color, "description": description}
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
        data=EditedTag(tag=tag_data(updated)),
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
    shown = {"name": tag.name, "colour": tag.color, "description": tag.description}
    unlike = [
        field
        for field, value in wanted.items()
        if value is not None and not _same(shown[field], value, fold=field == "colour")
    ]
    if unlike:
        return not_applied(
            lost,
            f"Tag {tag_label(found)} not changed",
            f"its {joined(unlike)} as before",
            again=f"{RUN_AGAIN} Running it twice changes nothing more.",
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
        return Reply(
            title="Already deleted",
            text=f"The tag {tag_label(found)} is already deleted.",
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
