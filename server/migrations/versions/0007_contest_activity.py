"""contest activity: each agent's first live visit within each contest period

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 04:10:00

The leaderboard's active agents read one row per (period, agent) instead of the period's visits
(sync/contest/activity.py keeps them). Filled here for the periods already there.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO contest_activity (period_id, agent_id, first_visit_at)
SELECT p.id, v.agent_id, MIN(v.visited_at)
FROM contest_periods p
JOIN visits v ON v.deleted_at IS NULL AND v.visited_at >= p.starts_at AND v.visited_at < p.ends_at
GROUP BY p.id, v.agent_id
"""


def upgrade():
    op.create_table('contest_activity',
    sa.Column('period_id', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('first_visit_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['period_id'], ['contest_periods.id'], name=op.f('fk_contest_activity_period_id_contest_periods')),
    sa.PrimaryKeyConstraint('period_id', 'agent_id', name=op.f('pk_contest_activity'))
    )
    with op.batch_alter_table('contest_activity', schema=None) as batch_op:
        batch_op.create_index('ix_contest_activity_period_first', ['period_id', 'first_visit_at', 'agent_id'], unique=False)

    op.execute(BACKFILL)


def downgrade():
    with op.batch_alter_table('contest_activity', schema=None) as batch_op:
        batch_op.drop_index('ix_contest_activity_period_first')

    op.drop_table('contest_activity')
