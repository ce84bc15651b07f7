"""Synthetic sync data as an agent's phone makes it: distinct people of Karawang, a day's visits, push bodies."""

from __future__ import annotations

import itertools
import json
import random

from sync.protocol.clock import now_ms
from tests import factories

HOUR_MS, DAY_MS = 3_600_000, 86_400_000

_PERSON = itertools.count(1)
GIVEN = (
    "Budi Siti Agus Dewi Joko Sri Eko Rina Andi Nur Rudi Ani Hendra Wati Yusuf Lina Bambang Ratna Dedi Tuti "
    "Ahmad Fitri Slamet Yanti Wahyu Indah Iwan Mega Rizky Putri Hadi Ayu Teguh Maya Imam Sari Arif Desi Heru Lestari"
).split()
FAMILY = (
    "Santoso Wijaya Saputra Hidayat Kurniawan Setiawan Pratama Siregar Nasution Simanjuntak Lubis Harahap Sitompul "
    "Wibowo Susanto Gunawan Halim Tanjung Pohan Rangkuti Daeng Pattinasarany Manurung Sinaga Purba Ginting Tarigan "
    "Suharto Sukarno Prasetyo Utomo Nugroho Rahman Hakim Syahputra Ramadhan Firmansyah Permana Sembiring Hutapea"
).split()


VILLAGES = (
    "Cilamaya Tempuran Pedes Cibuaya Tirtajaya Batujaya Pakisjaya Jayakerta Rengasdengklok Kutawaluya "
    "Lemahabang Telagasari Majalaya Klari Cikampek Purwasari Tirtamulya Jatisari Banyusari Kotabaru "
    "Cilebar Rawamerta Tegalsari Cilamaya-Kulon Karawang-Barat Karawang-Timur Telukjambe Ciampel Pangkalan Tegalwaru"
).split()


AGENT_DISTRICTS = (1, 2, 3)  # the agent canvasses three kecamatan of the branch's regency
REGENCY_DISTRICTS = tuple(range(1, 31))  # Karawang (3215) has 30
PERMUTE = {False: 1_000_003, True: 999_983}  # primes: they permute the NIK slots, so consecutive people differ
SALT = {False: 0, True: 0x9E3779B9}  # seeded people get other names and birth dates than pushed ones


def person(serial: int, *, seeded: bool = False, phone_prefix: str = "0812") -> dict:
    """A valid, distinct person of Karawang (regency 3215): NIK, name, birth date, sex, phone, village.

    A NIK is ``3215 DD dd MM YY NNNN``: district, birth day (+40 for women), month, year, and a serial
    number that is small in real life (the order of registration among people of one district, birth
    date and sex). So here: the agent's people live in ``AGENT_DISTRICTS`` and get even numbers;
    ``seeded`` people (existing workers) live anywhere in the regency, with odd numbers in the agent's
    districts and even ones elsewhere. NIKs never repeat, while their parts (the dedup blocking keys) are
    shared the way they are in one area. Seeded and pushed serials map to unrelated people: no pushed
    person has a near twin among the seeded ones (a matcher that links them is wrong).
    """
    districts = REGENCY_DISTRICTS if seeded else AGENT_DISTRICTS
    slots = 28 * 12 * 40 * 2 * len(districts)
    block, slot = divmod(serial, slots)
    slot = slot * PERMUTE[seeded] % slots
    day, slot = slot % 28 + 1, slot // 28
    month, slot = slot % 12 + 1, slot // 12
    year, slot = 1960 + slot % 40, slot // 40
    sex, slot = "MF"[slot % 2], slot // 2
    district = districts[slot]
    number = 2 * block + (1 if seeded and district in AGENT_DISTRICTS else 2)
    nik = f"3215{district:02d}{day + (40 if sex == 'F' else 0):02d}{month:02d}{year % 100:02d}{number:04d}"
    mix = (serial * 2_654_435_761 + SALT[seeded]) % 2**32  # Knuth's multiplicative hash: names, villages
    return {
        "nik": nik,
        "full_name": f"{GIVEN[mix % len(GIVEN)]} {FAMILY[mix // len(GIVEN) % len(FAMILY)]}",
        "birth_date": f"{year:04d}-{month:02d}-{day:02d}",
        "sex": sex,
        "phone": f"{phone_prefix}{serial % 100_000_000:08d}",
        "village": VILLAGES[mix // 7 % len(VILLAGES)],
        # A house of the village: a street, a number, RT and RW (people do not all live at one address).
        "address": f"Jl. {FAMILY[mix // 11 % len(FAMILY)]} No. {mix // 97 % 150 + 1} "
        f"RT {mix // 13 % 12 + 1:02d}/RW {mix // 17 % 8 + 1:02d}",
    }


# What agents record at a door (roughly): enrolled 40 %, interested 25 %, not home 15 %, refused 10 %, ...
OUTCOMES = (
    ("enrolled",) * 8 + ("interested",) * 5 + ("not_home",) * 3 + ("refused",) * 2 + ("already_member", "follow_up")
)
VISITS_PER_DAY = 25
KARAWANG = (-6.32, 107.33)


def field_visits(n: int, rng: random.Random) -> list[dict]:
    """``n`` visits of one agent as a phone records them: 08:00-17:00 local time over the past days (at
    most 29, so no ``clock_skew``), walking a few hundred metres between doors around a village a day."""
    per_day = max(VISITS_PER_DAY, -(-n // 29))
    days = -(-n // per_day)
    today = now_ms() // DAY_MS * DAY_MS
    visits, lat, lon = [], *KARAWANG
    for i in range(n):
        day, k = divmod(i, per_day)
        if k == 0:  # a new village every day
            lat, lon = KARAWANG[0] + rng.uniform(-0.12, 0.12), KARAWANG[1] + rng.uniform(-0.15, 0.15)
        lat, lon = lat + rng.uniform(-0.003, 0.003), lon + rng.uniform(-0.003, 0.003)
        start = today - (days - day) * DAY_MS + HOUR_MS  # 08:00 WIB
        visits.append(
            factories.visit(
                visited_at=start + k * (9 * HOUR_MS // per_day) + rng.randrange(60_000),
                latitude=round(lat, 6),
                longitude=round(lon, 6),
                accuracy_m=float(rng.randrange(4, 40)),
                outcome=OUTCOMES[i % len(OUTCOMES)],
                notes=None,
            )
        )
    return visits


def push_changes(n_records: int) -> dict:
    """A WatermelonDB push: half new enrolments of distinct people, half new visits; the ``enrolled``
    visits and their enrolments point at each other."""
    n_enrol = n_records // 2
    first = next(_PERSON)
    visits = field_visits(n_records - n_enrol, random.Random(first))
    enrolments = [factories.enrollment(**person(first if i == 0 else next(_PERSON))) for i in range(n_enrol)]
    for enrolment, visit in zip(enrolments, visits, strict=False):
        if visit["outcome"] == "enrolled":
            enrolment["visit_id"], visit["enrollment_id"] = visit["id"], enrolment["id"]
            enrolment["captured_at"] = visit["visited_at"] + 600_000
    return factories.changes(enrollments={"created": enrolments}, visits={"created": visits})


def push_body(n_records: int) -> bytes:
    return json.dumps({"changes": push_changes(n_records)}, separators=(",", ":")).encode()
