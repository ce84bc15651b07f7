"""Synthetic Indonesian enrolments with ground truth, for duplicate-matching quality and speed benches.

People are drawn with Faker ``id_ID``; households share a surname, an address, a village and often one
phone; some have twins. Each person is enrolled one to four times, mostly by different agents, and
every enrolment goes through an error model: NIK digit typos, swaps and drops, name variants
(Muhammad/Muhamad/M., old spelling, titles, degrees, misspellings, dropped words), missing or
swapped birth dates, phone formats, shared family phones, village spellings. ``_person`` is the truth.

    .venv/bin/python bench/dedup_data.py 20000 --seed 42 > /tmp/enrolments.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys

from faker import Faker

REGIONS = ["321501", "321502", "321503", "321604", "327501", "737101", "737102", "351501", "520103", "630101"]
COMMON_NAMES = [
    ("M", "Muhammad Rizki"),
    ("F", "Siti Nurhaliza"),
    ("M", "Budi Santoso"),
    ("F", "Sri Wahyuni"),
    ("M", "Agus Setiawan"),
    ("F", "Dewi Lestari"),
    ("M", "Ahmad Fauzi"),
    ("F", "Nur Aini"),
]
MUHAMMAD = ["Muhammad", "Muhamad", "Mohammad", "Mochamad", "Moh.", "M.", "Muh.", "Mohamad"]
TITLES_M, TITLES_F = ["H.", "Drs.", "Ir.", "Bapak"], ["Hj.", "Dra.", "Ibu", "Ny."]
DEGREES = [", S.Pd.", ", S.E.", " S.Pd.I", ", S.H.", ", A.Md."]
OCCUPATIONS = ["nelayan", "petani", "ojek", "pedagang", "buruh_harian", "tukang_becak", "sopir_angkot", "ukm"]


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.fake = Faker("id_ID")
        self.fake.seed_instance(seed)
        self.serials: dict[str, int] = {}
        self.villages = {r: [self.fake.city().split()[-1] for _ in range(6)] for r in REGIONS}

    # -- people -------------------------------------------------------------------------------
    def nik(self, region: str, birth: dt.date, sex: str, serial: int | None = None) -> str:
        day = birth.day + (40 if sex == "F" else 0)
        stem = f"{region}{day:02d}{birth.month:02d}{birth.year % 100:02d}"
        if serial is None:
            serial = self.serials.get(stem, self.rng.randint(1, 40)) + 1
        self.serials[stem] = max(self.serials.get(stem, 0), serial)
        return f"{stem}{serial:04d}"

    def phone(self) -> str:
        prefix = self.rng.choice(["11", "12", "13", "21", "22", "52", "53", "57", "77", "78", "81", "95"])
        return "08" + prefix + "".join(self.rng.choice("0123456789") for _ in range(8))

    def first_name(self, sex: str) -> str:
        rng = self.rng
        name = self.fake.first_name_male() if sex == "M" else self.fake.first_name_female()
        if sex == "M" and rng.random() < 0.15:
            name = f"Muhammad {name}"
        elif sex == "F" and rng.random() < 0.12:
            name = f"{rng.choice(['Siti', 'Nur', 'Sri'])} {name}"
        return name

    def household(self, pid: int) -> list[dict]:
        rng = self.rng
        region = rng.choice(REGIONS)
        village = rng.choice(self.villages[region])
        surname = self.fake.last_name()
        address = self.fake.street_address()
        phone = self.phone()
        people = []
        head_sex = rng.choice("MF")
        head_birth = dt.date(rng.randint(1955, 2000), rng.randint(1, 12), rng.randint(1, 28))

        def add(sex, birth, name, serial=None, phone_=None):
            people.append(
                {
                    "pid": pid + len(people),
                    "sex": sex,
                    "birth": birth,
                    "name": name,
                    "nik": self.nik(region, birth, sex, serial),
                    "village": village,
                    "address": address,
                    "phone": phone_ or phone,
                    "home_phone": phone,
                    "occupation": rng.choice(OCCUPATIONS),
                }
            )

        if rng.random() < 0.06:
            sex, name = rng.choice(COMMON_NAMES)
            add(sex, head_birth, name)
        elif rng.random() < 0.2:
            add(head_sex, head_birth, self.first_name(head_sex).split()[-1])  # a single-word name
        else:
            add(head_sex, head_birth, f"{self.first_name(head_sex)} {surname}")
        roll = rng.random()
        if roll < 0.25:  # spouse, same village and address, often the same phone
            sex = "F" if head_sex == "M" else "M"
            birth = head_birth + dt.timedelta(days=rng.randint(-2500, 2500))
            add(sex, birth, f"{self.first_name(sex)} {surname}", phone_=None if rng.random() < 0.6 else self.phone())
        if 0.15 < roll < 0.3:  # an adult child with the family name
            sex = rng.choice("MF")
            birth = dt.date(min(head_birth.year + rng.randint(18, 28), 2006), rng.randint(1, 12), rng.randint(1, 28))
            add(sex, birth, f"{self.first_name(sex)} {surname}", phone_=None if rng.random() < 0.4 else self.phone())
        if roll > 0.97:  # twins: same birth date, consecutive NIK serials
            birth = dt.date(min(head_birth.year + 20, 2005), rng.randint(1, 12), rng.randint(1, 28))
            sex = rng.choice("MF")
            first = self.nik(region, birth, sex)
            serial = int(first[-4:])
            add(sex, birth, f"{self.first_name(sex)} {surname}", serial=serial)
            twin_sex = sex if rng.random() < 0.6 else ("F" if sex == "M" else "M")
            add(twin_sex, birth, f"{self.first_name(twin_sex)} {surname}", serial=serial + 1)
        return people

    # -- errors -------------------------------------------------------------------------------
    def nik_error(self, nik: str) -> str:
        rng = self.rng
        roll = rng.random()
        digits = list(nik)
        if roll < 0.10:
            i = rng.randrange(16)
            digits[i] = rng.choice([d for d in "0123456789" if d != digits[i]])
        elif roll < 0.15:
            i = rng.randrange(15)
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
        elif roll < 0.17:
            del digits[rng.randrange(16)]
        elif roll < 0.19:
            return rng.choice(["", None])
        text = "".join(digits)
        if rng.random() < 0.1:
            text = " ".join([text[:6], text[6:12], text[12:]])
        return text

    def misspell(self, word: str) -> str:
        rng = self.rng
        if len(word) < 4:
            return word
        i = rng.randrange(1, len(word) - 1)
        kind = rng.random()
        if kind < 0.35:
            return word[:i] + word[i + 1 :]
        if kind < 0.7:
            return word[:i] + rng.choice("aeiouhnrk") + word[i + 1 :]
        if kind < 0.85:
            return word[:i] + word[i] + word[i:]
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]

    def name_error(self, name: str, sex: str) -> str:
        rng = self.rng
        words = name.split()
        if words[0] == "Muhammad" and rng.random() < 0.6:
            words[0] = rng.choice(MUHAMMAD)
        if words[0] == "Siti" and rng.random() < 0.3:
            words[0] = "Sitti"
        roll = rng.random()
        if roll < 0.12:
            j = rng.randrange(len(words))
            if not words[j].endswith("."):
                words[j] = self.misspell(words[j])
        elif roll < 0.2:
            old = {"u": "oe", "j": "dj", "c": "tj", "y": "j"}
            j = rng.randrange(len(words))
            for new, o in old.items():
                if new in words[j] and rng.random() < 0.7:
                    words[j] = words[j].replace(new, o, 1)
                    break
        elif roll < 0.26 and len(words) > 1:
            words = words[:-1] if rng.random() < 0.5 else words[1:]
        text = " ".join(words)
        if rng.random() < 0.05:
            text = f"{rng.choice(TITLES_M if sex == 'M' else TITLES_F)} {text}"
        if rng.random() < 0.03:
            text += rng.choice(DEGREES)
        if rng.random() < 0.15:
            text = text.upper() if rng.random() < 0.5 else text.lower()
        return text

    def birth_error(self, birth: dt.date) -> str | None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.04:
            return None
        if roll < 0.08 and birth.day <= 12 and birth.day != birth.month:
            return dt.date(birth.year, birth.day, birth.month).isoformat()
        if roll < 0.11:
            try:
                return birth.replace(day=min(28, birth.day + rng.choice([-1, 1]))).isoformat()
            except ValueError:
                return birth.isoformat()
        return birth.isoformat()

    def phone_format(self, phone: str) -> str:
        rest = phone[1:]
        return self.rng.choice([phone, "62" + rest, "+62 " + rest, f"{phone[:4]}-{phone[4:8]}-{phone[8:]}", rest])

    def enrolment(self, p: dict, first: bool) -> dict:
        rng = self.rng
        clean = first and rng.random() < 0.7
        phone = p["phone"]
        if not clean and rng.random() < 0.15:
            phone = p["home_phone"] if phone != p["home_phone"] else self.phone()
        village = p["village"]
        if not clean and rng.random() < 0.3:
            village = rng.choice([f"Desa {village}", f"Ds. {village}", village.upper(), self.misspell(village)])
        return {
            "nik": p["nik"] if clean else self.nik_error(p["nik"]),
            "full_name": p["name"] if clean else self.name_error(p["name"], p["sex"]),
            "birth_date": p["birth"].isoformat() if clean else self.birth_error(p["birth"]),
            "sex": p["sex"] if clean or rng.random() > 0.01 else ("F" if p["sex"] == "M" else "M"),
            "phone": None if not clean and rng.random() < 0.08 else self.phone_format(phone),
            "occupation": p["occupation"],
            "address": p["address"],
            "village": village,
            "programs": "JKK,JKM",
            "monthly_income": 2_000_000,
            "_person": p["pid"],
        }


def generate(n: int, seed: int = 42, agents: int = 20) -> list[dict]:
    """``n`` enrolments in capture order, each with ``_person`` (truth) and ``_agent`` (0..agents-1)."""
    gen = Generator(seed)
    rng = gen.rng
    records: list[dict] = []
    pid = 0
    while len(records) < n:
        for p in gen.household(pid):
            pid = max(pid, p["pid"] + 1)
            copies = rng.choices([1, 2, 3, 4], weights=[70, 22, 6, 2])[0]
            home_agent = rng.randrange(agents)
            for k in range(copies):
                record = gen.enrolment(p, first=k == 0)
                record["_agent"] = home_agent if k == 0 or rng.random() < 0.2 else rng.randrange(agents)
                record["_order"] = len(records) + rng.randint(0, 4000) * k
                records.append(record)
    records = sorted(records[:n], key=lambda r: r["_order"])
    for i, record in enumerate(records):
        record["id"] = f"syn{seed}x{i:07d}"
        del record["_order"]
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=20000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    for record in generate(args.n, args.seed):
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
