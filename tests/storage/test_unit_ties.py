"""A unit is removed only while nothing names it: the one check (BlocRepo.unit_ties) must know
every column that names a unit, including those of tables added later."""

from __future__ import annotations

from typing import Any

from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (the tables, registered on the metadata)
from storage.repositories import UNIT_DRAFTS, UNIT_TIES


def _named(column: Any) -> tuple[str, str]:
    """(table, column) of an ORM attribute as `col()` gives it."""
    return column.table.name, column.name


def test_every_column_naming_a_unit_is_checked_or_cleared() -> None:
    naming = {
        (table.name, column.name)
        for table in SQLModel.metadata.tables.values()
        for column in table.columns
        if any(fk.column.table.name == "unit" for fk in column.foreign_keys)
    }
    assert ("attendance", "unit_id") in naming  # the metadata was read
    checked = {_named(column) for columns in UNIT_TIES.values() for column in columns}
    cleared = {(d.__tablename__, "unit_id") for d in UNIT_DRAFTS}
    # Invites are revoked and kept without the unit; members are counted (taken off first).
    handled = checked | cleared | {("invite", "unit_id"), ("membership", "unit_id")}
    assert naming - handled == set()
    # The officers are unit ids without a foreign key: checked all the same.
    assert {("bloc", "leader_unit_id"), ("bloc", "deputy_unit_id")} <= checked
