"""Log lines never hold a NIK or a phone number, whatever code logs them (server.log_redaction)."""

from __future__ import annotations

import logging

import pytest

from server.log_redaction import install, redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("invalid literal for int() with base 10: '3215011203850007'", "3215011203850007"),
        ("nik 3215 0112 0385 0007 rejected", "3215 0112 0385 0007"),
        ("nik ３２１５０１１２０３８５０００７", "３２１５０１１２０３８５０００７"),
        ("to=+6281234567890 failed", "+6281234567890"),
        ("phone 0812-3456-7890", "0812-3456-7890"),
        ("phone 6281234567890", "6281234567890"),
    ],
)
def test_redact_masks_niks_and_phones(text, secret):
    masked = redact(text)
    assert secret not in masked and "*" in masked


@pytest.mark.parametrize("text", ["stamp 1732924800000", "took 0.123456789 s", "status 200 in 12 ms", "id AbC123"])
def test_redact_leaves_ordinary_numbers(text):
    assert redact(text) == text


def test_installed_factory_redacts_messages_arguments_and_tracebacks(caplog):
    install()
    install()  # idempotent
    log = logging.getLogger("jangkau.test")
    with caplog.at_level(logging.INFO):
        log.info("pushed %s from %s", "3215011203850007", "0812 3456 7890")
        try:
            int("3215011203850007x")
        except ValueError:
            log.exception("failed")
    text = caplog.text
    assert "3215011203850007" not in text and "0812 3456 7890" not in text
    assert "321501********07" in text and "ValueError" in text
