"""What a canary asks of an export's schema, worked out once per schema rather than once per canary.

A canary is drawn about every 30 rows and each asked the schema the same
questions (which columns hold items, amounts, times, identifiers, which
people there are and which of their columns hold a name or an address);
asked per canary, they cost as much as a canary's address draws.  The answers
are the schema's alone, so ``layout`` keeps them for the schema object.
"""

from __future__ import annotations

from dataclasses import dataclass

from .canary_values import is_person
from .columns import Column, Schema

REGION_KINDS = ("city", "state", "zip")


@dataclass(frozen=True)
class Party:
    phone: Column | None
    members: tuple[Column, ...]  # name, address, email columns of this party (and its phone)

    @property
    def name(self) -> Column | None:
        """The party's name column, if it has one."""
        return next((c for c in self.members if c.kind == "name"), None)


def parties(schema: Schema) -> list[Party]:
    """The export's people: each phone column with the person columns paired to it."""
    person = [c for c in schema.columns
              if c.kind in ("address", "email") or (c.kind == "name" and is_person(c))]
    phones = schema.of_kind("phone")
    if not phones:
        return [Party(None, tuple(person))]
    groups = {p.index: [p] for p in phones}
    for column in person:
        phone = schema.party_phone(column)
        groups[phone.index if phone is not None else phones[0].index].append(column)
    return [Party(p, tuple(groups[p.index])) for p in phones]


@dataclass(frozen=True)
class Layout:
    """A schema's columns as ``make_canary`` takes them, in the order it draws them."""

    items: tuple[int, ...]  # item columns: an amount is taken from a row with the same items
    numbers: tuple[int, ...]  # amount and weight columns
    parties: tuple[Party, ...]
    addressed: tuple[bool, ...]  # per party: whether it has an address (the canary's region is its home's)
    names: tuple[Column | None, ...]  # per party: its name column
    fitted: tuple[tuple[str, int], ...]  # ('region' | 'datetime' | 'id', column), in column order

    @classmethod
    def of(cls, schema: Schema) -> "Layout":
        groups = tuple(parties(schema))
        fitted = tuple(("region" if c.kind in REGION_KINDS else c.kind, c.index) for c in schema.columns
                       if c.kind in REGION_KINDS or c.kind in ("datetime", "id"))
        return cls(tuple(c.index for c in schema.of_kind("item")), tuple(c.index for c in schema.of_kind("number")),
                   groups, tuple(any(c.kind == "address" for c in p.members) for p in groups),
                   tuple(p.name for p in groups), fitted)


_LAYOUTS: dict[int, tuple[Schema, Layout]] = {}  # id(schema) -> (schema, its layout): an export has one schema
LAYOUTS_KEPT = 64


def layout(schema: Schema) -> Layout:
    """``Layout.of(schema)``, made once for each schema object (looked up by identity: hashing a schema
    hashes every column)."""
    found = _LAYOUTS.get(id(schema))
    if found is None or found[0] is not schema:
        if len(_LAYOUTS) >= LAYOUTS_KEPT:
            _LAYOUTS.clear()
        found = _LAYOUTS[id(schema)] = (schema, Layout.of(schema))
    return found[1]
