"""The contest's push step (``sync.protocol.pipeline.STEPS``): its maintained tables follow what the push wrote.

Credits for the people of the push's enrolments (``sync.contest.credit``), activity for the periods its
visits fall in (``sync.contest.activity``); both in the push's transaction, with its stamp.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sync.contest import activity, credit
from sync.protocol.context import PushContext


def after_push(session: Session, ctx: PushContext) -> None:
    credit.after_push(session, ctx)
    activity.after_push(session, ctx)
