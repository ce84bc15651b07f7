"""The ``jangkau`` command line (docs/api.md "Command line"), run through Flask's CLI runner and as a real process."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server.config import engine_settings
from sync.enrollments.duplicates.model import read_config
from sync.models import Branch, Enrollment, User, Visit
from sync.models.dedup import DedupSweep, MatchKey
from tests.factories import changes, enrollment


def test_create_branch_and_user_with_password_on_stdin(app, engine):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-branch",
            "--code",
            "KCU-KARAWANG",
            "--name",
            "KCU Karawang",
            "--kind",
            "KCU",
            "--lat",
            "-6.30",
            "--lon",
            "107.30",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=["create-user", "--username", "agen.x", "--role", "agent", "--branch", "KCU-KARAWANG"],
        input="kata-sandi-panjang\n",
    )
    assert result.exit_code == 0, result.output
    client = app.test_client()
    login = client.post("/api/v1/auth/login", json={"username": "agen.x", "password": "kata-sandi-panjang"})
    assert login.status_code == 200


def test_bad_arguments_exit_non_zero_with_reason(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-branch", "--code", "x", "--name", "N", "--kind", "KCU", "--lat", "50", "--lon", "0"]
    )
    assert result.exit_code != 0 and "code" in result.output and "lat" in result.output
    result = runner.invoke(
        args=["create-user", "--username", "a", "--role", "agent", "--branch", "NOPE"], input="short\n"
    )
    assert result.exit_code != 0 and "password" in result.output and "branch" in result.output
    result = runner.invoke(
        args=["create-branch", "--code", "KC-A", "--name", "N", "--kind", "XX", "--lat", "-6", "--lon", "107"]
    )
    assert result.exit_code != 0


def test_seed_demo_goes_through_the_engine(app, engine):
    """seed-demo creates branches, accounts, visits and validated enrolments, and refuses to run twice."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--agents-per-branch", "1", "--visits-per-agent", "10"])
    assert result.exit_code == 0, result.output
    assert "agen1.karawang" in result.output
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(Branch)).scalar_one() == 4
        assert session.execute(select(func.count()).select_from(User)).scalar_one() == 9
        assert session.execute(select(func.count()).select_from(Visit)).scalar_one() == 40
        statuses = set(session.execute(select(Enrollment.status)).scalars())
    assert statuses <= {"verified", "duplicate", "needs_correction"} and "verified" in statuses
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code != 0 and "already" in again.output


def test_console_script_init_db_is_idempotent(tmp_path):
    """`jangkau init-db` migrates a fresh database and is a no-op the second time; serve refuses without keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JANGKAU_")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", JANGKAU_INSTANCE_DIR=str(tmp_path))
    jangkau = os.path.join(os.path.dirname(sys.executable), "jangkau")
    for _ in range(2):
        done = subprocess.run([jangkau, "init-db"], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "latest schema" in done.stdout
    refused = subprocess.run([jangkau, "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "JANGKAU_PII_KEYS" in refused.stderr


def test_rekey_dedup_rebuilds_stale_blocking_keys(app, engine):
    """After seed-demo, lost and stale candidate-store keys come back from `rekey-dedup` exactly as a push made
    them, and the keys of deleted enrolments go."""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--agents-per-branch", "1", "--visits-per-agent", "2"]).exit_code == 0
    keys = select(MatchKey.enrollment_id, MatchKey.key).order_by(MatchKey.enrollment_id, MatchKey.key)
    with Session(engine) as session:
        before = session.execute(keys).all()
        live = session.execute(select(func.count()).select_from(Enrollment).where(Enrollment.deleted_at.is_(None)))
        enrolments = live.scalar_one()
        session.execute(delete(MatchKey).where(MatchKey.enrollment_id == before[0].enrollment_id))
        session.add(MatchKey(key="x-stale", enrollment_id="no-such-enrolment"))
        session.commit()
    result = runner.invoke(args=["rekey-dedup"])
    assert result.exit_code == 0, result.output
    assert f"rekeyed {enrolments} enrolments ({len(before)} keys); dropped 1 keys" in result.output
    with Session(engine) as session:
        assert before and session.execute(keys).all() == before


def test_dedup_sweep_and_train_commands(app, api, world, engine, tmp_path):
    """`dedup-sweep` reports what it did; `dedup-train` learns from the stored enrolments and writes a model
    file the server can read, keeping the thresholds of the model in use."""
    from bench.dedup_noisy_data import generate

    fields = ("nik", "full_name", "birth_date", "sex", "phone", "occupation", "address", "village", "programs")
    records = [enrollment(id=r["id"], **{f: r[f] for f in fields}) for r in generate(120, seed=5)]
    pushed = api.push(world.agent_a, changes(enrollments={"created": records}), 10**13)
    assert pushed.status_code == 200, pushed.get_json()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["dedup-sweep", "--full"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("swept ") and "merged" in result.output, result.output
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(DedupSweep)).scalar_one() == 1
    model = tmp_path / "model.json"
    result = runner.invoke(args=["dedup-train", "--output", str(model)])
    assert result.exit_code == 0, result.output
    assert (
        "trained on" in result.output and read_config(model).link_threshold == engine_settings(app).dedup.link_threshold
    )
