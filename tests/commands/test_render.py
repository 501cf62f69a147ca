"""Plain-text tables: every cell whole; at a terminal's width, long cells wrap in their column."""

from __future__ import annotations

from commands.render import render_table, text_width
from commands.reply import Table

TABLE = Table.of(
    ["command", "what it does"],
    [
        ["/mlc tag", "Tag a chat session with one or more tags, by name or id."],
        ["/mlc x", "a-very-long-word-that-is-wider-than-any-column-could-be-at-this-width ok"],
        ["/mlc 表", "全角の文字は二列を使います、それでも切られません。"],
    ],
)


def _split_at(line: str, columns: int) -> tuple[str, str]:
    """``line`` cut after ``columns`` terminal columns (wide characters count two)."""
    taken = 0
    for index, char in enumerate(line):
        if taken >= columns:
            return line[:index], line[index:]
        taken += text_width(char)
    return line, ""


def _column(lines: list[str], start: int) -> list[str]:
    """Each row's text in the column from ``start``, its wrapped lines joined back."""
    rows: list[str] = []
    for line in lines[2:]:
        head, tail = _split_at(line, start)
        tail = tail.strip()
        if head.strip():
            rows.append(tail)
        else:
            rows[-1] += (" " if rows[-1] and not rows[-1].endswith("-") else "") + tail
    return rows


def test_without_a_width_every_cell_is_whole_on_its_line() -> None:
    lines = render_table(TABLE)

    assert len(lines) == 2 + len(TABLE.rows)
    for row, line in zip(TABLE.rows, lines[2:], strict=True):
        assert line.endswith(row.cells[1])
    assert "…" not in "".join(lines)


def test_at_a_width_lines_fit_and_cells_wrap_without_losing_a_character() -> None:
    lines = render_table(TABLE, width=40)

    assert all(text_width(line) <= 40 for line in lines), lines
    start = lines[0].index("what it does")
    wrapped = _column(lines, start)
    assert wrapped[0] == TABLE.rows[0].cells[1]
    assert "".join(wrapped[1].split()) == "".join(TABLE.rows[1].cells[1].split())
    assert "".join(wrapped[2].split()) == TABLE.rows[2].cells[1]
