"""Reading a scoring table (bảng chấm điểm) from a YAML, CSV or XLSX file sent in chat.

YAML keeps the table's structure (groups of criteria, a bonus and a penalty section, each
with an optional cap); CSV and XLSX carry one item per row in the columns
``Loại | Nhóm | Mã | Nội dung | Điểm tối đa``. Either way the raw rows, with the line each
came from, go through :func:`bot.core.scoring.build_table`, so every bad row is named.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PureWindowsPath

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.core.scoring import ScoringTable, TableRow, TableRowProblem, build_table
from bot.core.text import clean, fold_diacritics
from bot.services.filecheck import ContentRefused
from bot.services.tabular import MAX_FILE_BYTES, MAX_ROWS, Unreadable, read_table

_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_HEADER_WORDS = frozenset({"loai", "kind"})
_TITLE_WORDS = frozenset({"tieu de", "title"})
_TOP_KEYS = frozenset({"title", "groups", "bonus", "penalty"})
_GROUP_KEYS = frozenset({"title", "criteria"})
_SECTION_KEYS = frozenset({"cap", "items"})
_COLUMNS = 5  # kind, group, code, title, max
TABLE_FILE_KINDS = ("yaml", "yml", "xlsx", "csv", "txt")


@dataclass(frozen=True, slots=True)
class TableRefused:
    """Why a table file was not taken: its rows' problems, or why it could not be read.

    ``unreadable`` uses the vocabulary of :class:`bot.services.tabular.Unreadable` ("type",
    "size", "encoding", "broken", "empty", "rows", "wide") plus "content" (see ``file``),
    "yaml" (a YAML syntax error or a tag outside the plain types), "alias" (anchors and
    aliases or merge keys, refused because they can expand without bound) and "shape" (YAML
    whose structure is not that of a scoring table).
    """

    problems: tuple[TableRowProblem, ...] = ()
    unreadable: str | None = None
    file: ContentRefused | None = None  # unreadable "content": what the content check found


def read_scoring_table(filename: str, data: bytes) -> ScoringTable | TableRefused:
    """The table in a .yaml/.yml, .csv/.txt or .xlsx file, or why it was refused."""
    if len(data) > MAX_FILE_BYTES:
        return TableRefused(unreadable="size")
    if filename.lower().endswith((".yaml", ".yml")):
        read = _yaml_rows(data)
    else:
        read = _tabular_rows(filename, data)
    if isinstance(read, TableRefused):
        return read
    title, rows = read
    if len(rows) > MAX_ROWS:
        return TableRefused(unreadable="rows")
    built = build_table(clean(title) or _stem(filename), rows)
    if isinstance(built, list):
        return TableRefused(problems=tuple(built))
    return built


def _stem(filename: str) -> str:
    """The file name without folders or extension: the title when the file gives none."""
    return clean(os.path.splitext(PureWindowsPath(filename).name)[0])


# --- CSV and XLSX ----------------------------------------------------------------------


def _tabular_rows(filename: str, data: bytes) -> tuple[str, list[TableRow]] | TableRefused:
    table = read_table(filename, data)
    if isinstance(table, Unreadable):
        return TableRefused(unreadable=table.why)
    title = ""
    rows: list[TableRow] = []
    for line, raw in table:
        cells = [clean(c) for c in raw[:_COLUMNS]]
        cells += [""] * (_COLUMNS - len(cells))
        if not any(cells):
            continue
        first = fold_diacritics(cells[0])
        if first in _HEADER_WORDS:
            continue
        if first in _TITLE_WORDS and not rows:
            title = title or cells[1]
            continue
        kind, group, code, item_title, max_text = cells
        rows.append(TableRow(line, kind, group, code, item_title, max_text))
    return title, rows


# --- YAML ------------------------------------------------------------------------------


class _ShapeError(Exception):
    """The YAML parsed but is not a scoring table."""


class _TooManyRowsError(Exception):
    """More rows (or YAML nodes) than any scoring table has: stop early."""


class _AliasError(Exception):
    """An alias (*x) or a merge key (<<): a few bytes can stand for millions of nodes."""


class _TagError(Exception):
    """A tag outside YAML's plain types (!!python/…, !!binary, !custom…)."""


# The plain YAML types a table is written in; anything else is refused, not constructed.
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "value", "map", "seq")
)
# A table of MAX_ROWS items, each a mapping of three fields, takes about 7 nodes per row.
MAX_NODES = 10 * MAX_ROWS


class _TableLoader(yaml.SafeLoader):
    """Composes nodes only (nothing is constructed), refusing aliases and counting nodes.

    Composing keeps an alias as a second reference to one node, but anything that expands
    the graph (constructing it, merge keys) can turn a few hundred bytes into gigabytes, so
    an alias is refused as soon as it is met, and so is a document of too many nodes.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.nodes = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            raise _AliasError
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooManyRowsError
        return super().compose_node(parent, index)


def _yaml_rows(data: bytes) -> tuple[str, list[TableRow]] | TableRefused:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return TableRefused(unreadable="encoding")
    try:
        loader = _TableLoader(text)  # checks for unprintable characters already
    except yaml.YAMLError:
        return TableRefused(unreadable="yaml")
    try:
        root = loader.get_single_node()
        if root is None:
            return TableRefused(unreadable="empty")
        _check_tags(root)
        return _table_from_nodes(root)
    except (yaml.YAMLError, _TagError):
        return TableRefused(unreadable="yaml")
    except _AliasError:
        return TableRefused(unreadable="alias")
    except _ShapeError:
        return TableRefused(unreadable="shape")
    except _TooManyRowsError:
        return TableRefused(unreadable="rows")
    finally:
        loader.dispose()


def _check_tags(root: Node) -> None:
    """Every node is a plain map, list or scalar; a merge key (<<) has its own tag."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.tag not in _PLAIN_TAGS:
            raise _AliasError if node.tag == _MERGE_TAG else _TagError
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.extend((key, value))


def _table_from_nodes(root: Node) -> tuple[str, list[TableRow]]:
    top = _mapping(root, _TOP_KEYS)
    if "groups" not in top:
        raise _ShapeError
    title = _text(top["title"]) if "title" in top else ""
    rows: list[TableRow] = []
    for group_node in _sequence(top["groups"]):
        group = _mapping(group_node, _GROUP_KEYS)
        if "criteria" not in group:
            raise _ShapeError
        group_title = _text(group["title"]) if "title" in group else ""
        for item in _sequence(group["criteria"]):
            rows.append(_item_row(item, "criterion", group_title))
            _check_count(rows)
    for section_name in ("bonus", "penalty"):
        if section_name in top:
            rows.extend(_section_rows(top[section_name], section_name))
            _check_count(rows)
    return title, rows


def _section_rows(node: Node, kind: str) -> list[TableRow]:
    """A bonus or penalty section: ``{cap: 5, items: [...]}``, or just the list of items."""
    if isinstance(node, SequenceNode):
        return [_item_row(item, kind, "") for item in node.value]
    section = _mapping(node, _SECTION_KEYS)
    rows: list[TableRow] = []
    if "cap" in section:
        cap = section["cap"]
        rows.append(TableRow(_line(cap), f"{kind} cap", "", "", "", _scalar(cap)))
    if "items" in section:
        rows.extend(_item_row(item, kind, "") for item in _sequence(section["items"]))
    return rows


def _item_row(node: Node, kind: str, group: str) -> TableRow:
    """One item mapping; a missing or non-text field becomes empty, so build_table names it."""
    if not isinstance(node, MappingNode):
        raise _ShapeError
    fields: dict[str, Node] = {}
    for key, value in node.value:
        if isinstance(key, ScalarNode):
            fields.setdefault(key.value, value)
    code, title, max_text = (
        _scalar(fields[name]) if name in fields else "" for name in ("code", "title", "max")
    )
    return TableRow(_line(node), kind, group, code, title, max_text)


def _mapping(node: Node, keys: frozenset[str]) -> dict[str, Node]:
    """A mapping whose keys are all known (a misspelt key would silently drop data)."""
    if not isinstance(node, MappingNode):
        raise _ShapeError
    found: dict[str, Node] = {}
    for key, value in node.value:
        if not isinstance(key, ScalarNode) or key.value not in keys or key.value in found:
            raise _ShapeError
        found[key.value] = value
    return found


def _sequence(node: Node) -> list[Node]:
    if isinstance(node, ScalarNode) and node.tag == _NULL_TAG:
        return []  # "criteria:" with nothing under it
    if not isinstance(node, SequenceNode):
        raise _ShapeError
    return list(node.value)


def _text(node: Node) -> str:
    if not isinstance(node, ScalarNode):
        raise _ShapeError
    return _scalar(node)


def _scalar(node: Node) -> str:
    """A scalar as written (``1.10`` stays "1.10", ``9,5`` stays "9,5"); anything else is ""."""
    if not isinstance(node, ScalarNode) or node.tag == _NULL_TAG:
        return ""
    return clean(str(node.value))


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _check_count(rows: list[TableRow]) -> None:
    if len(rows) > MAX_ROWS:
        raise _TooManyRowsError
