"""Follow-ups the server plans: visit outcomes turned into revisits, escalations, missed ones.

``rules`` runs inside a push (an ``after_apply`` step); ``overdue`` runs on the scheduler's tick;
``manage`` is what supervisors do (create, reassign, reschedule). Times come from ``workdays``.
"""
