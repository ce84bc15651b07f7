"""contest: periods and targets, agents' branch history, maintained credits, an index of live visits by time

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 02:10:00

``contest_credits`` is filled for the data already there, by the rules of sync/contest/credit.py: each
live person (not a registry member) credited through their first live ``verified`` enrolment; credit time
``captured_at`` when within the 7 days up to ``valid_since``, else ``valid_since``; held (not counted) while
another live person has the same NIK and no supervisor marked the pair distinct with a note (a candidate
names its later person, or for an undone automatic link only its enrolment). No branch
history exists yet, so every credit goes to its agent's current branch.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO contest_credits (worker_id, enrollment_id, agent_id, branch_id, nik_index, valid_since, credit_at, counted)
SELECT f.worker_id, f.id, f.agent_id, f.branch_id, f.nik_index, f.vs,
       CASE WHEN f.captured_at BETWEEN f.vs - 604800000 AND f.vs THEN f.captured_at ELSE f.vs END,
       CASE WHEN EXISTS (
           SELECT 1 FROM workers o
           WHERE o.nik_index = f.nik_index AND o.id <> f.worker_id AND o.deleted_at IS NULL
             AND NOT EXISTS (
                 SELECT 1 FROM duplicate_candidates d
                 LEFT JOIN enrollments de ON de.id = d.enrollment_id
                 WHERE d.status = 'distinct' AND d.decided_by IS NOT NULL AND TRIM(COALESCE(d.note, '')) <> ''
                   AND ((COALESCE(d.worker_id, de.worker_id) = f.worker_id AND d.other_worker_id = o.id)
                        OR (COALESCE(d.worker_id, de.worker_id) = o.id AND d.other_worker_id = f.worker_id)))
       ) THEN FALSE ELSE TRUE END
FROM (
    SELECT e.worker_id, e.id, e.agent_id, u.branch_id, w.nik_index, e.captured_at,
           COALESCE(e.valid_since, e.server_created_at) AS vs,
           ROW_NUMBER() OVER (
               PARTITION BY e.worker_id ORDER BY COALESCE(e.valid_since, e.server_created_at), e.id
           ) AS position
    FROM enrollments e
    JOIN workers w ON w.id = e.worker_id
    LEFT JOIN users u ON u.id = e.agent_id
    WHERE e.status = 'verified' AND e.deleted_at IS NULL AND w.deleted_at IS NULL AND w.registry_status IS NULL
) f
WHERE f.position = 1
"""


def upgrade():
    op.create_table('contest_credits',
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('enrollment_id', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('branch_id', sa.String(length=64), nullable=True),
    sa.Column('nik_index', sa.String(length=64), nullable=True),
    sa.Column('valid_since', sa.BigInteger(), nullable=False),
    sa.Column('credit_at', sa.BigInteger(), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('worker_id', name=op.f('pk_contest_credits')),
    sa.UniqueConstraint('enrollment_id', name=op.f('uq_contest_credits_enrollment_id'))
    )
    with op.batch_alter_table('contest_credits', schema=None) as batch_op:
        batch_op.create_index('ix_contest_credits_agent_since', ['agent_id', 'valid_since'], unique=False)
        batch_op.create_index('ix_contest_credits_branch_time', ['branch_id', 'credit_at', 'agent_id', 'counted'], unique=False)
        batch_op.create_index(batch_op.f('ix_contest_credits_nik_index'), ['nik_index'], unique=False)
        batch_op.create_index('ix_contest_credits_time', ['credit_at', 'branch_id', 'counted'], unique=False)

    op.create_table('contest_periods',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('starts_at', sa.BigInteger(), nullable=False),
    sa.Column('ends_at', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_periods'))
    )
    with op.batch_alter_table('contest_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_periods_ends_at'), ['ends_at'], unique=False)
        batch_op.create_index('ix_contest_periods_span', ['starts_at', 'ends_at'], unique=False)

    op.create_table('contest_targets',
    sa.Column('period_id', sa.String(length=64), nullable=False),
    sa.Column('branch_id', sa.String(length=64), nullable=False),
    sa.Column('target', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_contest_targets_branch_id_branches')),
    sa.ForeignKeyConstraint(['period_id'], ['contest_periods.id'], name=op.f('fk_contest_targets_period_id_contest_periods')),
    sa.PrimaryKeyConstraint('period_id', 'branch_id', name=op.f('pk_contest_targets'))
    )
    op.create_table('user_branch_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('branch_id', sa.String(length=64), nullable=True),
    sa.Column('since', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_user_branch_history_branch_id_branches')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_branch_history_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_branch_history'))
    )
    with op.batch_alter_table('user_branch_history', schema=None) as batch_op:
        batch_op.create_index('ix_user_branch_history_user_since', ['user_id', 'since'], unique=False)

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_live_visited_agent', ['visited_at', 'agent_id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))

    op.execute(BACKFILL)


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_live_visited_agent', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))

    with op.batch_alter_table('user_branch_history', schema=None) as batch_op:
        batch_op.drop_index('ix_user_branch_history_user_since')

    op.drop_table('user_branch_history')
    op.drop_table('contest_targets')
    with op.batch_alter_table('contest_periods', schema=None) as batch_op:
        batch_op.drop_index('ix_contest_periods_span')
        batch_op.drop_index(batch_op.f('ix_contest_periods_ends_at'))

    op.drop_table('contest_periods')
    with op.batch_alter_table('contest_credits', schema=None) as batch_op:
        batch_op.drop_index('ix_contest_credits_time')
        batch_op.drop_index(batch_op.f('ix_contest_credits_nik_index'))
        batch_op.drop_index('ix_contest_credits_branch_time')
        batch_op.drop_index('ix_contest_credits_agent_since')

    op.drop_table('contest_credits')
