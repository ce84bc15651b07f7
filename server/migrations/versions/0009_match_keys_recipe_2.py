"""match keys, recipe 2: the stored blocking keys are emptied, to be rebuilt under the new recipe

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 06:00:00

The recipe in sync/enrollments/duplicates/keys.py changed (the NIK's last half; every word of the name,
common ones too, with the birth date, the village and the address; an address keyed by its house number
without RT/RW). Keys made by the old recipe would never meet the new ones, so they are dropped: the next
sweep (hourly, or `jangkau dedup-sweep`) gives every enrolment without keys its keys before it matches,
and `jangkau rekey-dedup` does it at once. Downgrading leaves the store empty for the same reason.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM match_keys")


def downgrade():
    op.execute("DELETE FROM match_keys")
