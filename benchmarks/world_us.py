"""An online-shop order world tracer did not make: US names, streets, apartments, ZIPs and emails.

Shares no list and no code with ``tracer/`` (nor with faker, which tracer
uses).  The tables were written for this benchmark from general knowledge and
are *approximations*:

- given names of US adults born 1960-2000, ordered after the Social Security
  Administration's popular-names lists, with Zipf-shaped weights;
- surnames in the order of the 2010 census surname table (Smith, Johnson,
  Williams ...), weighted by a power law close to its counts;
- cities with their real area codes and a handful of their ZIP codes; a
  street keeps one ZIP; house numbers follow blocks (block * 100 + a small
  number); apartments are numbered by floor (3B, 204, 1207) or plainly (#12);
- emails are the customer's name in common styles (first.last, flast,
  firstlast1987, ...) at the usual free-mail shares (gmail about half).

Order numbers run in sequence with gaps; a quarter of the orders come from
returning customers.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

HEADER = ["Order Number", "Customer", "Email", "Phone", "Address", "City", "State", "Zip", "Created At", "Total"]

GIVEN = ("Michael Jennifer David James John Robert Jessica Christopher Sarah Ashley Matthew Joshua Daniel Emily "
         "Amanda Andrew Brian Stephanie Melissa Nicole Elizabeth Kevin Jason Justin Ryan Lauren Megan Rachel "
         "Heather Michelle Kimberly Amy Lisa Mary Patricia Linda Susan Karen Nancy Thomas William Richard Joseph "
         "Charles Mark Steven Paul Eric Brandon Tyler Kyle Samantha Hannah Taylor Brittany Danielle Rebecca Laura "
         "Maria Jose Luis Carlos Juan Anthony Jonathan Nicholas Benjamin Alexander Zachary Jacob Ethan Olivia "
         "Emma Sophia Madison Abigail Chloe Grace Natalie Victoria Christina Angela Tiffany Crystal Erica Kristen "
         "Katherine Alyssa Jasmine Vanessa Priya Wei Mohammed Aisha DeShawn Keisha Latoya Marcus Derek Shane "
         "Travis Cody Dustin Caleb Logan Austin Morgan Courtney Kelsey Lindsey Whitney Monica Veronica Gabriel "
         "Adrian Diego Miguel Sofia Isabella Camila Lucas Henry Owen Claire Audrey Naomi Ruth Gloria Dennis Gary "
         "Larry Scott Gregory Raymond Frank Wayne Todd Craig Jill Dawn Tammy Wendy Carrie Tara Holly").split()
SURNAMES = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
            "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
            "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
            "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker "
            "Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper "
            "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James "
            "Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
            "Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez "
            "Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole "
            "Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens").split()
STREETS = ("Main Oak Maple Cedar Pine Elm Washington Lake Hill Park Sunset Highland Lincoln Jefferson Madison "
           "Franklin Ridge Church Spring Valley Forest Meadow River Willow Chestnut Walnut Center Mill Union "
           "Jackson Broadway Market Prospect Bay Harbor Orchard Hillcrest Lakeview Magnolia Dogwood Sycamore "
           "Birch Aspen Juniper Laurel Poplar Cherry Summit Fairview Greenwood Kingston Belmont Clinton Grant").split()
SUFFIXES = (("St", 30), ("Ave", 22), ("Rd", 12), ("Dr", 12), ("Ln", 7), ("Blvd", 4), ("Ct", 5), ("Way", 4),
            ("Pl", 2), ("Ter", 1), ("Cir", 1))
CITIES = (  # city, state, area codes, some of its ZIP codes
    ("Austin", "TX", "512 737", "78701 78702 78704 78723 78741 78745 78751 78758"),
    ("Seattle", "WA", "206", "98101 98103 98105 98109 98115 98117 98122 98144"),
    ("Denver", "CO", "303 720", "80202 80203 80205 80206 80210 80218 80220 80231"),
    ("Chicago", "IL", "312 773 872", "60601 60608 60614 60618 60622 60625 60640 60657"),
    ("Brooklyn", "NY", "718 347 929", "11201 11205 11211 11215 11217 11222 11226 11238"),
    ("Los Angeles", "CA", "213 323 310", "90004 90012 90019 90026 90027 90034 90042 90066"),
    ("San Diego", "CA", "619 858", "92101 92103 92104 92107 92109 92115 92117 92122"),
    ("Portland", "OR", "503 971", "97201 97202 97209 97211 97212 97214 97217 97232"),
    ("Atlanta", "GA", "404 470 678", "30303 30306 30307 30308 30309 30312 30316 30318"),
    ("Columbus", "OH", "614 380", "43201 43202 43206 43209 43214 43215 43220 43228"),
    ("Nashville", "TN", "615 629", "37203 37204 37206 37208 37209 37211 37212 37215"),
    ("Minneapolis", "MN", "612", "55403 55404 55405 55406 55407 55408 55409 55414"),
    ("Charlotte", "NC", "704 980", "28202 28203 28204 28205 28207 28209 28210 28211"),
    ("Phoenix", "AZ", "602 480", "85003 85004 85006 85008 85013 85016 85018 85020"),
    ("Pittsburgh", "PA", "412", "15201 15206 15213 15217 15222 15224 15232 15237"),
    ("Tampa", "FL", "813", "33602 33603 33606 33609 33611 33612 33614 33629"),
    ("Salt Lake City", "UT", "801 385", "84101 84102 84103 84105 84106 84108 84111 84115"),
    ("Boise", "ID", "208", "83702 83703 83704 83705 83706 83709 83713 83716"),
)
DOMAINS = (("gmail.com", 48), ("yahoo.com", 12), ("icloud.com", 9), ("hotmail.com", 7), ("outlook.com", 6),
           ("aol.com", 3), ("comcast.net", 3), ("att.net", 2), ("me.com", 2), ("live.com", 2), ("msn.com", 2),
           ("protonmail.com", 1))
EMAIL_STYLES = (  # (style, weight): f first, l last, y a year, d two digits
    ("f.l", 24), ("fl", 14), ("Fl", 13), ("fd", 8), ("f.ld", 9), ("fly", 8), ("f_l", 5), ("lf", 3), ("fL", 4),
    ("f.l.y", 3), ("l.f", 3), ("fdd", 3), ("word", 3))
WORDS = "sunny blue happy ocean tiger lucky shadow summer river moon star rocket pixel maple".split()


def _zipf(values: list[str], power: float):
    weights = [1.0 / (rank ** power) for rank in range(1, len(values) + 1)]
    return lambda rng: rng.choices(values, weights)[0]


def _pairs(pairs):
    values, weights = zip(*pairs)
    return lambda rng: rng.choices(values, weights)[0]


class World:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.given = _zipf(GIVEN, 0.8)
        self.surname = _zipf(SURNAMES, 0.7)
        self.suffix = _pairs(SUFFIXES)
        self.domain = _pairs(DOMAINS)
        self.style = _pairs(EMAIL_STYLES)
        self.streets = [self._street() for _ in range(300)]
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.customers: list[tuple[str, ...]] = []

    def _street(self) -> dict:
        rng = self.rng
        city = rng.choice(CITIES)
        if rng.random() < 0.12:
            n = rng.randrange(2, 90)
            name = f"{rng.choice('NSEW')} {n}{_ordinal(n)}"
        else:
            name = (rng.choice("NSEW") + " " if rng.random() < 0.15 else "") + rng.choice(STREETS)
        return {"name": f"{name} {self.suffix(rng)}", "city": city, "zip": rng.choice(city[3].split()),
                "blocks": rng.randrange(1, 90), "apartments": rng.random() < 0.35,
                "floors": rng.choice((3, 4, 6, 12, 20)), "letters": rng.random() < 0.4}

    def address(self, street: dict) -> str:
        rng = self.rng
        house = rng.randrange(street["blocks"]) * 100 + rng.randrange(1, 99) if street["blocks"] > 1 \
            else rng.randrange(1, 99)
        text = f"{max(house, 1)} {street['name']}"
        if street["apartments"] and rng.random() < 0.8:
            floor = rng.randrange(1, street["floors"] + 1)
            unit = f"{floor}{rng.choice('ABCD')}" if street["letters"] else f"{floor}{rng.randrange(1, 12):02d}"
            text += " " + rng.choice((f"Apt {unit}", f"Apt {unit}", f"#{unit}", f"Unit {unit}"))
        return text

    def phone(self, city: tuple) -> str:
        codes = city[2].split() if self.rng.random() < 0.8 else self.rng.choice(CITIES)[2].split()
        while True:
            exchange = self.rng.randrange(200, 1000)
            if exchange % 100 == 11 or exchange == 555:
                continue
            number = f"({self.rng.choice(codes)}) {exchange}-{self.rng.randrange(10000):04d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def email(self, first: str, last: str) -> str:
        rng = self.rng
        f, l = first.lower(), last.lower()
        year = str(rng.randrange(1960, 2003))
        local = {"f.l": f"{f}.{l}", "fl": f + l, "Fl": f[0] + l, "fd": f + f"{rng.randrange(1, 100):02d}",
                 "f.ld": f"{f}.{l}{rng.randrange(1, 100)}", "fly": f + l + year, "f_l": f"{f}_{l}",
                 "lf": l + f, "fL": f + l[0], "f.l.y": f"{f}.{l}.{year[2:]}", "l.f": f"{l}.{f}",
                 "fdd": f + str(rng.randrange(100, 1000)),
                 "word": rng.choice(WORDS) + f + str(rng.randrange(1, 100))}[self.style(rng)]
        email = f"{local}@{self.domain(rng)}"
        while email in self.emails:
            email = f"{local}{rng.randrange(1, 100)}@{self.domain(rng)}"
        self.emails.add(email)
        return email

    def customer(self) -> tuple[str, ...]:
        if self.customers and self.rng.random() < 0.25:
            return self.rng.choice(self.customers)
        first, last = self.given(self.rng), self.surname(self.rng)
        name = f"{first} {rng_initial(self.rng)}{last}"
        street = self.rng.choice(self.streets)
        city = street["city"]
        person = (name, self.email(first, last), self.phone(city), self.address(street), city[0], city[1],
                  street["zip"])
        self.customers.append(person)
        return person


def rng_initial(rng: random.Random) -> str:
    return f"{rng.choice('ABCDEJKLMRST')}. " if rng.random() < 0.06 else ""


def _ordinal(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def make_rows(n: int, seed: int) -> list[list[str]]:
    """``n`` orders in time order, numbered in sequence with gaps (other channels take numbers too)."""
    world = World(seed)
    rng = world.rng
    moment, number, rows = datetime(2024, 5, 1), 104_211, []
    for _ in range(n):
        moment += timedelta(seconds=int(rng.expovariate(1 / 900)) + 1)
        number += 1 + int(rng.expovariate(1 / 2.5))
        items = rng.choice((1, 1, 1, 2, 2, 3, 4))
        total = sum(rng.choice((9.99, 14.99, 19.99, 24.0, 29.95, 39.99, 49.0, 59.99, 89.0)) for _ in range(items))
        total = round(total * (1 + rng.choice((0.0, 0.0625, 0.0725, 0.08875, 0.101))), 2)
        rows.append([str(number), *world.customer(), moment.strftime("%Y-%m-%dT%H:%M:%S"), f"{total:.2f}"])
    return rows
