"""Canaries carry only what the export's own rows carry: given names, room numbers, email styles.

The property that defeats a broker who reads tracer's (public) lists: on an
export whose given names are all off faker's list, no canary brings one in.
"""

from __future__ import annotations

import re

from faker.providers.person.zh_CN import Provider as ChineseNames
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tracer import api

from .conftest import read_csv, write_csv

# Modern given names, none of them on faker's zh_CN list (checked below).
GIVEN = ("浩杰", "鹏阳", "健宇", "睿", "昊", "梓萱", "一诺", "沐辰", "煜", "子墨", "语桐", "皓轩", "芮", "钰", "奕辰")
SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄")
ESTATES = ("浙江省杭州市余杭区五常大道18号翠湖雅苑", "上海市浦东新区锦绣路1188弄星河湾")
HEADER = ["运单号", "收件人", "收件人电话", "收件地址", "重量(kg)"]
ROOM = re.compile(r"(\d+)(?:栋|-)(\d+)(?:单元|-)(\d+)室?$")

person = st.tuples(st.sampled_from(SURNAMES), st.sampled_from(GIVEN), st.sampled_from(ESTATES),
                   st.integers(1, 9), st.integers(1, 2), st.integers(1, 33), st.integers(1, 4))


def _export(work, rows):
    source = write_csv(work / "source.csv", HEADER, rows)
    registry = work / "tracer.db"
    api.init(registry)
    api.add_account(registry, "li")
    return api.export(registry, source, account="li", output=work / "out.csv")


def test_an_export_with_nothing_to_draw_a_new_name_from_says_so(tmp_path):
    rows = [[f"SF{i:09d}", "王浩杰", f"1390000{i:04d}", f"{ESTATES[0]}1栋1单元{i + 1}01室", "1.5"] for i in range(40)]
    result = _export(tmp_path, rows)
    assert result.canary_fallback  # every row is 王浩杰: the canary's name came from faker's list


def test_the_given_names_are_off_fakers_list():
    assert not set(GIVEN) & set(ChineseNames.first_names)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(people=st.lists(person, min_size=30, max_size=160), salt=st.integers(0, 10**6))
def test_no_canary_carries_a_given_name_or_room_the_real_rows_do_not(people, salt, tmp_path_factory):
    work = tmp_path_factory.mktemp("draws")
    rows = [[f"SF{salt:07d}{i:06d}", s + g, f"139{salt % 10**4:04d}{i:04d}", f"{e}{b}栋{u}单元{f * 100 + d}室",
             f"{1 + i % 7}.{i % 10}"] for i, (s, g, e, b, u, f, d) in enumerate(people)]
    givens, rooms, names = {r[1][1:] for r in rows}, {ROOM.search(r[3]).group(3) for r in rows}, {r[1] for r in rows}
    assume({s + g for s in {r[1][:1] for r in rows} for g in givens} - names)  # a new person can be made
    result = _export(work, rows)
    assert result.canaries >= 1 and not result.canary_fallback
    ids = {r[0] for r in rows}
    canaries = [r for r in read_csv(work / "out.csv")[1] if r[0] not in ids]
    assert len(canaries) == result.canaries
    for canary in canaries:
        assert canary[1][1:] in givens and canary[1][:1] in SURNAMES
        assert ROOM.search(canary[3]).group(3) in rooms
