"""Reading Block Kit the way a user sees it: the text, the buttons, the selects."""

from __future__ import annotations

from typing import Any

__all__ = ["buttons_of", "check_limits", "selects_of", "text_of"]


def text_of(blocks: list[dict[str, Any]]) -> str:
    """Every piece of text the blocks show, one per line."""
    out: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
                out.append(str(node["text"]))
                return
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(blocks)
    return "\n".join(out)


def _elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for block in blocks:
        found.extend(block.get("elements", []) if block["type"] == "actions" else [])
        if "accessory" in block:
            found.append(block["accessory"] | {"_block_id": block.get("block_id", "")})
    return found


def buttons_of(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Buttons by label; the label of a repeated button gets `#2`, `#3`..."""
    found: dict[str, dict[str, Any]] = {}
    for element in _elements(blocks):
        if element["type"] != "button":
            continue
        label, n = element["text"]["text"], 1
        while (label if n == 1 else f"{label}#{n}") in found:
            n += 1
        found[label if n == 1 else f"{label}#{n}"] = element
    return found


def selects_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in _elements(blocks) if e["type"] == "static_select"]


def check_limits(blocks: list[dict[str, Any]]) -> None:
    """Fail if the blocks break any Block Kit limit Slack enforces."""
    assert len(blocks) <= 50, f"{len(blocks)} blocks"
    action_ids: list[str] = []
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            assert len(block["text"]["text"]) <= 150
        if kind == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10
            assert all(len(f["text"]) <= 2000 for f in fields)
            assert "text" in block or fields
        if kind == "context":
            assert 1 <= len(block["elements"]) <= 10
        if kind == "actions":
            assert 1 <= len(block["elements"]) <= 25
        for element in _elements([block]):
            action_ids.append(element["action_id"])
            if element["type"] == "button":
                assert len(element["text"]["text"]) <= 75
                assert len(element.get("value", "")) <= 2000
            else:
                assert len(element["options"]) <= 100
                assert all(len(o["value"]) <= 150 for o in element["options"])
    assert len(action_ids) == len(set(action_ids)), "action ids must be unique in a message"
