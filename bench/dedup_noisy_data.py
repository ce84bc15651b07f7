"""A second synthetic generator of Indonesian enrolments with ground truth, with its own error model.

Why it exists: ``bench/dedup_data.py`` is the generator the matcher's weights were fitted on, so a
matcher judged only on its output is judged on the errors it was built to expect. This module draws a
different population (its own name, village and address tables, no Faker; about 10% Chinese-Indonesian,
Indian, Arabic and Western names and addresses in other formats) and corrupts it differently:

- QWERTY keyboard typos (adjacent keys) and OCR confusions (0/O, 1/l/I, 5/S, 8/B, rn/m, cl/d) in
  names, addresses, villages and the digits of NIK and phone;
- phonetic and old/new spelling variants (oe/u, dj/j, tj/c, j/y, ch/kh, sj/sy, nj/ny, doubled letters,
  a final h dropped or added, Ahmad/Achmad/Akhmad), nicknames and alternate spellings (Muhammad →
  Mamat/Moh., Slamet → Met, Bambang → Bams, Siti → Ti, Liem → Lim …), given name and surname swapped;
- dates with day and month swapped (both ≤ 12), a year digit mistyped, a day off by one, an unknown
  date written as 1 January or 31 December;
- NIK digits typed, swapped or dropped, the family card (KK) number typed instead; a changed phone;
- addresses with RT/RW, house numbers and street tokens written many ways (Jl./Jalan/Jln., Gg./Gang,
  RT 003/RW 005 / RT.3/RW.5 / RT/RW 03/05 …), parts left out;
- every field but the name missing at a configurable rate (default 12–25% per field), and one part of a
  multi-part name missing at its own rate;
- copies made from copies: a person's later enrolment is corrupted from a randomly chosen earlier
  enrolment of that person (so errors are inherited), and the first enrolment is as likely to be a
  corrupted one as a clean one.

A missing value is not inherited: an agent copying a record without it asks the person again (the
truth, which then goes through the error model). Persons get 1..5 enrolments (skewed towards one),
spread over ``agents`` agents, returned in arrival order. The output has exactly the keys and value
formats of ``bench/dedup_data.py`` (``_person`` is the truth, ``_agent`` the agent), so
``bench/dedup_quality.py`` can consume either ``generate``; ids are ``nsy<seed>x<n>`` so that they
never collide with the first generator's ``syn…``. ``NoisyGenerator`` keeps the truth of each person
(``truth``) and the errors each record got itself (``applied``, inherited ones not repeated) for tests.
Deterministic for a given seed.

    .venv/bin/python bench/dedup_noisy_data.py 20000 --seed 7 > /tmp/noisy.jsonl
    .venv/bin/python bench/dedup_noisy_data.py 20000 --seed 7 --no-sex-phone --missing 0.3 > /tmp/noisy.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
from dataclasses import dataclass, field

# -- tables -------------------------------------------------------------------------------------------

# Regency (Kemendagri code without the dot); the district is drawn 01..12 per household.
REGENCIES = [
    "3171", "3273", "3374", "3578", "1271", "7371", "5171", "6471", "1371", "3471", "3201", "3302", "3509",
    "5203", "9171", "3215", "3216", "6301", "1171", "6171", "7571", "1871", "1671", "5371", "7271", "7171",
    "3310", "3515",
]  # fmt: skip
OCCUPATIONS = ["nelayan", "petani", "ojek", "pedagang", "buruh_harian", "tukang_becak", "sopir_angkot", "ukm"]
PHONE_PREFIXES = ["811", "812", "813", "821", "822", "823", "851", "852", "853", "855", "856", "857", "858",
                  "859", "877", "878", "831", "838", "881", "882", "895", "896", "897", "898"]  # fmt: skip

MALE = """Ahmad Budi Bambang Slamet Joko Agus Eko Dwi Tri Hendra Yusuf Rahmat Sutrisno Suharto Sukarno Wahyu
Hadi Heru Iwan Dedi Dodi Andi Rudi Teguh Bayu Fajar Rizki Arif Adi Imam Ilham Saiful Abdul Hasan Husein Umar
Usman Yanto Mulyono Sugeng Surya Cahyo Jaya Kurniawan Setiawan Gunawan Hidayat Nugroho Prasetyo Susilo Purnomo
Haryanto Suryadi Darmawan Firmansyah Ramadhan Lukman Zainal Ismail Ibrahim Yahya Khairul Syamsul Subagyo
Tukiman Paiman Wagiman Sarno Parman Kusno Warsito Junaidi Zulkifli Iskandar Firdaus Anwar Asep Ujang Dadang
Cecep Yayat Yohanes Fransiskus Agustinus Yosef Paulus Petrus Daniel Bagus Gilang Reza Dimas Yudi Sahrul""".split()
FEMALE = """Siti Sri Dewi Ratna Wati Yuni Endang Sulastri Suparmi Sumiati Tuti Yanti Rina Rini Lestari Wahyuni
Fitri Nurul Aisyah Khadijah Fatimah Aminah Maryam Ani Eni Ida Ika Indah Intan Kartini Kurniasih Lilis Mega Nia
Novi Putri Puspita Rahayu Ratih Rosita Sari Suryani Titin Umi Wulan Yati Yuliani Zubaidah Juwariyah Sukarsih
Tumini Painem Poniyem Ngatini Cicih Euis Neneng Imas Cucu Maria Magdalena Theresia Yuliana Agustina Margaretha
Nining Susanti Handayani Mulyani Purwanti Setyowati Winarsih Sundari Marlina Herlina Rukmini Salmah Halimah""".split()
CHRISTIAN = {"Yohanes", "Fransiskus", "Agustinus", "Yosef", "Paulus", "Petrus", "Daniel", "Maria", "Magdalena",
             "Theresia", "Yuliana", "Agustina", "Margaretha"}  # fmt: skip
SECOND = """Santoso Wijaya Setiawan Hidayat Saputra Pratama Kusuma Purnama Nugroho Susanto Gunawan Hartono Wibowo
Prabowo Sulistyo Rahman Hakim Syahputra Nasrullah Maulana Ramdani Suhendra Sudrajat Permana Kurniawan Siswanto
Suryana Mulyadi Riyadi Harahap Effendi Hasibuan Firmansyah Junaedi Sopian Hermawan Darmadi Subekti Wardoyo
Suprapto Sumarno Kartono Djunaidi Rachman""".split()
CLANS = """Siregar Nasution Simanjuntak Lubis Hutapea Manurung Sinaga Tarigan Ginting Sembiring Tambunan Panjaitan
Situmorang Pardede Damanik Marpaung Sitompul Rumondor Wowor Sondakh Latuconsina Manuputty Pattiasina Nainggolan
Silalahi""".split()
SECOND_F = """Lestari Saputri Kusumawati Rahmawati Handayani Wulandari Puspitasari Anggraini Permatasari Utami
Susilowati Hidayati Fitriani Rahmadani Kartika Maharani Safitri Novitasari Wijayanti Yulianti""".split()
# Names given often enough that unrelated people share them (hard non-matches).
COMMON = [("M", "Muhammad Rizki"), ("F", "Siti Aminah"), ("M", "Budi Santoso"), ("F", "Sri Wahyuni"),
          ("M", "Agus Setiawan"), ("F", "Dewi Lestari"), ("M", "Slamet"), ("M", "Sutrisno"), ("F", "Nurul Hidayah"),
          ("M", "Ahmad Fauzi"), ("F", "Siti Fatimah"), ("M", "Eko Prasetyo")]  # fmt: skip

FOREIGN = {
    "chinese": {
        "family": "Tan Lim Liem Oey Ong Tjoa Kwee Gouw The Lie Wong Ang Tjan Sie Khoe Njoo Yap Thio Go Kho".split(),
        "M": ["Bun Seng", "Hong Lee", "Swie King", "Kim Hwa", "Tjin Hok", "Ah Kuan", "Tek Soen", "Kian Hoo",
              "Budi", "Hendra", "Sugianto", "Hartono", "Wijaya"],
        "F": ["Siok Lan", "Ay Ling", "Giok Nio", "Mei Ling", "Hui Min", "Lian Hwa", "Swan Nio", "Susi",
              "Linda", "Meiliana", "Lili"],
        "family_first": True,
    },
    "indian": {
        "family": "Kumar Singh Sharma Patel Nair Pillai Ramasamy Subramaniam Chandra Gupta Krishnan Menon".split(),
        "M": "Ramesh Suresh Rajesh Anand Vijay Gurmit Harjit Manoj Arjun Ravi Sanjay Deepak".split(),
        "F": "Priya Lakshmi Sunita Kavita Anjali Meena Radha Shanti Devi Kaur Parvati Geeta".split(),
        "family_first": False,
    },
    "arabic": {
        "family": "Al-Habsyi Assegaf Alatas Al-Jufri Alaydrus Shahab Baswedan Bawazier Al-Kaff Bafadhal".split(),
        "M": "Abdullah Abdurrahman Husein Hasan Salim Umar Alwi Muchsin Hamid Said Segaf Zein".split(),
        "F": "Fatimah Syarifah Aisyah Zainab Khadijah Sechah Nur Rugayah Salma Aminah Faizah Huda".split(),
        "family_first": False,
    },
    "western": {
        "family": ["Smith", "Brown", "Müller", "de Vries", "van der Berg", "O'Brien", "García", "Johnson",
                   "Nieuwenhuijs", "Schmidt", "Wilson", "Martin"],
        "M": "John Michael William Robert David Peter Thomas Hendrik Johannes Pieter Willem James".split(),
        "F": "Maria Elizabeth Anna Sarah Christina Stephanie Emma Sophie Laura Johanna Catherine Helen".split(),
        "family_first": False,
    },
}  # fmt: skip

# Nicknames and alternate spellings, keyed by the lower-case name word.
NICKNAMES = {
    "muhammad": ["Mamat", "Moh.", "M.", "Muh.", "Mhd.", "Muhamad", "Mohammad", "Mochamad", "Mohamad"],
    "ahmad": ["Amat", "Achmad", "Akhmad", "Ahmat", "Mad"],
    "slamet": ["Met", "Memet", "Selamet"],
    "bambang": ["Bams", "Bambam", "Mbang"],
    "siti": ["Ti", "Sitti", "St."],
    "abdul": ["Dul", "Abd.", "Abdoel"],
    "abdullah": ["Dullah", "Abdulah"],
    "abdurrahman": ["Abdul Rahman", "Abdurahman", "Durahman"],
    "nurul": ["Nunung", "Nur"],
    "nur": ["Nor", "Noer"],
    "yusuf": ["Ucup", "Yusup", "Yoesoef", "Jusuf"],
    "joko": ["Jack", "Jok", "Djoko"],
    "budi": ["Bud", "Budhi"],
    "agus": ["Gus", "Agoes", "Agustinus"],
    "rahmat": ["Mamat", "Rachmat", "Rakhmat"],
    "hendra": ["Hen", "Hendrawan"],
    "sutrisno": ["Tris", "Trisno", "Soetrisno"],
    "sugeng": ["Geng"],
    "suharto": ["Harto", "Soeharto"],
    "sukarno": ["Karno", "Soekarno"],
    "bagus": ["Gus"],
    "rizki": ["Rizky", "Riski", "Rizqi", "Kiki"],
    "saiful": ["Syaiful", "Sjaiful", "Ipul"],
    "fatimah": ["Imah", "Fatma", "Fatimatuz"],
    "khadijah": ["Ijah", "Chadijah", "Hadijah"],
    "aminah": ["Minah", "Aminatun"],
    "aisyah": ["Ais", "Icha", "Aisah"],
    "kartini": ["Tini"],
    "endang": ["Ndang"],
    "dewi": ["Wiwi", "Dewy"],
    "fitri": ["Fitry", "Pitri", "Fitria"],
    "yohanes": ["Yohanis", "Johanes", "Anes", "Jhon"],
    "fransiskus": ["Frans", "Fransiscus"],
    "agustinus": ["Agus", "Augustinus"],
    "maria": ["Mariah", "Mia"],
    "margaretha": ["Margareta", "Greta"],
    "theresia": ["Teresia", "Tere"],
    "wahyu": ["Wahju", "Yuyu"],
    "cahyo": ["Tjahjo", "Cahya"],
    "hidayat": ["Hidajat", "Dayat"],
    "syamsul": ["Sjamsul", "Samsul"],
    "khairul": ["Chairul", "Hairul", "Irul"],
    "zainal": ["Jainal", "Zaenal"],
    "junaidi": ["Djunaidi", "Junaedi", "Jun"],
    # Chinese-Indonesian, Indian, Arabic and Western spellings.
    "liem": ["Lim", "Salim"],
    "lim": ["Liem"],
    "oey": ["Oei", "Ui"],
    "tjoa": ["Cua", "Tjua"],
    "kwee": ["Kwik", "Kwe"],
    "gouw": ["Go", "Goh"],
    "the": ["Tee", "Te"],
    "tjan": ["Chan", "Can"],
    "njoo": ["Nyoo"],
    "thio": ["Tio"],
    "khoe": ["Kho", "Koe"],
    "subramaniam": ["Subramanian", "Subra"],
    "ramasamy": ["Ramaswamy"],
    "lakshmi": ["Laksmi"],
    "devi": ["Dewi"],
    "al-habsyi": ["Alhabsyi", "Al Habsji", "Al-Habshi"],
    "assegaf": ["Assegaff", "Asseggaf", "Al-Saqqaf"],
    "alatas": ["Al-Attas", "Al Atas"],
    "al-jufri": ["Aljufri", "Al-Djoefri"],
    "alaydrus": ["Al-Idrus", "Alaidrus"],
    "shahab": ["Syahab", "Sjahab"],
    "bawazier": ["Bawazir"],
    "syarifah": ["Sharifah", "Sjarifah", "Ipah"],
    "müller": ["Mueller", "Muller"],
    "van der berg": ["Vanderberg", "v.d. Berg"],
    "o'brien": ["OBrien", "O Brien"],
    "garcía": ["Garcia"],
    "nieuwenhuijs": ["Nieuwenhuis"],
    "johannes": ["Yohanes", "Johan", "Hans"],
    "hendrik": ["Hendrick", "Henk"],
    "willem": ["William", "Wim"],
    "pieter": ["Peter", "Piet"],
    "christina": ["Kristina", "Tina"],
    "stephanie": ["Stefani", "Stevani"],
    "michael": ["Mikael", "Mike"],
    "william": ["Bill", "Will"],
    "robert": ["Bob", "Robby"],
    "elizabeth": ["Elisabeth", "Liz", "Lisa"],
}
NICKNAME_RE = {key: re.compile(rf"(?<![^\s,]){re.escape(key)}(?![^\s,])") for key in NICKNAMES}
TITLES = {"M": ["H.", "Bpk.", "Drs.", "Ir.", "Tn.", "Pak"], "F": ["Hj.", "Ibu", "Dra.", "Ny.", "Bu"]}
DEGREES = [", S.Pd.", ", S.E.", " S.Pd.I", ", S.H.", ", A.Md.", " S.Kom"]

STREET_NAMES = [
    "Diponegoro", "Sudirman", "Gatot Subroto", "Merdeka", "Pemuda", "Ahmad Yani", "Imam Bonjol", "Teuku Umar",
    "Hasanuddin", "Pattimura", "Kartini", "Siliwangi", "Gajah Mada", "Hayam Wuruk", "Pangeran Antasari",
    "Kebon Jeruk", "Kramat Raya", "Salemba Raya", "Cendrawasih", "Rajawali", "Nusantara", "Sisingamangaraja",
    "Wahidin Sudirohusodo", "Dewi Sartika", "Cut Nyak Dien", "Ir. H. Juanda", "HOS Tjokroaminoto",
    "Soekarno-Hatta", "Raya Bogor", "Veteran", "Pahlawan", "Kaliurang", "Malioboro", "Urip Sumoharjo",
]  # fmt: skip
GANG_NAMES = ["Mawar", "Melati", "Kenanga", "Cempaka", "Anggrek", "Flamboyan", "Masjid", "Haji Naim", "Sawo",
              "Kelapa", "Damai", "Rukun", "Swadaya", "Langgar", "Sentosa"]  # fmt: skip
DUSUN = ["Krajan", "Karanganyar", "Sidomulyo", "Ngembel", "Kedungsari", "Tegalrejo", "Jatisari", "Sumberejo",
         "Wonosari", "Ngampel", "Banyuurip", "Cikoneng", "Babakan", "Sukamulya"]  # fmt: skip
PERUM = ["Griya Asri", "Bumi Indah", "Taman Sari", "Puri Harapan", "Graha Permai", "Villa Mutiara", "Citra Raya",
         "Pondok Hijau", "Bukit Cemara", "Taman Kedoya Baru"]  # fmt: skip
VILLAGE_HEADS = "Suka Mekar Karang Sumber Tanjung Sido Banjar Cipta Jati Kali Pasir Rawa Wono Tegal Pondok Ci".split()
VILLAGE_TAILS = "maju jaya sari rejo mulya asih makmur harjo agung wangi tengah baru indah kidul lor wetan".split()
# Address tokens written several ways: each group is interchangeable.
ABBREVIATIONS = [
    ["Jl.", "Jalan", "Jln.", "JL", "Jl"],
    ["Gg.", "Gang", "Gg"],
    ["No.", "No", "no.", "Nomor", "#"],
    ["Kp.", "Kampung", "Kmp."],
    ["Perum", "Perumahan", "Prm."],
    ["Blok", "Blk.", "Blk"],
    ["Komplek", "Kompleks", "Komp."],
    ["Apartemen", "Apt.", "Apartment"],
    ["Lt.", "Lantai", "Lt"],
    ["Dusun", "Dsn.", "Dsn"],
    ["Raya", "Ry."],
    ["Tower", "Twr"],
    ["Lorong", "Lrg."],
    ["Taman", "Tmn."],
]
ABBREVIATION_GROUP = {token.lower(): group for group in ABBREVIATIONS for token in group}
RT_RW = re.compile(
    r"\bRT\s*/\s*RW\s*0*(\d{1,3})\s*/\s*0*(\d{1,3})"  # RT/RW 003/005
    r"|\bRT\s*[.:]?\s*0*(\d{1,3})\s*(?:[/,]\s*|\s+)(?:RW\s*[.:]?\s*)?0*(\d{1,3})",  # RT 3/RW 5, RT.03 RW.05, RT 3/5
    re.IGNORECASE,
)
RT_RW_STYLES = [
    "RT {rt:03d}/RW {rw:03d}", "RT {rt:02d}/RW {rw:02d}", "RT.{rt}/RW.{rw}", "RT {rt} RW {rw}",
    "RT{rt:02d}/RW{rw:02d}", "RT {rt:03d}/{rw:03d}", "rt {rt} rw {rw}", "RT/RW {rt:03d}/{rw:03d}",
    "RT. {rt:02d} RW. {rw:02d}", "RT {rt:02d}/{rw:02d}",
]  # fmt: skip
HOUSE_NUMBER = re.compile(r"(?:\bNo\.?|\bNomor|#)\s*\d+[A-Za-z]?,?\s*", re.IGNORECASE)

QWERTY = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _neighbours() -> dict[str, str]:
    out: dict[str, str] = {}
    for r, row in enumerate(QWERTY):
        for c, key in enumerate(row):
            near = [row[i] for i in (c - 1, c + 1) if 0 <= i < len(row)]
            if r > 0:  # the row above is shifted half a key left of this one
                near += [QWERTY[r - 1][i] for i in (c, c + 1) if i < len(QWERTY[r - 1])]
            if r + 1 < len(QWERTY):
                near += [QWERTY[r + 1][i] for i in (c - 1, c) if 0 <= i < len(QWERTY[r + 1])]
            out[key] = "".join(near)
    return out


KEY_NEIGHBOURS = _neighbours()
DIGIT_NEIGHBOURS = {d: "".join(ch for ch in KEY_NEIGHBOURS[d] if ch.isdigit()) for d in QWERTY[0]}
# OCR confusions: (seen, read as) pairs for names and addresses, and for digits.
OCR_TEXT = [("rn", "m"), ("m", "rn"), ("cl", "d"), ("d", "cl"), ("l", "1"), ("l", "I"), ("I", "l"), ("I", "1"),
            ("O", "0"), ("o", "0"), ("S", "5"), ("s", "5"), ("B", "8"), ("0", "O"), ("1", "l"), ("5", "S"),
            ("8", "B")]  # fmt: skip
OCR_DIGITS = {"0": "O", "1": "lI", "5": "S", "8": "B"}

V, C = "aiueo", "bcdfgjklmnpqrstvwxz"
# Spelling variants as (regex on the lower-case word, replacements); one match is rewritten at a time.
PHONETIC = [
    (r"oe", ["u"]),
    (r"(?<![oa])u", ["oe"]),
    (r"dj", ["j"]),
    (r"(?<![dsnk])j", ["dj"]),
    (r"tj", ["c"]),
    (r"c(?!h)", ["tj"]),
    (r"(?<![sn])y", ["j"]),
    (r"(?<![dsnt])j(?=[aiueo])", ["y"]),
    (r"kh", ["ch", "h"]),
    (r"ch", ["kh", "h"]),
    (rf"(?<=[{V}])h(?=[{C}])", ["ch", "kh", ""]),  # Ahmad / Achmad / Akhmad / Amad
    (r"sj", ["sy"]),
    (r"sy", ["sj", "s"]),
    (r"nj", ["ny"]),
    (r"ny", ["nj"]),
    (r"h$", [""]),  # Fatimah / Fatima
    (rf"(?<=[{V}])$", ["h"]),  # Aisya / Aisyah
    (r"([bdfgklmnprstz])\1", ["\\1"]),  # Sitti / Siti, Muhammad / Muhamad
    (rf"(?<=[{V}])([bdfgklmnprst])(?=[{V}])", ["\\1\\1"]),
    (r"f", ["p"]),
    (r"v", ["f"]),
    (r"z", ["j", "s"]),
    (r"q", ["k"]),
    (r"th", ["t"]),
    (r"dh", ["d"]),
    (r"ph", ["f"]),
    (rf"(?<=[{C}])e(?=[{C}])", ["a", "i"]),  # Slamet / Selamet-like vowel slips: Setiawan / Satiawan
]
PHONETIC_RE = [(re.compile(pattern), repl) for pattern, repl in PHONETIC]
# Modern → old spelling, the first rule that applies rewriting every occurrence.
OLD_SPELLING = [(re.compile(a), b) for a, b in [(r"u", "oe"), (r"(?<![dsn])j", "dj"), (r"c(?!h)", "tj"),
                                                 (r"sy", "sj"), (r"kh", "ch"), (r"(?<![sn])y", "j")]]  # fmt: skip

# Missing-value rates per field (fractions of all records; ``name_part`` of records with a multi-part name).
MISSING = {"birth_date": 0.12, "address": 0.20, "village": 0.15, "phone": 0.25, "nik": 0.18, "name_part": 0.10}
MISSING_FIELDS = tuple(MISSING)
# Probabilities of each error in an enrolment that goes through the error model.
RATES = {
    "name_case": 0.25,
    "name_phonetic": 0.20,
    "name_nickname": 0.12,
    "name_keyboard": 0.08,
    "name_ocr": 0.05,
    "name_swap": 0.08,
    "name_initial": 0.04,
    "name_title": 0.04,
    "address_format": 0.50,
    "address_keyboard": 0.08,
    "address_ocr": 0.04,
    "address_drop_part": 0.10,
    "village_format": 0.20,
    "village_keyboard": 0.05,
    "village_ocr": 0.03,
    "village_phonetic": 0.05,
    "village_neighbour": 0.02,
    "nik_keyboard": 0.07,
    "nik_ocr": 0.04,
    "nik_transpose": 0.04,
    "nik_drop_digit": 0.02,
    "nik_family_card": 0.02,
    "nik_format": 0.12,
    "phone_format": 0.40,
    "phone_keyboard": 0.05,
    "phone_ocr": 0.03,
    "phone_changed": 0.06,
    "birth_swap_day_month": 0.06,
    "birth_year_typo": 0.04,
    "birth_off_by_one": 0.05,
    "birth_placeholder": 0.02,
    "sex_flip": 0.01,
}
COPIES = ([1, 2, 3, 4, 5], [55, 25, 11, 6, 3])  # enrolments per person, skewed towards one


def match_case(new: str, like: str) -> str:
    """``new`` in the letter case of ``like`` (UPPER, lower or Capitalised)."""
    if like.isupper():
        return new.upper()
    if like.islower():
        return new.lower()
    return new[:1].upper() + new[1:] if like[:1].isupper() else new


@dataclass
class Truth:
    pid: int
    sex: str
    name: str
    birth: dt.date
    nik: str
    family_card: str
    phone: str
    home_phone: str
    address: str
    village: str
    region: str
    occupation: str
    origin: str  # indonesian, chinese, indian, arabic, western

    def fields(self) -> dict:
        return {
            "nik": self.nik,
            "full_name": self.name,
            "birth_date": self.birth.isoformat(),
            "sex": self.sex,
            "phone": self.phone,
            "address": self.address,
            "village": self.village,
        }


@dataclass
class Made:
    """One enrolment as made: its field values and what was done to it (kept beside the record)."""

    values: dict
    corrupted: bool
    name_part_dropped: bool = False
    kinds: list[str] = field(default_factory=list)


class NoisyGenerator:
    def __init__(
        self,
        seed: int,
        *,
        missing: float | dict[str, float] | None = None,
        foreign: float = 0.10,
        clean_first: float = 0.5,
    ):
        self.rng = random.Random(seed)
        self.seed = seed
        self.missing = dict(MISSING)
        if isinstance(missing, int | float):
            self.missing = dict.fromkeys(MISSING_FIELDS, float(missing))
        elif missing:
            unknown = set(missing) - set(MISSING)
            if unknown:
                raise ValueError(f"unknown missing-value fields: {sorted(unknown)}")
            self.missing.update(missing)
        if not all(0 <= rate <= 1 for rate in self.missing.values()):
            raise ValueError("missing-value rates must lie in 0..1")
        self.foreign = foreign
        self.clean_first = clean_first
        self.serials: dict[str, int] = {}
        self.villages = {}
        for regency in REGENCIES:
            names = []
            while len(names) < 8:
                head, tail = self.rng.choice(VILLAGE_HEADS), self.rng.choice(VILLAGE_TAILS)
                name = f"{head}{tail}" if self.rng.random() < 0.7 else f"{head} {tail.capitalize()}"
                if name not in names:
                    names.append(name)
            self.villages[regency] = names
        self.truth: dict[int, Truth] = {}
        self.applied: dict[str, list[str]] = {}  # record id → errors applied (filled by ``run``)
        self.first_clean: dict[str, bool] = {}  # first record id of a person → made clean

    # -- people ------------------------------------------------------------------------------------
    def make_nik(self, region: str, birth: dt.date, sex: str, serial: int | None = None) -> str:
        day = birth.day + (40 if sex == "F" else 0)
        stem = f"{region}{day:02d}{birth.month:02d}{birth.year % 100:02d}"
        if serial is None:
            serial = self.serials.get(stem, self.rng.randint(0, 30)) + 1
        self.serials[stem] = max(self.serials.get(stem, 0), serial)
        return f"{stem}{serial:04d}"

    def family_card(self, region: str) -> str:
        issued = dt.date(2005, 1, 1) + dt.timedelta(days=self.rng.randrange(6500))
        return f"{region}{issued:%d%m%y}{self.rng.randint(1, 9999):04d}"

    def phone(self) -> str:
        rng = self.rng
        length = rng.choice([7, 8, 8, 9])
        return "08" + rng.choice(PHONE_PREFIXES)[1:] + "".join(rng.choice("0123456789") for _ in range(length))

    def birth(self, low: int, high: int) -> dt.date:
        start, end = dt.date(low, 1, 1), dt.date(high, 12, 31)
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))

    @staticmethod
    def old_spelling(word: str) -> str:
        """The pre-1972 spelling of a word, as still on older people's papers (Soetrisno, Djoko, Joesoef)."""
        low = word.lower()
        for rx, old in OLD_SPELLING:
            if rx.search(low):
                return match_case(rx.sub(old, low), word)
        return word

    def indonesian_name(self, sex: str, family: str | None, born: int) -> str:
        rng = self.rng
        if rng.random() < 0.05:
            same_sex = [name for s, name in COMMON if s == sex]
            return rng.choice(same_sex)
        given = [rng.choice(MALE if sex == "M" else FEMALE)]
        roll = rng.random()
        if given[0] in CHRISTIAN:  # no Muhammad or Siti before a baptismal name
            roll = 1.0
        if sex == "M" and roll < 0.15:
            given.insert(0, rng.choice(["Muhammad", "Muhammad", "Ahmad", "Abdul"]))
        elif sex == "F" and roll < 0.15:
            given.insert(0, rng.choice(["Siti", "Nur", "Sri", "Nurul"]))
        elif rng.random() < 0.25:
            given.append(rng.choice(MALE if sex == "M" else FEMALE))
        if family:
            words = [*given, family]
        elif rng.random() < 0.55:
            words = [*given, rng.choice(SECOND if sex == "M" or rng.random() < 0.3 else SECOND_F)]
        else:
            words = given
        words = list(dict.fromkeys(words))  # no repeated word
        if born < 1975 and rng.random() < 0.3:
            j = rng.randrange(len(words))
            words[j] = self.old_spelling(words[j])
        return " ".join(words)

    def foreign_name(self, origin: str, sex: str, family: str) -> str:
        rng = self.rng
        table = FOREIGN[origin]
        given = rng.choice(table[sex])
        if origin == "arabic" and rng.random() < 0.4:
            father = rng.choice(FOREIGN["arabic"]["M"])
            return f"{given} {'bin' if sex == 'M' else 'binti'} {father} {family}"
        if origin == "western" and rng.random() < 0.3:
            given = f"{given} {rng.choice(table[sex])}"
        if table["family_first"] and " " in given:  # Tan Bun Seng; but Hendra Tan, Linda Liem
            return f"{family} {given}"
        return f"{given} {family}"

    def indonesian_address(self) -> str:
        rng = self.rng
        rt, rw = rng.randint(1, 15), rng.randint(1, 12)
        rtrw = rng.choice(RT_RW_STYLES).format(rt=rt, rw=rw)
        number = f"{rng.randint(1, 150)}{rng.choice(['', '', '', '', 'A', 'B'])}"
        kind = rng.random()
        if kind < 0.35:
            return f"{rng.choice(['Jl.', 'Jalan', 'Jln.'])} {rng.choice(STREET_NAMES)} No. {number} {rtrw}"
        if kind < 0.55:
            roman = rng.choice(["", "", " II", " III", " IV", " 2", " 5"])
            return f"{rng.choice(['Gg.', 'Gang'])} {rng.choice(GANG_NAMES)}{roman} No. {number} {rtrw}"
        if kind < 0.75:
            return f"Dusun {rng.choice(DUSUN)} {rtrw}"
        if kind < 0.87:
            return f"Kp. {rng.choice(DUSUN)} {rtrw}"
        block = f"{rng.choice('ABCDEFG')}{rng.randint(1, 12)}"
        return f"Perum {rng.choice(PERUM)} Blok {block} No. {number}"

    def other_address(self) -> str:
        """Addresses in other formats: apartments, shophouses, English or Malaysian word order."""
        rng = self.rng
        street = rng.choice(STREET_NAMES)
        n = rng.randint(1, 250)
        return rng.choice(
            [
                f"Apartemen {rng.choice(['Kalibata City', 'Green Bay', 'Mediterania', 'Sudirman Park'])} Tower "
                f"{rng.choice('ABCDEFG')} Lt. {rng.randint(2, 30)} Unit {rng.randint(1, 40):02d}",
                f"Ruko {rng.choice(['Mangga Dua Square', 'Pluit Village', 'Harco', 'Glodok Plaza'])} Blok "
                f"{rng.choice('ABCDE')} No. {rng.randint(1, 60)}",
                f"Komplek {rng.choice(PERUM)} Blok {rng.choice('ABCDEFG')}{rng.randint(1, 9)}/{rng.randint(1, 40)}",
                f"{n} Jalan {street}",
                f"No. {n}, Lorong {rng.randint(1, 12)}, Taman {rng.choice(['Sri Muda', 'Melawati', 'Permata'])}",
                f"Villa {rng.randint(1, 30)}, Jl. Raya {rng.choice(['Ubud', 'Canggu', 'Seminyak', 'Uluwatu'])}",
                f"Unit {rng.randint(1, 30)}{rng.randint(1, 20):02d}, Tower {rng.choice('AB')}, {street} Residence",
            ]
        )

    def household(self, pid: int) -> list[Truth]:
        rng = self.rng
        regency = rng.choice(REGENCIES)
        region = f"{regency}{rng.randint(1, 12):02d}"
        village = rng.choice(self.villages[regency])
        origin = "indonesian"
        if rng.random() < self.foreign:
            origin = rng.choice(["chinese", "chinese", "indian", "arabic", "western"])
        if origin == "indonesian":
            family = rng.choice(CLANS) if rng.random() < 0.15 else None
            address = self.other_address() if rng.random() < 0.03 else self.indonesian_address()
        else:
            family = rng.choice(FOREIGN[origin]["family"])
            address = self.other_address() if rng.random() < 0.6 else self.indonesian_address()
        home_phone = self.phone()
        card = self.family_card(region)
        people: list[Truth] = []

        def add(sex: str, birth: dt.date, *, name: str | None = None, serial: int | None = None, own_phone=0.5):
            if name is None:
                if origin == "indonesian":
                    name = self.indonesian_name(sex, family, birth.year)
                else:
                    name = self.foreign_name(origin, sex, family)
            phone = home_phone if not people or rng.random() > own_phone else self.phone()
            nik = self.make_nik(region, birth, sex, serial)
            occupation = rng.choice(OCCUPATIONS)
            fixed = {"family_card": card, "home_phone": home_phone, "address": address, "village": village}
            people.append(
                Truth(
                    pid + len(people),
                    sex,
                    name,
                    birth,
                    nik,
                    phone=phone,
                    region=region,
                    occupation=occupation,
                    origin=origin,
                    **fixed,
                )
            )

        head_sex = rng.choice("MF")
        head_birth = self.birth(1958, 2004)
        add(head_sex, head_birth)
        roll = rng.random()
        if roll < 0.30:  # spouse
            sex = "F" if head_sex == "M" else "M"
            spouse_birth = head_birth + dt.timedelta(days=rng.randint(-3000, 3000))
            add(sex, min(max(spouse_birth, dt.date(1955, 1, 1)), dt.date(2006, 12, 31)))
        if 0.20 < roll < 0.38 and head_birth.year <= 1985:  # an adult child
            add(rng.choice("MF"), self.birth(head_birth.year + 18, min(head_birth.year + 30, 2006)))
        if roll > 0.98:  # twins (the head's children or siblings): one birth date, consecutive NIK serials
            birth = self.birth(head_birth.year + 18, head_birth.year + 26) if head_birth.year <= 1980 else head_birth
            sex = rng.choice("MF")
            first = self.make_nik(region, birth, sex)
            add(sex, birth, serial=int(first[-4:]))
            add(sex if rng.random() < 0.6 else ("F" if sex == "M" else "M"), birth, serial=int(first[-4:]) + 1)
        return people

    # -- character-level errors --------------------------------------------------------------------
    def keyboard(self, text: str, *, digits_only: bool = False) -> str:
        """One slip on a QWERTY keyboard: an adjacent key instead, an adjacent key as well, a key
        missed, or two keys swapped. ``digits_only`` touches digits only (NIK, phone)."""
        rng = self.rng
        typeable = str.isdigit if digits_only else (lambda ch: ch.lower() in KEY_NEIGHBOURS)
        spots = [i for i, ch in enumerate(text) if typeable(ch)]
        if not spots:
            return text
        i = rng.choice(spots)
        ch = text[i]
        near = DIGIT_NEIGHBOURS[ch] if digits_only else KEY_NEIGHBOURS[ch.lower()]
        if not digits_only and ch.isalpha():
            near = "".join(k for k in near if k.isalpha())
        other = rng.choice(near)
        other = other.upper() if ch.isupper() else other
        kind = rng.random()
        if kind < 0.55 or len(spots) < 4:
            return text[:i] + other + text[i + 1 :]
        if kind < 0.75:
            return text[:i] + ch + other + text[i + 1 :] if rng.random() < 0.5 else text[:i] + other + text[i:]
        if kind < 0.88:
            return text[:i] + text[i + 1 :]
        j = i + 1 if i + 1 < len(text) and typeable(text[i + 1]) else i - 1
        if j < 0 or not typeable(text[j]) or text[i] == text[j]:
            return text[:i] + other + text[i + 1 :]
        a, b = min(i, j), max(i, j)
        return text[:a] + text[b] + text[a] + text[b + 1 :]

    def ocr(self, text: str) -> str:
        """One OCR confusion (as from a scanned KTP): rn/m, cl/d, l/1/I, O/0, S/5, B/8."""
        spots = [(i, seen, read) for seen, read in OCR_TEXT for i in _find_all(text, seen)]
        if not spots:
            return text
        i, seen, read = self.rng.choice(spots)
        return text[:i] + read + text[i + len(seen) :]

    def ocr_digit(self, text: str) -> str:
        spots = [i for i, ch in enumerate(text) if ch in OCR_DIGITS]
        if not spots:
            return text
        i = self.rng.choice(spots)
        return text[:i] + self.rng.choice(OCR_DIGITS[text[i]]) + text[i + 1 :]

    def phonetic(self, word: str) -> str:
        """One spelling variant of a word: old/new spelling, h/ch/kh, doubled letters, a final h."""
        low = word.lower()
        spots = [(m, repl) for rx, repl in PHONETIC_RE for m in rx.finditer(low)]
        if not spots:
            return word
        m, repl = self.rng.choice(spots)
        new = low[: m.start()] + m.expand(self.rng.choice(repl)) + low[m.end() :]
        return match_case(new, word) if new else word

    # -- field errors ------------------------------------------------------------------------------
    def name(self, name: str, sex: str, kinds: list[str]) -> str:
        rng = self.rng
        words = name.split()
        if rng.random() < RATES["name_nickname"]:
            low = name.lower()
            spots = [m for rx in NICKNAME_RE.values() for m in rx.finditer(low)]
            if spots:
                m = rng.choice(spots)
                new = match_case(rng.choice(NICKNAMES[m.group(0)]), name[m.start() : m.end()])
                words = (name[: m.start()] + new + name[m.end() :]).split()
                kinds.append("name_nickname")
        if rng.random() < RATES["name_phonetic"]:
            spots = [i for i, w in enumerate(words) if len(w) > 2 and not w.endswith(".")]
            if spots:
                i = rng.choice(spots)
                new = self.phonetic(words[i])
                if new != words[i]:
                    words[i] = new
                    kinds.append("name_phonetic")
        if len(words) > 1 and rng.random() < RATES["name_swap"]:
            words = [w.rstrip(",") for w in words]
            if len(words) == 2 or rng.random() < 0.5:
                words = [words[-1], *words[:-1]]  # surname first, as on some forms
            else:
                words = [*words[1:], words[0]]
            if rng.random() < 0.25:
                words[0] += ","
            kinds.append("name_swap")
        if len(words) > 1 and rng.random() < RATES["name_initial"]:
            i = rng.randrange(len(words))
            if len(words[i]) > 2 and words[i][0].isalpha():
                words[i] = words[i][0].upper() + "."
                kinds.append("name_initial")
        text = " ".join(words)
        if rng.random() < RATES["name_keyboard"]:
            text = self.keyboard(text)
            kinds.append("name_keyboard")
        if rng.random() < RATES["name_ocr"]:
            new = self.ocr(text)
            if new != text:
                text = new
                kinds.append("name_ocr")
        if rng.random() < RATES["name_title"]:
            if rng.random() < 0.7:
                text = f"{rng.choice(TITLES[sex])} {text}"
            else:
                text += rng.choice(DEGREES)
            kinds.append("name_title")
        if rng.random() < RATES["name_case"]:
            roll = rng.random()
            text = text.upper() if roll < 0.7 else text.lower() if roll < 0.85 else text.title()
            kinds.append("name_case")
        return text

    def drop_name_part(self, name: str) -> str:
        words = name.split()
        parts = [i for i, w in enumerate(words) if w.rstrip(",.").lower() not in {"bin", "binti"}]
        del words[self.rng.choice(parts)]
        return " ".join(words).rstrip(",")

    def address(self, address: str, kinds: list[str]) -> str:
        rng = self.rng
        if rng.random() < RATES["address_format"]:
            tokens = address.split(" ")
            spots = [i for i, t in enumerate(tokens) if t.lower().rstrip(",") in ABBREVIATION_GROUP]
            if spots and rng.random() < 0.6:  # one token rewritten, or (else) all of them
                spots = [rng.choice(spots)]
            for i in spots:
                group = ABBREVIATION_GROUP[tokens[i].lower().rstrip(",")]
                tokens[i] = rng.choice(group) + ("," if tokens[i].endswith(",") else "")
            address = " ".join(tokens)
            match = RT_RW.search(address)
            if match and rng.random() < 0.7:
                rt, rw = (int(g) for g in (match.groups()[:2] if match.group(1) else match.groups()[2:]))
                style = rng.choice(RT_RW_STYLES).format(rt=rt, rw=rw)
                address = address[: match.start()] + style + address[match.end() :]
            if rng.random() < 0.15 and " RT" in address.upper():
                cut = address.upper().index(" RT")
                address = address[:cut] + "," + address[cut:]
            kinds.append("address_format")
        if rng.random() < RATES["address_drop_part"]:
            match = RT_RW.search(address)
            number = HOUSE_NUMBER.search(address)
            if match and (not number or rng.random() < 0.5):
                address = (address[: match.start()] + address[match.end() :]).strip(" ,")
            elif number:
                address = (address[: number.start()] + address[number.end() :]).strip(" ,")
            address = " ".join(address.split())
            kinds.append("address_drop_part")
        if rng.random() < RATES["address_keyboard"]:
            address = self.keyboard(address)
            kinds.append("address_keyboard")
        if rng.random() < RATES["address_ocr"]:
            address = self.ocr(address)
            kinds.append("address_ocr")
        if rng.random() < 0.1:
            address = address.upper()
        return address

    def village(self, village: str, truth: Truth, kinds: list[str]) -> str:
        rng = self.rng
        if rng.random() < RATES["village_neighbour"]:
            others = [v for v in self.villages[truth.region[:4]] if v != truth.village]
            village = rng.choice(others)
            kinds.append("village_neighbour")
        if rng.random() < RATES["village_phonetic"]:
            village = self.phonetic(village)
            kinds.append("village_phonetic")
        if rng.random() < RATES["village_format"]:
            bare = re.sub(r"^(Desa|Ds\.|Kel\.|Kelurahan|DESA|KEL\.)\s+", "", village)
            if rng.random() < 0.2:  # written as one word or as two: Sukamaju / Suka Maju
                head = next((h for h in VILLAGE_HEADS if bare.startswith(h) and len(bare) > len(h) + 2), None)
                if " " in bare:
                    bare = bare.replace(" ", "").capitalize()
                elif head:
                    bare = f"{head} {bare[len(head) :].capitalize()}"
            prefix = rng.choice(["", "", "Desa ", "Ds. ", "Kel. ", "Kelurahan "])
            village = prefix + bare
            if rng.random() < 0.4:
                village = village.upper()
            kinds.append("village_format")
        if rng.random() < RATES["village_keyboard"]:
            village = self.keyboard(village)
            kinds.append("village_keyboard")
        if rng.random() < RATES["village_ocr"]:
            village = self.ocr(village)
            kinds.append("village_ocr")
        return village

    def nik_error(self, nik: str, truth: Truth, kinds: list[str]) -> str:
        """Errors on the NIK as written in ``nik`` (its grouping and any OCR letter are kept)."""
        rng = self.rng
        if rng.random() < RATES["nik_family_card"]:  # the family card number typed instead
            kinds.append("nik_family_card")
            return truth.family_card
        if rng.random() < RATES["nik_keyboard"]:
            nik = self.keyboard(nik, digits_only=True)
            kinds.append("nik_keyboard")
        digits = [i for i, ch in enumerate(nik) if ch.isdigit()]
        if rng.random() < RATES["nik_transpose"] and len(digits) > 2:
            k = rng.randrange(len(digits) - 1)
            i, j = digits[k], digits[k + 1]
            if nik[i] != nik[j]:
                nik = nik[:i] + nik[j] + nik[i + 1 : j] + nik[i] + nik[j + 1 :]
                kinds.append("nik_transpose")
        if rng.random() < RATES["nik_drop_digit"] and digits:
            i = rng.choice(digits)
            nik = nik[:i] + nik[i + 1 :]
            kinds.append("nik_drop_digit")
        if rng.random() < RATES["nik_ocr"]:
            new = self.ocr_digit(nik)
            if new != nik:
                nik = new
                kinds.append("nik_ocr")
        bare = re.sub(r"[\s.\-]", "", nik)
        if rng.random() < RATES["nik_format"] and len(bare) == 16:
            nik = rng.choice(
                [
                    bare,
                    f"{bare[:6]} {bare[6:12]} {bare[12:]}",
                    f"{bare[:4]} {bare[4:8]} {bare[8:12]} {bare[12:]}",
                    f"{bare[:2]}.{bare[2:4]}.{bare[4:6]}.{bare[6:12]}.{bare[12:]}",
                ]
            )
            kinds.append("nik_format")
        return nik

    def phone_error(self, phone: str, truth: Truth, kinds: list[str]) -> str:
        """Errors on the phone as written in ``phone`` (its format is kept unless rewritten)."""
        rng = self.rng
        if rng.random() < RATES["phone_changed"]:  # a new SIM card, or the home phone given instead
            phone = truth.home_phone if truth.phone != truth.home_phone and rng.random() < 0.5 else self.phone()
            kinds.append("phone_changed")
        if rng.random() < RATES["phone_keyboard"]:
            phone = self.keyboard(phone, digits_only=True)
            kinds.append("phone_keyboard")
        if rng.random() < RATES["phone_ocr"]:
            new = self.ocr_digit(phone)
            if new != phone:
                phone = new
                kinds.append("phone_ocr")
        digits = re.sub(r"[\s+\-]", "", phone)
        if rng.random() < RATES["phone_format"] and digits.isdigit():
            local = "0" + digits[2:] if digits.startswith("62") else digits if digits.startswith("0") else "0" + digits
            rest = local[1:]
            phone = rng.choice(
                [
                    local,
                    "62" + rest,
                    "+62 " + rest,
                    f"{local[:4]}-{local[4:8]}-{local[8:]}",
                    rest,
                    f"+62 {rest[:3]}-{rest[3:7]}-{rest[7:]}",
                    f"{local[:4]} {local[4:8]} {local[8:]}",
                ]
            )
            kinds.append("phone_format")
        return phone

    def birth_error(self, text: str, kinds: list[str]) -> str:
        rng = self.rng
        birth = dt.date.fromisoformat(text)
        if rng.random() < RATES["birth_swap_day_month"] and birth.day <= 12 and birth.day != birth.month:
            birth = dt.date(birth.year, birth.day, birth.month)
            kinds.append("birth_swap_day_month")
        if rng.random() < RATES["birth_year_typo"]:
            year = str(birth.year)
            roll = rng.random()
            if roll < 0.4:
                year = year[:2] + year[3] + year[2]  # 1985 → 1958
            else:
                i = rng.choice([2, 3])
                year = year[:i] + rng.choice(DIGIT_NEIGHBOURS[year[i]]) + year[i + 1 :]
            if 1930 <= int(year) <= 2008 and int(year) != birth.year:
                birth = birth.replace(year=int(year), day=min(birth.day, 28) if birth.month == 2 else birth.day)
                kinds.append("birth_year_typo")
        if rng.random() < RATES["birth_off_by_one"]:
            birth += dt.timedelta(days=rng.choice([-1, 1]))
            kinds.append("birth_off_by_one")
        if rng.random() < RATES["birth_placeholder"]:  # date unknown: 1 January or 31 December of the year
            birth = birth.replace(month=1, day=1) if rng.random() < 0.7 else birth.replace(month=12, day=31)
            kinds.append("birth_placeholder")
        return birth.isoformat()

    # -- enrolments --------------------------------------------------------------------------------
    def make(self, truth: Truth, source: Made | None) -> Made:
        """An enrolment of ``truth``: clean (first only, half the time) or corrupted from ``source``
        (an earlier enrolment of the same person; the truth for a corrupted first one)."""
        rng = self.rng
        clean = source is None and rng.random() < self.clean_first
        base = truth.fields()
        if source is not None:
            base = {k: (v if v not in (None, "") else base[k]) for k, v in source.values.items() if k in base}
            if source.name_part_dropped:  # the name is written again from the ID card
                base["full_name"] = truth.name
        kinds: list[str] = []
        values = dict(base)
        if not clean:
            values["full_name"] = self.name(base["full_name"], truth.sex, kinds)
            values["address"] = self.address(base["address"], kinds)
            values["village"] = self.village(base["village"], truth, kinds)
            values["nik"] = self.nik_error(base["nik"], truth, kinds)
            values["phone"] = self.phone_error(base["phone"], truth, kinds)
            values["birth_date"] = self.birth_error(base["birth_date"], kinds)
            if rng.random() < RATES["sex_flip"]:
                values["sex"] = "F" if base["sex"] == "M" else "M"
                kinds.append("sex_flip")
            if values == base:  # every enrolment through the error model carries at least one error
                values["full_name"] = self.keyboard(values["full_name"])
                kinds.append("name_keyboard")
        made = Made(values, corrupted=not clean, kinds=kinds)
        for name in ("birth_date", "address", "village", "phone", "nik"):
            if rng.random() < self.missing[name]:
                values[name] = rng.choice([None, None, ""]) if name == "nik" else None
                kinds.append(f"missing_{name}")
        if len(values["full_name"].split()) > 1 and rng.random() < self.missing["name_part"]:
            values["full_name"] = self.drop_name_part(values["full_name"])
            made.name_part_dropped = True
            kinds.append("missing_name_part")
        return made

    def run(self, n: int, agents: int = 20, sex_phone: bool = True) -> list[dict]:
        rng = self.rng
        horizon = float(max(n, 1))
        made: list[tuple[float, int, Truth, Made, int]] = []  # arrival, sequence, person, enrolment, agent
        pid = 0
        while len(made) < n:
            for person in self.household(pid):
                pid = max(pid, person.pid + 1)
                self.truth[person.pid] = person
                copies = rng.choices(*COPIES)[0]
                home_agent = rng.randrange(agents)
                at = rng.random() * horizon
                mine: list[Made] = []
                for k in range(copies):
                    enrolment = self.make(person, rng.choice(mine) if mine else None)
                    agent = home_agent if k == 0 or rng.random() < 0.25 else rng.randrange(agents)
                    if k:
                        at += rng.expovariate(1.0) * horizon * 0.05
                    mine.append(enrolment)
                    made.append((at, len(made), person, enrolment, agent))
        made = sorted(made[:n], key=lambda m: (m[0], m[1]))
        records = []
        first_seen: set[int] = set()
        for i, (_at, _seq, person, enrolment, agent) in enumerate(made):
            v = enrolment.values
            record = {
                "nik": v["nik"],
                "full_name": v["full_name"],
                "birth_date": v["birth_date"],
                "sex": v["sex"] if sex_phone else None,
                "phone": v["phone"] if sex_phone else None,
                "occupation": person.occupation,
                "address": v["address"],
                "village": v["village"],
                "programs": "JKK,JKM",
                "monthly_income": 2_000_000,
                "_person": person.pid,
                "_agent": agent,
                "id": f"nsy{self.seed}x{i:07d}",
            }
            self.applied[record["id"]] = list(enrolment.kinds)
            if person.pid not in first_seen:
                first_seen.add(person.pid)
                self.first_clean[record["id"]] = not enrolment.corrupted
            records.append(record)
        return records


def _find_all(text: str, part: str):
    start = text.find(part)
    while start >= 0:
        yield start
        start = text.find(part, start + 1)


def generate(
    n: int,
    seed: int = 42,
    agents: int = 20,
    *,
    sex_phone: bool = True,
    missing: float | dict[str, float] | None = None,
    foreign: float = 0.10,
) -> list[dict]:
    """``n`` enrolments in arrival order, each with ``_person`` (truth) and ``_agent`` (0..agents-1).

    ``sex_phone=False`` leaves sex and phone empty (None) in every record, the rest unchanged for the
    same seed. ``missing`` is one rate for every field or a dict of rates by field (see ``MISSING``).
    """
    return NoisyGenerator(seed, missing=missing, foreign=foreign).run(n, agents=agents, sex_phone=sex_phone)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=20000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--no-sex-phone", action="store_true", help="leave sex and phone empty in every record")
    parser.add_argument("--missing", type=float, default=None, help="one missing-value rate for every field")
    parser.add_argument("--foreign", type=float, default=0.10, help="share of non-Indonesian households")
    args = parser.parse_args()
    records = generate(
        args.n, args.seed, args.agents, sex_phone=not args.no_sex_phone, missing=args.missing, foreign=args.foreign
    )
    for record in records:
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
