"""Contributions paid and owed (docs/domain.md "Contributions").

* ``imports`` — the BPJS payments file read line by line, with per-line errors;
* ``contributions`` — the monthly amount, the first month owed and the unpaid streak;
* ``assessment`` — each member's payment reminders, escalation follow-up and lapsed status.
"""
