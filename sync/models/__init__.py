"""All models, importable from one place so metadata is complete wherever it is used.

Every module of this package is imported here, so a new model file is part of ``Base.metadata``
(migrations, ``create_all``) without further wiring.
"""

import importlib
import pkgutil

from sync.models.base import Base, SyncedMixin, new_id
from sync.models.org import BRANCH_KINDS, ROLES, Branch, Device, Token, User
from sync.models.records import Enrollment, FollowUp, Visit, Worker
from sync.models.sync_state import AccessLog, IdempotencyRecord, PushArchive, RateLimitWindow, ScopeExit, SyncClock

__all__ = [
    "AccessLog",
    "BRANCH_KINDS",
    "Base",
    "Branch",
    "Device",
    "Enrollment",
    "FollowUp",
    "IdempotencyRecord",
    "PushArchive",
    "ROLES",
    "RateLimitWindow",
    "ScopeExit",
    "SyncClock",
    "SyncedMixin",
    "Token",
    "User",
    "Visit",
    "Worker",
    "new_id",
]

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
