"""Users, branches and devices in the engine (``sync.accounts.users``, ``devices``) and the audit trail they
write (``sync.audit``): the rules without HTTP, each change and its entry in one transaction."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from sync import audit
from sync.accounts import devices, users
from sync.errors import Forbidden, InvalidRequest, NotFound
from sync.models import AccessLog, Device, User, new_id
from sync.models.contest import UserBranchHistory
from sync.protocol.clock import now_ms
from tests.factories import principal_of

VALUES = {"username": "agen.baru", "password": "kata-sandi-1", "role": "agent"}


def actions(session) -> list[str]:
    return list(session.execute(select(AccessLog.action).order_by(AccessLog.id)).scalars())


def test_a_supervisors_new_user_is_an_agent_of_their_branch(session, world):
    spv = principal_of(world.supervisor)
    user = users.add_user(session, principal=spv, values=VALUES)
    assert (user.role, user.branch_id, user.active) == ("agent", world.karawang.id, True)
    assert users.user_json(user)["branch_code"] == world.karawang.code
    with pytest.raises(Forbidden) as refused:
        users.add_user(session, principal=spv, values=VALUES | {"username": "spv.x", "role": "supervisor"})
    assert set(refused.value.errors) == {"role"}
    with pytest.raises(Forbidden) as refused:
        users.add_user(session, principal=spv, values=VALUES | {"username": "agen.x", "branch_id": world.makassar.id})
    assert set(refused.value.errors) == {"branch_id"}
    with pytest.raises(Forbidden):
        users.add_user(session, principal=principal_of(world.agent_a), values=VALUES | {"username": "agen.y"})
    assert actions(session) == [audit.USER_CREATE]


def test_every_error_of_a_new_user_is_named_at_once(session, world):
    with pytest.raises(InvalidRequest) as refused:
        users.add_user(
            session,
            principal=principal_of(world.admin),
            values={"username": "agen.a", "password": "pendek", "role": "agent", "branch_id": None},
        )
    assert set(refused.value.errors) == {"username", "password", "branch_id"}


def test_the_cli_keeps_naming_the_branch_by_code(session, world):
    with pytest.raises(InvalidRequest) as refused:
        users.create_user(session, username="x", password="p", role="agent", branch_code="NOPE")
    assert set(refused.value.errors) == {"username", "password", "branch"}
    made = users.create_user(
        session, username="agen.cli", password="kata-sandi-1", role="agent", branch_code="KCU-MAKASSAR"
    )
    assert made.branch_id == world.makassar.id
    assert actions(session) == []  # the CLI is not an API caller: the operator's shell has its own history


def test_a_move_keeps_history_and_is_audited_in_the_same_transaction(session, world):
    admin = principal_of(world.admin)
    users.update_user(session, principal=admin, user_id=world.agent_a.id, changes={"branch_id": world.makassar.id})
    history = session.execute(
        select(UserBranchHistory.branch_id).where(UserBranchHistory.user_id == world.agent_a.id)
        .order_by(UserBranchHistory.since, UserBranchHistory.id)
    ).scalars().all()  # fmt: skip
    assert history == [world.karawang.id, world.makassar.id]
    [entry] = session.execute(select(AccessLog)).scalars().all()
    assert entry.action == audit.USER_UPDATE
    assert json.loads(entry.detail) == {"branch_id": {"from": world.karawang.id, "to": world.makassar.id}}
    session.rollback()
    assert session.execute(select(AccessLog)).first() is None
    assert session.get(User, world.agent_a.id).branch_id == world.karawang.id


def test_a_change_that_changes_nothing_is_not_audited(session, world):
    spv = principal_of(world.supervisor)
    same = {"full_name": world.agent_a.full_name, "disabled": False, "role": "agent", "branch_id": world.karawang.id}
    users.update_user(session, principal=spv, user_id=world.agent_a.id, changes=same)
    assert actions(session) == []


def test_supervisors_reach_only_their_agents(session, world):
    spv = principal_of(world.supervisor)
    for target in (world.agent_c, world.supervisor, world.admin):
        with pytest.raises(NotFound):
            users.update_user(session, principal=spv, user_id=target.id, changes={"full_name": "X"})
    listed = users.list_users(session, principal=spv, filters=users.UserFilters(), limit=50, cursor=None)
    assert [u.username for u in listed.items] == ["agen.a", "agen.b", "spv.karawang"]
    disabled = users.UserFilters(disabled=True)
    assert users.list_users(session, principal=spv, filters=disabled, limit=50, cursor=None).items == []
    with pytest.raises(Forbidden):
        users.list_users(
            session, principal=principal_of(world.agent_a), filters=users.UserFilters(), limit=5, cursor=None
        )


def test_branches_change_only_what_is_sent(session, world):
    admin = principal_of(world.admin)
    users.update_branch(session, principal=admin, branch_id=world.karawang.id, changes={"name": world.karawang.name})
    assert actions(session) == []
    users.update_branch(
        session, principal=admin, branch_id=world.karawang.id, changes={"name": " KCU Karawang ", "region": "Jabar"}
    )
    assert (world.karawang.name, world.karawang.region) == ("KCU Karawang", "Jabar")
    with pytest.raises(Forbidden):
        users.update_branch(session, principal=principal_of(world.supervisor), branch_id=world.karawang.id, changes={})
    with pytest.raises(InvalidRequest) as refused:
        users.update_branch(session, principal=admin, branch_id=world.karawang.id, changes={"code": "KCU-MAKASSAR"})
    assert set(refused.value.errors) == {"code"}
    assert actions(session) == [audit.BRANCH_UPDATE]


def test_restoring_a_device_in_use_writes_nothing(session, world):
    device = Device(id=new_id(), user_id=world.agent_a.id, client_device_id="hp-1", created_at=now_ms())
    session.add(device)
    session.flush()
    spv = principal_of(world.supervisor)
    devices.restore(session, principal=spv, device_id=device.id)
    assert actions(session) == []
    devices.revoke(session, principal=spv, device_id=device.id)
    devices.restore(session, principal=spv, device_id=device.id)
    assert actions(session) == [audit.DEVICE_REVOKE, audit.DEVICE_RESTORE] and device.revoked_at is None
    with pytest.raises(NotFound):
        devices.restore(session, principal=principal_of(world.supervisor_makassar), device_id=device.id)


def test_the_trail_is_empty_to_anyone_but_admins(session, world):
    audit.record(session, world.admin.id, audit.BRANCH_CREATE, table="branches", subject_id=world.karawang.id)
    session.flush()
    filters = audit.AuditFilters()
    assert (
        audit.list_entries(
            session, principal=principal_of(world.supervisor), filters=filters, limit=5, cursor=None
        ).items
        == []
    )
    page = audit.list_entries(session, principal=principal_of(world.admin), filters=filters, limit=5, cursor=None)
    [item] = audit.entries_json(page.items)
    assert (item["actor_username"], item["detail"]) == ("admin", {})
