"""duplicate matching: the candidate store (match_keys) and the sweep log; per-worker keys dropped

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00

Blocking keys move from columns on `workers` (one person, its first record's keys) and
`unlinked_enrollments` to `match_keys`: one row per key per live enrolment, so a new record meets its
person through any of the person's records. Those columns and the `unlinked_enrollments` table are
dropped (an invalid enrolment waiting for its person is one without a worker; its keys are in
match_keys like any other). `workers.nik_index` and `phone_index` stay (the registry, payment imports and
reminders look people up by them).

The keys are keyed hashes, and migrations never see the keys, so match_keys starts empty: run
`jangkau rekey-dedup` after upgrading. Until then the hourly sweep job fills in the keys of enrolments
that have none before it sweeps (its first run re-scores everybody), and merges people a push created
again meanwhile. `dedup_sweeps` logs each sweep; the next one starts from the last one's stamp.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

WORKER_KEYS = ('nik_head_index', 'nik_tail_index', 'name_key', 'name_dob_key', 'dob_village_key')
UNLINKED_KEYS = ('nik_index', 'nik_head_index', 'nik_tail_index', 'phone_index', 'name_key', 'name_dob_key',
                 'dob_village_key')


def upgrade():
    op.create_table('match_keys',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('enrollment_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('key', 'enrollment_id', name=op.f('pk_match_keys'))
    )
    with op.batch_alter_table('match_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_keys_enrollment_id'), ['enrollment_id'], unique=False)

    op.create_table('dedup_sweeps',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('started_at', sa.BigInteger(), nullable=False),
    sa.Column('finished_at', sa.BigInteger(), nullable=False),
    sa.Column('full', sa.Boolean(), nullable=False),
    sa.Column('since_stamp', sa.BigInteger(), nullable=True),
    sa.Column('until_stamp', sa.BigInteger(), nullable=False),
    sa.Column('keyed', sa.Integer(), nullable=False),
    sa.Column('workers', sa.Integer(), nullable=False),
    sa.Column('pairs', sa.Integer(), nullable=False),
    sa.Column('linked', sa.Integer(), nullable=False),
    sa.Column('claimed', sa.Integer(), nullable=False),
    sa.Column('queued', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dedup_sweeps'))
    )
    with op.batch_alter_table('dedup_sweeps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dedup_sweeps_until_stamp'), ['until_stamp'], unique=False)

    with op.batch_alter_table('workers', schema=None) as batch_op:
        for column in WORKER_KEYS:
            batch_op.drop_index(batch_op.f(f'ix_workers_{column}'))
        for column in WORKER_KEYS:
            batch_op.drop_column(column)

    with op.batch_alter_table('unlinked_enrollments', schema=None) as batch_op:
        for column in UNLINKED_KEYS:
            batch_op.drop_index(batch_op.f(f'ix_unlinked_enrollments_{column}'))
    op.drop_table('unlinked_enrollments')


def downgrade():
    # The dropped keys come back empty: `jangkau rekey-dedup` of the release before this one refills them.
    op.create_table('unlinked_enrollments',
    sa.Column('enrollment_id', sa.String(length=64), nullable=False),
    *(sa.Column(column, sa.String(length=64), nullable=True) for column in UNLINKED_KEYS),
    sa.PrimaryKeyConstraint('enrollment_id', name=op.f('pk_unlinked_enrollments'))
    )
    with op.batch_alter_table('unlinked_enrollments', schema=None) as batch_op:
        for column in UNLINKED_KEYS:
            batch_op.create_index(batch_op.f(f'ix_unlinked_enrollments_{column}'), [column], unique=False)
    op.execute(
        "INSERT INTO unlinked_enrollments (enrollment_id) SELECT id FROM enrollments "
        "WHERE worker_id IS NULL AND status = 'needs_correction' AND deleted_at IS NULL"
    )

    with op.batch_alter_table('workers', schema=None) as batch_op:
        for column in WORKER_KEYS:
            batch_op.add_column(sa.Column(column, sa.String(length=64), nullable=True))
        for column in WORKER_KEYS:
            batch_op.create_index(batch_op.f(f'ix_workers_{column}'), [column], unique=False)

    with op.batch_alter_table('dedup_sweeps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dedup_sweeps_until_stamp'))
    op.drop_table('dedup_sweeps')

    with op.batch_alter_table('match_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_keys_enrollment_id'))
    op.drop_table('match_keys')
