"""``jangkau scheduler --once`` runs one tick with the app's configuration (log channel by default)."""

from __future__ import annotations

from server.scheduler import dispatch_settings, scheduler_command, start_scheduler
from sync.reminders.settings import DispatchSettings


def test_scheduler_once_ticks(app):
    result = app.test_cli_runner().invoke(scheduler_command, ["--once"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("tick: claimed 0")


def test_settings_come_from_config_then_environment():
    settings = dispatch_settings({"QUIET_HOURS": "off"}, {"JANGKAU_REMINDER_MAX_ATTEMPTS": "3"})
    assert settings.quiet_hours is None and settings.max_attempts == 3 and settings.channel == "log"
    assert DispatchSettings().interval_s == 30


def test_scheduler_off_starts_nothing(app):
    assert app.config["SCHEDULER"] == "off" and start_scheduler(app) is None
