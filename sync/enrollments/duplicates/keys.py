"""Blocking keys: the values an enrolment shares with the records of its person, stored in ``match_keys``.

A record meets a candidate person through any one key, so each key needs only a few intact fields, and
the set is chosen so that any two intact fields among NIK, name, birth date, village, address and phone
still share one (``PAIRS`` names the key for each pair; ``tests/sync/enrollments/test_dedup_keys.py``
checks them all):

- ``nik``: the NIK's digits (16, or 12 to 15 as typed); ``nik_head``: its first half with the birth year and
  month, and ``nik_tail``: its last 8 digits, so that one wrong or dropped digit leaves one of them intact;
- ``phone``;
- the name's sound (``name_sound``: its significant words' phonetic codes, sorted, so word order and most
  spelling variants do not matter) with the birth year and month, and with the day and month in either
  order;
- two words of the name (the two whose sounds sort first, so word order does not matter; common words
  too: ``every_word_sound``), each with the birth date (``birth_word``), with the village
  (``name_village``) and with the address (``word_address``): a dropped, added or misspelt word spoils
  only its own keys;
- the birth date with the village and with the address; the village with the address.

The address counts by its house number (or, without one, its RT and RW) and the sound of its first place
word: the parts that survive the many ways of writing ``Jl.``, ``No.`` and ``RT/RW``. When this recipe
changes, stored keys no longer meet new ones: a migration empties ``match_keys`` and the sweep's backfill
(or ``jangkau rekey-dedup``) rebuilds it. Each key is stored as a one-letter
kind code and a keyed hash (``PiiProtector.blind_index``) of its value: nothing readable.

A value shared by very many records says little and costs much: a key held by more live enrolments
than its kind's cap (``CAPS``: a household or a family phone is small, a name with a birth year less so)
is left out of matching. So a placeholder address, a birth date of 1 January or an agent's own phone
typed for everybody make no block of thousands.
"""

from __future__ import annotations

from sync.enrollments.duplicates.compare import Person
from sync.enrollments.duplicates.normalize import phonetic, significant_tokens
from sync.pii import PiiProtector

# Kind → the code letter its stored keys start with. ``birth_word``, ``name_village`` and ``word_address`` have
# up to ``WORDS`` values: a third word found no pair the first two missed on either synthetic set
# (``bench/dedup_fit.py``), and each one is three more index scans per pushed enrolment.
WORDS = 2
CODES = {
    "nik": "n",
    "nik_head": "h",
    "nik_tail": "t",
    "phone": "p",
    "name_month": "m",
    "name_day_month": "d",
    "name_village": "v",
    "birth_word": "w",
    "birth_village": "b",
    "birth_address": "c",
    "village_address": "l",
    "word_address": "r",
}
KEY_KINDS = tuple(CODES)
FIELDS = ("nik", "name", "birth", "village", "address", "phone")
# The key that brings two records together when these two fields (and perhaps nothing else) agree.
PAIRS = {
    **{frozenset(("nik", f)): "nik" for f in FIELDS if f != "nik"},
    **{frozenset(("phone", f)): "phone" for f in FIELDS if f != "phone"},
    frozenset(("name", "birth")): "name_month",
    frozenset(("name", "village")): "name_village",
    frozenset(("name", "address")): "word_address",
    frozenset(("birth", "village")): "birth_village",
    frozenset(("birth", "address")): "birth_address",
    frozenset(("village", "address")): "village_address",
}
# Live enrolments one key value may hold before it is left out of matching. An address or a phone is
# shared by a household, a common word of a name by many in one village; a name with a birth date by
# namesakes.
BLOCK_CAP = 50
# Hex digits of the keyed hash kept (64 bits): the store holds some fifteen keys per enrolment, and a rare
# collision only adds a candidate, which the comparison then turns down.
HASH_CHARS = 16
HOUSEHOLD_CAP = 12
CAPS = {CODES[k]: HOUSEHOLD_CAP for k in ("phone", "birth_address", "village_address", "word_address", "name_village")}


def key_cap(key: str) -> int:
    """How many live enrolments a stored key may hold and still be used (by its kind code)."""
    return CAPS.get(key[:1], BLOCK_CAP)


def name_sound(person: Person) -> str:
    """The phonetic codes of the name's significant words, sorted; "" without a name."""
    return ".".join(sorted(word_sounds(person)))


def word_sounds(person: Person) -> list[str]:
    return [phonetic(t) for t in significant_tokens(person.tokens) if t]


def every_word_sound(person: Person) -> list[str]:
    """The phonetic codes of every word of two letters or more, common ones (Abdul, Siti) included: with a
    birth date or an address beside it a common word is selective enough, and a misspelt rare word may
    leave only the common one intact."""
    return [phonetic(t) for t in person.tokens if len(t) > 1] or word_sounds(person)


def address_sound(person: Person) -> str:
    """The house number and the sound of the first place word; without a house number, RT and RW instead;
    "" when the address has no number. RT and RW are left out beside a house number because they are the
    part most often omitted or garbled ("RT O06"), and street and number already place the house."""
    address = person.address
    if address is None or (address.number is None and address.rt is None and address.rw is None):
        return ""
    first = next((phonetic(t) for t in address.tokens if t.isalpha()), "")
    if address.number is not None:
        return f"{address.number}/{first}"
    return f"/{address.rt or ''}/{address.rw or ''}/{first}"


def blocking_keys(person: Person, pii: PiiProtector) -> dict[str, str | None]:
    """Every blocking key of a person by kind (``birth_word``, ``birth_word2``, … for each word), as stored;
    None where the fields a key needs are missing. Keys of one kind compare whatever their position."""
    nik, birth, village = person.nik, person.any_birth, person.village
    name, address = name_sound(person), address_sound(person)
    date = birth.isoformat() if birth else ""
    day_month = f"{min(birth.day, birth.month)}-{max(birth.day, birth.month)}" if birth else ""
    values: dict[str, tuple[str, str]] = {
        "nik": ("nik", nik if len(nik) >= 12 else ""),
        # The first half (region, birth day) with the birth year and month: a typo in the second half (where
        # the serial is, small and shared across districts) spoils the NIK but not this.
        "nik_head": ("nik_head", f"{nik[:8]}|{birth.year}-{birth.month}" if len(nik) >= 15 and birth else ""),
        # The last 8 digits (birth month and year, serial): a typo or a dropped digit in the first half.
        "nik_tail": ("nik_tail", nik[-8:] if len(nik) >= 15 else ""),
        "phone": ("phone", person.phone_index or ""),
        # With the year and month, or the day and month in either order (a typo or a swap spoils one).
        "name_month": ("name_month", f"{name}|{birth.year}-{birth.month}" if name and birth else ""),
        "name_day_month": ("name_day_month", f"{name}|{day_month}" if name and birth else ""),
        "birth_village": ("birth_village", f"{date}|{village}" if date and village else ""),
        "birth_address": ("birth_address", f"{date}|{address}" if date and address else ""),
        "village_address": ("village_address", f"{village}|{address}" if village and address else ""),
    }
    words = sorted(set(every_word_sound(person)))[:WORDS]
    for i in range(WORDS):
        word = words[i] if i < len(words) else ""
        values["birth_word" + (str(i + 1) if i else "")] = ("birth_word", f"{date}|{word}" if word and date else "")
        values["name_village" + (str(i + 1) if i else "")] = (
            "name_village",
            f"{word}|{village}" if word and village else "",
        )
        values["word_address" + (str(i + 1) if i else "")] = (
            "word_address",
            f"{word}|{address}" if word and address else "",
        )
    return {label: _stored(pii, kind, value) for label, (kind, value) in values.items()}


def _stored(pii: PiiProtector, kind: str, value: str) -> str | None:
    digest = pii.blind_index(f"key:{kind}", value) if value else None
    return CODES[kind] + digest[:HASH_CHARS] if digest else None


def key_set(person: Person, pii: PiiProtector) -> set[str]:
    """The person's keys as stored in ``match_keys``."""
    return {key for key in blocking_keys(person, pii).values() if key}
