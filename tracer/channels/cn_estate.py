"""Marks in Chinese addresses that a canonical re-parse keeps: the estate written with or without 小区.

``…长江路43号锦绣花园小区17栋…`` (1) / ``…长江路43号锦绣花园17栋…`` (0).
Residents, couriers and maps write a residential estate's name both ways;
it is the same estate.  An address parser that rejoins province, city,
district, road, number, building, unit and room in one form (cpca, or a
broker's own) has no field for the estate and keeps its name verbatim, so
this slot survives where the province, city and building spellings do not.
(A broker who knows to strip 小区 erases it: nothing a parser models is safe.)

One slot, ``cn_address.estate``, on the first estate of the cell that

* starts right after a house number's ``号`` or a district's ``区``/``县``/``旗``
  (so the text before it fixes where the name starts, and no province or
  city slot can read the name as a district: those always meet the district
  first);
* is one to six name characters ending in a residential word (花园, 家园,
  新村, 新城, 山庄, 苑, 园, 城, 府, 庭, 湾, 居): ``中心大厦`` or ``时代广场``
  are offices, never given 小区;
* is followed, after the optional ``小区``, by a building number (a digit):
  that fixes where the name ends, in both variants.

Name characters exclude road and administrative words (路 街 巷 弄 道 号 区
县 市 省 旗), so ``锦绣花园小区`` can only be the name ``锦绣花园`` plus 小区.
"""

from __future__ import annotations

import re

from tracer.channels._base import MarkSlot, Site, canonical_form, han_except

_NAME = f"[{han_except('路街巷弄道号区县市省旗')}]"
_RESIDENTIAL = "花园|家园|新村|新城|山庄|苑|园|城|府|庭|湾|居"
_ESTATE = re.compile(rf"(?<=[号区县旗])(?P<name>{_NAME}{{1,6}}?(?:{_RESIDENTIAL}))(?P<xq>小区)?(?=[0-9])")


class EstateXiaoqu(MarkSlot):
    """Estate name followed by 小区 (1) or not (0)."""

    NAME = "cn_address.estate"
    COLUMN_KINDS = ("address",)

    def locate(self, cell: str) -> Site | None:
        match = _ESTATE.search(cell)
        if match is None:
            return None
        name = match.group("name")
        long = match.group("xq") is not None
        return Site(match.start("name"), match.end(), int(long), (name, name + "小区"))


SLOTS: tuple[MarkSlot, ...] = (EstateXiaoqu(),)


def canonical(cell: str) -> str:
    """The estate written with 小区: the same for both variants."""
    return canonical_form(SLOTS, cell)
