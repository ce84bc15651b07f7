"""sealed push archive bodies; the sync clock starts at the current time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 23:40:00

Archived bodies are now sealed with the personal-data keys (sync.archive); the column is renamed so no
reader mistakes them for plain gzip. Bodies archived before this revision stay plain gzip until
`jangkau push-archive seal` rewrites them (it needs the keys, which migrations never see).
The clock row was created at 0, so a first pull on an empty database answered `timestamp: 1`, which is
not epoch milliseconds (docs/sync.md "Pull" rule 7): it is moved to the current time if it is behind.
"""
import time

from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('push_archive', schema=None) as batch_op:
        batch_op.alter_column('body_gzip', new_column_name='body_sealed')
    now_ms = time.time_ns() // 1_000_000
    op.execute(f"UPDATE sync_clock SET value = {now_ms} WHERE id = 1 AND value < {now_ms}")


def downgrade():
    with op.batch_alter_table('push_archive', schema=None) as batch_op:
        batch_op.alter_column('body_sealed', new_column_name='body_gzip')
