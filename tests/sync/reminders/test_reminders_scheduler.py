"""``jangkau scheduler --once`` runs one tick with the app's configuration (log channel by default)."""

from __future__ import annotations

from server.config import engine_settings
from server.scheduler import Ticker, scheduler_command, start_scheduler
from sync.reminders.settings import DispatchSettings


def test_scheduler_once_ticks(app):
    result = app.test_cli_runner().invoke(scheduler_command, ["--once"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("tick: claimed 0")


def test_settings_come_from_the_apps_parsed_configuration(make_app, monkeypatch):
    """Config passed to create_app and JANGKAU_ variables are parsed once, at app creation; the ticker uses them."""
    monkeypatch.setenv("JANGKAU_REMINDER_MAX_ATTEMPTS", "3")
    app = make_app(QUIET_HOURS="off")
    monkeypatch.setenv("JANGKAU_REMINDER_MAX_ATTEMPTS", "5")  # too late: the app has its settings
    settings = engine_settings(app).dispatch
    assert settings.quiet_hours is None and settings.max_attempts == 3 and settings.channel == "log"
    assert Ticker(app).settings is settings
    assert Ticker(app, interval_s=0.5).settings == DispatchSettings(**{**settings.__dict__, "interval_s": 0.5})
    assert DispatchSettings().interval_s == 30


def test_scheduler_off_starts_nothing(app):
    assert app.config["SCHEDULER"] == "off" and start_scheduler(app) is None
