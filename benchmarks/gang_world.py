"""Waybills made by code that shares nothing with tracer nor with the fixtures' generator.

No faker and no tracer import: names, places, estates, items and the way
people write addresses come from the small lists below, drawn with
``random.Random(seed)``.  The spellings are mixed as real exports are
(``江苏省``/``江苏``, ``3栋2单元301室``/``3-2-301``/``3号楼``, an estate name
with or without ``小区``, phones compact or grouped), so that tracer's
channels meet the data as they are, not as tracer would write them.
Senders are a few hundred shops that recur; recipients rarely do.
"""

from __future__ import annotations

import datetime as dt
import random

HEADER = ["运单号", "寄件人", "寄件人电话", "寄件地址", "收件人", "收件人电话", "收件地址", "物品", "重量(kg)", "下单时间"]

# province (full name, short name) -> city -> districts
PLACES = {
    ("江苏省", "江苏"): {"南京": ["鼓楼区", "建邺区", "江宁区", "栖霞区"], "苏州": ["姑苏区", "虎丘区", "相城区"],
                     "无锡": ["梁溪区", "滨湖区"], "徐州": ["云龙区", "泉山区"]},
    ("浙江省", "浙江"): {"杭州": ["西湖区", "拱墅区", "余杭区", "萧山区"], "宁波": ["海曙区", "鄞州区"], "温州": ["鹿城区", "瓯海区"]},
    ("广东省", "广东"): {"广州": ["越秀区", "海珠区", "白云区", "番禺区"], "深圳": ["福田区", "南山区", "龙岗区"],
                     "东莞": ["南城街道", "东城街道"], "佛山": ["禅城区", "南海区"]},
    ("山东省", "山东"): {"济南": ["历下区", "市中区", "槐荫区"], "青岛": ["市南区", "李沧区", "黄岛区"]},
    ("湖北省", "湖北"): {"武汉": ["江岸区", "武昌区", "洪山区", "汉阳区"], "宜昌": ["西陵区", "伍家岗区"]},
    ("四川省", "四川"): {"成都": ["锦江区", "青羊区", "武侯区", "双流区"], "绵阳": ["涪城区", "游仙区"]},
    ("河南省", "河南"): {"郑州": ["金水区", "二七区", "中原区"], "洛阳": ["西工区", "涧西区"]},
    ("北京市", "北京"): {"": ["朝阳区", "海淀区", "丰台区", "东城区"]},
    ("上海市", "上海"): {"": ["浦东新区", "徐汇区", "闵行区", "静安区"]},
}
ROADS = ["人民路", "建设路", "解放路", "和平路", "新华路", "胜利街", "光明大道", "长江路", "黄河路", "文化路", "学院路",
         "青年路", "工业大道", "朝阳街", "东风路", "滨河路", "桂花巷", "幸福街", "花园路", "振兴大道"]
ESTATES = ["翠竹苑", "金桂花园", "碧水家园", "南湖新村", "锦华苑", "阳光花园", "望江华府", "紫薇园", "海棠湾", "御景城",
           "枫林苑", "东湖花园", "梧桐家园", "嘉和新城", "丹桂苑"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红燕建华晨宇浩然梓涵欣怡子轩思远雨桐佳琪一鸣文博"
SHOP_WORDS = ["优品", "鲜果", "潮玩", "书香", "良品", "茶语", "衣橱", "数码", "家居", "母婴"]
ITEMS = ["文件", "服装", "鞋靴", "数码配件", "食品", "图书", "化妆品", "日用品", "玩具", "家居用品", "茶叶", "水果"]
SEGMENTS = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "157",
            "158", "159", "166", "171", "173", "176", "177", "180", "181", "182", "183", "185", "186", "187", "188",
            "189", "191", "198", "199"]


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        number = rng.choice(SEGMENTS) + f"{rng.randrange(10 ** 8):08d}"
        if number not in used:
            used.add(number)
            return number


def _written_phone(rng: random.Random, number: str) -> str:
    return number if rng.random() < 0.85 else f"{number[:3]} {number[3:7]} {number[7:]}"


def _person(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def _address(rng: random.Random) -> str:
    (province, short), cities = rng.choice(list(PLACES.items()))
    city = rng.choice(list(cities))
    district = rng.choice(cities[city])
    head = province if rng.random() < 0.8 else short
    if city:
        head += city + ("市" if rng.random() < 0.85 else "")
    head += district
    road = f"{rng.choice(ROADS)}{rng.randint(1, 399)}号"
    estate = rng.choice(ESTATES) + ("小区" if rng.random() < 0.3 else "")
    place = rng.random()
    if place < 0.35:
        body = road
    elif place < 0.55:
        body = estate
    else:
        body = road + estate
    b, u, r = rng.randint(1, 30), rng.randint(1, 6), rng.randint(1, 28) * 100 + rng.randint(1, 4)
    form = rng.random()
    if form < 0.4:
        body += f"{b}栋{u}单元{r}室"
    elif form < 0.55:
        body += f"{b}-{u}-{r}"
    elif form < 0.65:
        body += f"{b}号楼{r}室"
    elif form < 0.72:
        body += f"{b}幢"
    return head + body


def make_waybills(n: int, seed: int, prefix: str = "ZT") -> tuple[list[str], list[list[str]]]:
    """``n`` waybills, in time order, from a few hundred recurring shops to mostly new recipients."""
    rng = random.Random(seed)
    used: set[str] = set()
    shops = [(_person(rng) if rng.random() < 0.3 else rng.choice(SHOP_WORDS) + rng.choice(("小店", "旗舰店", "工作室")),
              _phone(rng, used), _address(rng)) for _ in range(max(20, n // 60))]
    customers: list[tuple[str, str, str]] = []
    when = dt.datetime(2024, 3, 1, 8, 0, 0)
    ids = rng.sample(range(10 ** 12, 10 ** 13), n)
    rows = []
    for k in range(n):
        sender = rng.choice(shops)
        if customers and rng.random() < 0.08:
            recipient = rng.choice(customers)
        else:
            recipient = (_person(rng), _phone(rng, used), _address(rng))
            customers.append(recipient)
        when += dt.timedelta(seconds=rng.randint(5, 400))
        weight = f"{rng.uniform(0.1, 25):.1f}" if rng.random() < 0.8 else str(rng.randint(1, 30))
        rows.append([f"{prefix}{ids[k]}", sender[0], _written_phone(rng, sender[1]), sender[2],
                     recipient[0], _written_phone(rng, recipient[1]), recipient[2], rng.choice(ITEMS), weight,
                     when.strftime("%Y-%m-%d %H:%M:%S")])
    return list(HEADER), rows
