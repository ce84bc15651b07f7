"""The reminder outbox and its dispatcher (docs/domain.md "Reminders", docs/architecture.md (scheduler)).

Reminders are rows, not scheduler jobs: APScheduler only calls ``tick``; every instance claims due rows
with a lease, sends outside the transaction and marks a row sent only while it still holds the lease.
"""
