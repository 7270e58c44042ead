"""A courier-waybill world tracer did not make: modern Chinese names, estates numbered by floor and door.

Shares no list and no code with ``tracer/`` (nor with faker, which tracer
uses): every table below was written for this benchmark, from general
knowledge, and is an *approximation*, not a copy of a published table:

- surnames and their shares follow the order and rough sizes of the 2020
  census surname ranking (王 李 张 刘 陈 ...; the top five ≈ 30 % of people);
- given names are the kind adults born 1975-2005 carry, after the
  public-security ministry's yearly name reports (the top names of the 1980s
  and 1990s: 伟 磊 静 敏 涛, 浩然 子轩 欣怡 ...), a third of them one
  character; their frequencies are Zipf-shaped (weight 1/rank), not measured;
- addresses are estates (小区) whose buildings have a height, units and 2-4
  doors per floor, so rooms are floor*100 + door (302, 1201, 2402), written
  in the estate's own style (3栋2单元1201室, 3号楼1201, 3-2-1201), or a road
  and house number for shops and offices.

Shops (repeat senders) send most parcels; customers come back now and then;
times run in order over a month, busiest in the evening.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

HEADER = ["运单号", "寄件人", "寄件人电话", "寄件地址", "收件人", "收件人电话", "收件地址", "物品", "重量(kg)", "下单时间"]

SURNAMES = (  # (surname, share in per mille, approximate)
    ("王", 71), ("李", 70), ("张", 63), ("刘", 54), ("陈", 45), ("杨", 31), ("黄", 22), ("赵", 20), ("吴", 19),
    ("周", 19), ("徐", 15), ("孙", 15), ("马", 14), ("朱", 13), ("胡", 12), ("郭", 11), ("何", 11), ("林", 10),
    ("高", 10), ("罗", 10), ("郑", 9), ("梁", 9), ("谢", 8), ("宋", 7), ("唐", 7), ("许", 7), ("韩", 7), ("邓", 7),
    ("冯", 7), ("曹", 6), ("彭", 6), ("曾", 6), ("肖", 6), ("田", 5), ("董", 5), ("潘", 5), ("袁", 5), ("蔡", 5),
    ("蒋", 5), ("余", 5), ("于", 5), ("杜", 5), ("叶", 4), ("程", 4), ("魏", 4), ("苏", 4), ("吕", 4), ("丁", 4),
    ("任", 4), ("卢", 4), ("姚", 4), ("沈", 4), ("钟", 4), ("姜", 4), ("崔", 3), ("谭", 3), ("陆", 3), ("范", 3),
    ("汪", 3), ("廖", 3), ("石", 3), ("金", 3), ("韦", 3), ("贾", 3), ("夏", 3), ("付", 3), ("方", 3), ("邹", 2),
    ("熊", 2), ("白", 2), ("孟", 2), ("秦", 2), ("邱", 2), ("侯", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2),
    ("段", 2), ("雷", 2), ("龙", 2), ("黎", 2), ("史", 2), ("陶", 2), ("贺", 2), ("毛", 2), ("郝", 2), ("顾", 2),
    ("龚", 2), ("邵", 2), ("万", 1), ("覃", 1), ("武", 1), ("钱", 1), ("戴", 1), ("严", 1), ("莫", 1), ("孔", 1),
    ("欧阳", 1), ("上官", 1), ("诸葛", 1),
)
# Given names, most common first (Zipf weights): one character, then two; men's and women's mixed.
GIVEN_ONE = ("伟 磊 静 敏 涛 婷 杰 浩 鑫 丹 超 勇 鹏 军 颖 帅 琳 洁 娟 倩 燕 斌 波 辉 健 宇 欣 晨 阳 凯 博 龙 飞 亮 峰 佳 璐 蕾 "
             "昊 楠 悦 磊 琪 雯 岚 曦 萱 睿 哲 航 昕 彤 瑶 晗 硕 铭 锐 淼 妍 鸣 骁 蕊 瑾 焱 炜 翔 坤 蓓 茜 菲").split()
GIVEN_TWO = ("浩然 子轩 欣怡 宇轩 梓涵 浩宇 子涵 诗涵 雨涵 俊杰 子豪 佳怡 思雨 雨欣 梦琪 家豪 嘉欣 文博 晓东 海涛 志伟 "
             "鹏飞 浩杰 鹏阳 健宇 俊宇 子健 宇航 明轩 天宇 思远 佳琪 雅婷 婉婷 诗雨 梓萱 晓雪 一诺 欣妍 可欣 雨桐 "
             "梦瑶 奕辰 亦辰 宇辰 子墨 梓豪 依诺 语桐 嘉怡 晓琳 晓彤 思琪 雨萱 子怡 紫涵 梓睿 皓轩 睿泽 博文 "
             "文轩 俊熙 嘉懿 煜城 懿轩 烨伟 苑博 伟泽 熠彤 鸿煊 博涛 烨霖 烨华 煜祺 智宸 正豪 昊然 明杰 立诚 "
             "立轩 立辉 峻熙 弘文 熠彤 鸿涛 伟诚 思聪 展鹏 笑愚 志泽 子安 雅静 梦洁 梦璐 惠茜 漫妮 语嫣 桑榆 "
             "佳琦 晨曦 心怡 雨婷 嘉琪 慧敏 静怡 美琳 佳慧 晓敏 思彤 梓琳 雪怡 海琳 凌薇 紫萱 晓雯 若曦 欣然").split()
PHONE_SEGMENTS = ("138 139 137 136 135 134 150 151 152 157 158 159 182 183 187 188 198 130 131 132 155 156 "
                  "185 186 166 133 153 180 181 189 199 177 173").split()
PLACES = (  # province/city/district prefix and its roads
    ("上海市浦东新区", "张杨路 世纪大道 锦绣路 东方路 川沙路 金科路"), ("上海市闵行区", "七莘路 莲花南路 都市路 虹梅南路"),
    ("北京市朝阳区", "望京西路 朝阳北路 广顺北大街 双桥路"), ("北京市海淀区", "中关村大街 学院路 西三旗路 永丰路"),
    ("广东省深圳市南山区", "科技园路 南海大道 桃园路 留仙大道"), ("广东省深圳市龙岗区", "龙岗大道 布吉路 坂雪岗大道"),
    ("广东省广州市天河区", "天河北路 黄埔大道 中山大道 龙口西路"), ("广东省广州市番禺区", "市桥路 迎宾路 南村路"),
    ("浙江省杭州市余杭区", "文一西路 五常大道 良睦路 临平大道"), ("浙江省杭州市西湖区", "文三路 古墩路 留下路"),
    ("江苏省南京市江宁区", "双龙大道 胜太路 天元东路 诚信大道"), ("江苏省苏州市工业园区", "星湖街 现代大道 金鸡湖大道"),
    ("四川省成都市武侯区", "武侯大道 科华北路 二环路南四段"), ("四川省成都市郫都区", "犀浦大道 望丛路 红光大道"),
    ("湖北省武汉市洪山区", "珞喻路 雄楚大道 光谷大道"), ("重庆市渝北区", "金开大道 龙头寺路 新南路"),
    ("陕西省西安市雁塔区", "科技路 电子正街 长安南路"), ("山东省青岛市黄岛区", "长江中路 井冈山路 峨眉山路"),
    ("河南省郑州市金水区", "花园路 经三路 农业路"), ("湖南省长沙市岳麓区", "麓山南路 枫林三路 金星中路"),
)
ESTATE_HEADS = "碧桂园 万科 保利 龙湖 绿地 华润 金地 招商 中海 融创 世茂 阳光 金色 翠湖 锦绣 滨江 天鹅 香樟".split()
ESTATE_TAILS = "城市花园 翡翠湾 天悦 云著 公园里 星河湾 金域华府 雅苑 滨江府 东方名城 花园 新村 家园 小区 嘉园 名邸".split()
STYLES = ("{b}栋{u}单元{r}室", "{b}号楼{u}单元{r}", "{b}-{u}-{r}", "{b}幢{r}室", "{b}栋{r}")
ITEMS = (("服装", 0.8), ("食品", 2.0), ("文件", 0.2), ("数码产品", 1.0), ("化妆品", 0.5), ("日用品", 1.5),
         ("图书", 1.2), ("母婴用品", 2.5), ("生鲜", 3.0), ("鞋靴", 1.4), ("家电配件", 2.2), ("茶叶", 0.6))


def _weighted(pairs: list[tuple[str, float]]):
    values, weights = zip(*pairs)
    return lambda rng: rng.choices(values, weights)[0]


class World:
    """The people, estates and shops of one world (a seed)."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.surname = _weighted(list(SURNAMES))
        given = [(g, 1.0 / rank) for rank, g in enumerate(GIVEN_ONE, 1)]
        given += [(g, 2.0 / rank) for rank, g in enumerate(GIVEN_TWO, 1)]
        self.given = _weighted(given)
        self.estates = [self._estate(place, roads.split()) for place, roads in PLACES for _ in range(5)]
        self.phones: set[str] = set()
        self.shops = [self._person(shop=True) for _ in range(45)]
        self.customers: list[tuple[str, str, str]] = []

    def _estate(self, place: str, roads: list[str]) -> dict:
        rng = self.rng
        floors = rng.choice((6, 6, 7, 11, 18, 18, 26, 28, 33))
        return {
            "prefix": f"{place}{rng.choice(roads)}{rng.randrange(1, 1200)}号{rng.choice(ESTATE_HEADS)}"
                      f"{rng.choice(ESTATE_TAILS)}",
            "buildings": rng.randrange(4, 36), "floors": floors, "doors": rng.choice((2, 2, 3, 4)),
            "units": rng.choice((1, 2, 2, 3, 4)) if floors <= 7 else rng.choice((1, 1, 2)),
            "style": rng.choice(STYLES),
        }

    def name(self) -> str:
        return self.surname(self.rng) + self.given(self.rng)

    def phone(self) -> str:
        while True:
            number = self.rng.choice(PHONE_SEGMENTS) + f"{self.rng.randrange(10 ** 8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def address(self, shop: bool = False) -> str:
        rng = self.rng
        if shop or rng.random() < 0.12:  # a shop, an office, a house on a road
            place, roads = rng.choice(PLACES)
            return f"{place}{rng.choice(roads.split())}{rng.randrange(1, 900)}号" + (
                rng.choice(("", "", f"{rng.randrange(1, 30)}楼", f"{rng.choice('ABCD')}座{rng.randrange(2, 30)}0{rng.randrange(1, 9)}"))
                if shop else "")
        e = rng.choice(self.estates)
        floor = 1 + min(int(rng.random() ** 1.3 * e["floors"]), e["floors"] - 1)
        room = floor * 100 + rng.randrange(1, e["doors"] + 1)
        return e["prefix"] + e["style"].format(b=rng.randrange(1, e["buildings"] + 1),
                                               u=rng.randrange(1, e["units"] + 1), r=room)

    def _person(self, shop: bool = False) -> tuple[str, str, str]:
        return self.name(), self.phone(), self.address(shop)

    def customer(self) -> tuple[str, str, str]:
        if self.customers and self.rng.random() < 0.25:  # a returning customer
            return self.rng.choice(self.customers)
        person = self._person()
        self.customers.append(person)
        return person

    def sender(self) -> tuple[str, str, str]:
        if self.rng.random() < 0.55:  # shops send most parcels, a few of them most of all
            return self.shops[min(int(self.rng.expovariate(1 / 8)), len(self.shops) - 1)]
        return self.customer()


def make_rows(n: int, seed: int) -> list[list[str]]:
    """``n`` waybills in time order."""
    world = World(seed)
    rng = world.rng
    start = datetime(2024, 3, 1)
    moments = []
    for _ in range(n):
        day = rng.randrange(30)
        hour = rng.choices(range(24), [1, 1, 0, 0, 0, 0, 1, 2, 5, 7, 8, 8, 7, 7, 7, 7, 7, 8, 9, 10, 11, 10, 7, 3])[0]
        moments.append(start + timedelta(days=day, hours=hour, seconds=rng.randrange(3600)))
    moments.sort()
    rows, ids = [], set()
    for moment in moments:
        while (waybill := f"SF{rng.randrange(10 ** 12, 10 ** 13)}") in ids:
            pass
        ids.add(waybill)
        item, mean = rng.choice(ITEMS)
        weight = max(0.1, round(rng.lognormvariate(0, 0.6) * mean, 1))
        rows.append([waybill, *world.sender(), *world.customer(), item, f"{weight:.1f}",
                     moment.strftime("%Y-%m-%d %H:%M:%S")])
    return rows
