"""indexes for the supervisors' workspace: the dashboard's counts and the flag, follow-up queues

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 03:00:00

The branch dashboard (sync/workspace/dashboard.py) counts a branch's (or the country's) enrolments by
arrival, overdue follow-ups and unreviewed flagged visits; the flag queue and the follow-up lists page
by time. Without these every one of them scanned its whole table (bench/dashboard_page.py, 1M visits: a
supervisor's page 224 → 66 ms p50, an admin's country view 2.2 s → about 0.3 s, on a loaded 2-CPU machine). All are partial on live rows; the flagged-visit
index holds the ~3 % of visits that carry a flag (an admin's visits per day use the contest's
``ix_visits_live_visited_agent``). ``ix_follow_ups_due`` also serves the scheduler's
missed-follow-up job (status = 'scheduled' AND due_at < cutoff), which scanned follow_ups every minute.
"""
import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

LIVE = sa.text('deleted_at IS NULL')
FLAGGED = sa.text('flags IS NOT NULL AND deleted_at IS NULL')


def upgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_flagged_live', ['branch_id', 'visited_at'], unique=False, postgresql_include=['id', 'flags'], postgresql_where=FLAGGED, sqlite_where=FLAGGED)
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.create_index('ix_enrollments_branch_arrived', ['branch_id', 'server_created_at'], unique=False, postgresql_include=['agent_id', 'status'], postgresql_where=LIVE, sqlite_where=LIVE)
        batch_op.create_index('ix_enrollments_arrived', ['server_created_at'], unique=False, postgresql_include=['agent_id', 'status'], postgresql_where=LIVE, sqlite_where=LIVE)
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index('ix_follow_ups_branch_due', ['branch_id', 'status', 'due_at'], unique=False, postgresql_where=LIVE, sqlite_where=LIVE)
        batch_op.create_index('ix_follow_ups_due', ['status', 'due_at'], unique=False, postgresql_where=LIVE, sqlite_where=LIVE)


def downgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_ups_due', postgresql_where=LIVE, sqlite_where=LIVE)
        batch_op.drop_index('ix_follow_ups_branch_due', postgresql_where=LIVE, sqlite_where=LIVE)
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollments_arrived', postgresql_include=['agent_id', 'status'], postgresql_where=LIVE, sqlite_where=LIVE)
        batch_op.drop_index('ix_enrollments_branch_arrived', postgresql_include=['agent_id', 'status'], postgresql_where=LIVE, sqlite_where=LIVE)
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_flagged_live', postgresql_include=['id', 'flags'], postgresql_where=FLAGGED, sqlite_where=FLAGGED)
