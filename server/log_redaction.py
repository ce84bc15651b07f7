"""No NIK or phone number reaches a log line, whoever logs it (docs/security.md "Logs").

Code never logs personal data on purpose, but an exception message can quote a value (``int('3215…')``),
a query string can carry one, a library can print its parameters. So every log record is redacted when it
is made, for every handler at once: its message and its traceback are rendered, masked and frozen.
``\\d`` matches digits of any script, so a NIK typed in full-width digits is caught too.
"""

from __future__ import annotations

import logging
import re
import traceback

# 16 digits standing alone (a NIK), possibly grouped by spaces, dots or dashes as people type them.
NIK = re.compile(r"(?<!\d)(\d{6})(?:[ .-]?\d){8}(\d{2})(?!\d)")
# Indonesian numbers as typed or stored: +62 / 62 / 0 then 8–13 more digits with separators.
PHONE = re.compile(r"(?<![\d+.,])(?:\+62|62|0)[ -]?\d(?:[ -]?\d){7,12}(?![\d.,])")


def redact(text: str) -> str:
    """``3215011203850007`` → ``321501********07``; ``+6281234567890`` → ``+62*********90``."""
    text = NIK.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    return PHONE.sub(lambda m: m.group(0)[:3] + "*" * max(len(m.group(0)) - 5, 1) + m.group(0)[-2:], text)


def install() -> None:
    """Wrap the process's log-record factory once (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "jangkau_redacting", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    factory.jangkau_redacting = True
    logging.setLogRecordFactory(factory)
