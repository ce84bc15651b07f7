"""The branch contest (docs/api.md "Contest"): periods, credits kept current, the leaderboard.

``periods`` (create, change, list; day spans in a time zone), ``branches`` (which branch an agent belonged
to when), ``moves`` (moving a user to another branch: ``record_branch_move``), ``credit`` (who earns which
person, when, for which branch: kept in ``contest_credits`` by the push, merges, unmerges, decisions and
moves), ``activity`` (each agent's first visit per period, for active agents), ``upkeep`` (the push step
that keeps both), ``leaderboard`` (the branch and agent tables, a branch's standing), ``export`` (CSV).
"""
