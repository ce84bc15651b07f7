"""The reminder outbox and its dispatcher (API.md §6, DOMAIN.md "Scheduling across instances").

Reminders are rows, not scheduler jobs: APScheduler only calls ``tick``; every instance claims due rows
with a lease, sends outside the transaction and marks a row sent only while it still holds the lease.
"""
