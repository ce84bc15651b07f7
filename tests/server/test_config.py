"""Configuration is read once, at app creation, into typed settings the app hands to the engine
(server/config.py ``parse_settings`` → ``sync.settings.EngineSettings``); a bad value stops the process."""

from __future__ import annotations

import json

import pytest

from server import create_app
from server.config import ConfigError, engine_settings, from_env, parse_settings
from sync.enrollments.duplicates.model import shipped_config
from sync.models import Visit
from sync.settings import EngineSettings
from tests import factories
from tests.factories import changes, visit

BANDUNG = {"latitude": -6.9175, "longitude": 107.6191}  # 50-100 km from the Karawang branch


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("JANGKAU_GEO_MAX_SPEED_KMH", "fast", "JANGKAU_GEO_MAX_SPEED_KMH must be a number, got 'fast'"),
        ("JANGKAU_GEO_STACK_MIN_VISITS", "4.5", "JANGKAU_GEO_STACK_MIN_VISITS must be a number, got '4.5'"),
        ("JANGKAU_DEDUP_CONFIG", "/nonexistent/weights.json", "JANGKAU_DEDUP_CONFIG: cannot read"),
        ("JANGKAU_REMINDER_LEASE_S", "soon", "JANGKAU_REMINDER_LEASE_S must be a number, got 'soon'"),
        ("JANGKAU_QUIET_HOURS", "late", "JANGKAU_QUIET_HOURS must look like 21:00-07:00 or off"),
    ],
)
def test_a_bad_value_stops_create_app_with_a_one_line_reason(app_config, monkeypatch, name, value, reason):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        create_app(app_config)
    message = str(raised.value)
    assert message.startswith("jangkau: ") and reason in message and "\n" not in message


@pytest.mark.parametrize(
    "content",
    ['{"prior": 0.3}', "not json", '{"m": {}, "u": {}}', "[]"],
    ids=["no weights", "not JSON", "missing fields", "not an object"],
)
def test_an_unusable_dedup_model_file_stops_create_app(app_config, monkeypatch, tmp_path, content):
    path = tmp_path / "weights.json"
    path.write_text(content)
    monkeypatch.setenv("JANGKAU_DEDUP_CONFIG", str(path))
    with pytest.raises(ConfigError, match=r"^jangkau: JANGKAU_DEDUP_CONFIG: ") as raised:
        create_app(app_config)
    assert "\n" not in str(raised.value)


def test_the_dedup_model_file_is_read_once_at_start(make_app, monkeypatch, tmp_path):
    model = shipped_config().to_dict() | {"link_threshold": 0.999}
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(model))
    monkeypatch.setenv("JANGKAU_DEDUP_CONFIG", str(path))
    app = make_app()
    path.unlink()  # nothing reads it again
    assert engine_settings(app).dedup.link_threshold == 0.999
    assert engine_settings(app).dedup.to_dict() == model


def test_without_variables_the_settings_are_the_engines_defaults():
    assert parse_settings(from_env({})) == EngineSettings()


def test_settings_are_read_when_the_app_is_made_not_when_server_is_imported(make_app, monkeypatch, tmp_path):
    monkeypatch.setenv("JANGKAU_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("JANGKAU_GEO_MAX_SPEED_KMH", "80")
    app = make_app()
    assert app.instance_path == str(tmp_path) and app.config["INSTANCE_DIR"] == str(tmp_path)
    assert engine_settings(app).geo.max_speed_kmh == 80
    assert engine_settings(make_app(GEO_MAX_SPEED_KMH="70")).geo.max_speed_kmh == 70  # config overrides too


def test_the_apps_settings_reach_a_push_over_http(make_app, world, session, monkeypatch):
    """A 50 km branch limit configured when the app is made flags a Bandung visit pushed to that app only."""
    monkeypatch.setenv("JANGKAU_GEO_FAR_FROM_BRANCH_KM", "50")
    strict = factories.ApiHelper(make_app().test_client(), world)
    monkeypatch.delenv("JANGKAU_GEO_FAR_FROM_BRANCH_KM")
    default = factories.ApiHelper(make_app().test_client(), world)
    flagged, unflagged = visit(**BANDUNG), visit(**BANDUNG)
    for api, record in ((strict, flagged), (default, unflagged)):
        _, pushed = api.sync(world.agent_a, changes(visits={"created": [record]}))
        assert pushed.status_code == 200, pushed.json
    assert session.get(Visit, flagged["id"]).flags == "far_from_branch"
    assert session.get(Visit, unflagged["id"]).flags in (None, "")
