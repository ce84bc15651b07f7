"""Realistic demo data (Faker ``id_ID``), written through the real push path so it looks like field work."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.accounts.principal import Principal
from sync.accounts.users import create_branch, create_user
from sync.models import Branch, User, new_id
from sync.pii import PiiProtector
from sync.protocol.push import push
from sync.settings import EngineSettings

DEMO_PASSWORD = "jangkau-demo-123"

BRANCHES = [
    # code, name, kind, lat, lon, region, NIK regency code prefix
    ("KCU-KARAWANG", "KCU Karawang", "KCU", -6.3053, 107.3027, "Jawa Barat", "3215"),
    ("KC-INDRAMAYU", "KC Indramayu", "KC", -6.3264, 108.3200, "Jawa Barat", "3212"),
    ("KCU-MAKASSAR", "KCU Makassar", "KCU", -5.1354, 119.4238, "Sulawesi Selatan", "7371"),
    ("KC-DENPASAR", "KC Denpasar", "KC", -8.6556, 115.2160, "Bali", "5171"),
]
OCCUPATIONS = ["nelayan", "sopir_angkot", "tukang_becak", "ojek", "pedagang", "petani", "buruh_harian", "ukm"]
MOBILE_PREFIXES = ["11", "12", "13", "21", "22", "52", "53", "57", "58", "59", "77", "78", "95", "96", "97", "98"]
OUTCOMES = ["enrolled", "enrolled", "interested", "follow_up", "refused", "not_home", "already_member"]


@dataclass
class DemoLogin:
    username: str
    role: str
    branch: str | None


def make_nik(rng: random.Random, regency: str, birth: dt.date, sex: str) -> str:
    day = birth.day + (40 if sex == "F" else 0)
    return (
        f"{regency}{rng.randint(1, 30):02d}{day:02d}{birth.month:02d}{birth.year % 100:02d}{rng.randint(1, 9999):04d}"
    )


def _enrollment_and_visit(fake: Faker, rng: random.Random, branch: tuple, now_ms: int) -> tuple[dict, dict]:
    _, _, _, lat, lon, _, regency = branch
    sex = rng.choice("MF")
    birth = fake.date_of_birth(minimum_age=18, maximum_age=60)
    name = fake.name_male() if sex == "M" else fake.name_female()
    visit_id, enrol_id = new_id(), new_id()
    visited_at = now_ms - rng.randint(0, 20) * 86_400_000 - rng.randint(0, 8) * 3_600_000
    outcome = rng.choice(OUTCOMES)
    occupation = rng.choice(OCCUPATIONS)
    visit = {
        "id": visit_id,
        "enrollment_id": enrol_id if outcome == "enrolled" else None,
        "worker_id": None,
        "visited_at": visited_at,
        "latitude": round(lat + rng.uniform(-0.12, 0.12), 6),
        "longitude": round(lon + rng.uniform(-0.12, 0.12), 6),
        "accuracy_m": round(rng.uniform(4, 40), 1),
        "is_mock_location": False,
        "outcome": outcome,
        "occupation": occupation,
        "notes": fake.sentence(nb_words=6),
    }
    enrollment = {
        "id": enrol_id,
        "nik": make_nik(rng, regency, birth, sex),
        "full_name": name,
        "birth_date": birth.isoformat(),
        "sex": sex,
        "phone": rng.choice(["08", "628", "+62 8"]) + rng.choice(MOBILE_PREFIXES) + str(rng.randint(1000000, 99999999)),
        "occupation": occupation,
        "address": fake.street_address(),
        "village": fake.city(),
        "programs": rng.choice(["JKK,JKM", "JKK,JKM,JHT"]),
        "monthly_income": rng.choice([1_000_000, 1_500_000, 2_000_000, 3_000_000]),
        "visit_id": visit_id,
        "captured_at": visited_at,
    }
    return enrollment, visit


def seed_demo(
    session: Session,
    pii: PiiProtector,
    *,
    agents_per_branch: int = 3,
    visits_per_agent: int = 25,
    seed: int = 7,
    settings: EngineSettings | None = None,
) -> list[DemoLogin]:
    """Branches, an admin, a supervisor and agents per branch, and each agent's synced field work."""
    if session.execute(select(User.id).where(User.username == "admin")).first():
        raise ValueError("demo data is already present")
    fake, rng = Faker("id_ID"), random.Random(seed)
    Faker.seed(seed)
    logins = [DemoLogin("admin", "admin", None)]
    create_user(
        session, username="admin", password=DEMO_PASSWORD, role="admin", branch_code=None, full_name="Admin Jangkau"
    )
    now = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    for spec in BRANCHES:
        code, name, kind, lat, lon, region, _ = spec
        create_branch(session, code=code, name=name, kind=kind, lat=lat, lon=lon, region=region)
        slug = code.lower().split("-", 1)[1]
        create_user(
            session,
            username=f"spv.{slug}",
            password=DEMO_PASSWORD,
            role="supervisor",
            branch_code=code,
            full_name=fake.name(),
        )
        logins.append(DemoLogin(f"spv.{slug}", "supervisor", code))
        for number in range(1, agents_per_branch + 1):
            agent = create_user(
                session,
                username=f"agen{number}.{slug}",
                password=DEMO_PASSWORD,
                role="agent",
                branch_code=code,
                full_name=fake.name(),
            )
            logins.append(DemoLogin(agent.username, "agent", code))
            branch_id = session.execute(select(Branch.id).where(Branch.code == code)).scalar_one()
            principal = Principal(
                user_id=agent.id, username=agent.username, role="agent", branch_id=branch_id, device_id=None
            )
            enrollments, visits = [], []
            for _ in range(visits_per_agent):
                enrollment, visit = _enrollment_and_visit(fake, rng, spec, now)
                visits.append(visit)
                if visit["outcome"] == "enrolled":
                    enrollments.append(enrollment)
            push(
                session,
                principal=principal,
                pii=pii,
                last_pulled_at=0,
                settings=settings,
                changes={
                    "enrollments": {"created": enrollments, "updated": [], "deleted": []},
                    "visits": {"created": visits, "updated": [], "deleted": []},
                },
            )
    return logins
