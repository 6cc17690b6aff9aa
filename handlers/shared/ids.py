"""Ids in callback data. A tampered client can send any number; one no database column can hold would make the
lookup itself fail, so such data does not parse (the button then gets the stale-button answer)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

RowId = Annotated[int, Field(ge=0, lt=2**31)]  # a primary key (INTEGER on PostgreSQL), 0 = none
