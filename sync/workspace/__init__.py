"""What the supervisors' pages read beyond the API's lists: counts, rates and queues over a branch and a
time window. Read-only, scoped by ``sync.accounts.scope`` inside every query, no Flask.

- ``windows``: a day, a run of days and a month as ``[start, end)`` epoch milliseconds in a time zone
- ``dashboard``: the branch dashboard's counts (today, this period, what is waiting) and its two charts
- ``flagged``: visits whose flags nobody has reviewed yet, and the agent's other visits that day
- ``activity``: per-agent activity and quality (visits, enrolments, duplicate and flag rates, follow-ups
  done on time), the agents in scope and their devices
- ``due``: follow-ups by due time, overdue and upcoming
- ``people``: a person's merges with what decided them, for the history page and its unmerge
"""
