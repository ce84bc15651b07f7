"""Devices (docs/api.md "Users, devices and branches"): list, revoke and restore, over ``sync.accounts.devices``.

A supervisor reaches the devices of their own branch's agents only, an admin every device; any other id
is 404. Revoking and restoring are written to the audit trail in the same transaction.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.admin import DeviceListArgsSchema, DevicePageSchema
from schemas.auth import DeviceSchema
from sync.accounts import devices

from ..auth import auth_required, current_principal
from ..extensions import db
from ..unit_of_work import reads, writes

blp = Blueprint("devices", __name__, url_prefix="/api/v1", description="Devices of the users you manage")


@blp.route("/devices")
@reads
@blp.arguments(DeviceListArgsSchema, location="query")
@blp.response(200, DevicePageSchema)
@auth_required("supervisor", "admin")
def list_devices(args):
    """Devices of the users the caller manages, newest first (``user_id``: one user's)."""
    page = devices.list_devices(
        db.session, principal=current_principal(), user_id=args["user_id"], limit=args["limit"], cursor=args["cursor"]
    )
    return {"items": [devices.device_json(d) for d in page.items], "next_cursor": page.next_cursor}


@blp.route("/devices/<string:device_id>", methods=["DELETE"])
@writes
@blp.response(200, DeviceSchema)
@blp.alt_response(404, description="No such device among those you manage")
@auth_required("supervisor", "admin")
def revoke_device(device_id: str):
    """Revoke a device and every token bound to it (a supervisor reaches only their branch's agents' devices)."""
    return devices.device_json(devices.revoke(db.session, principal=current_principal(), device_id=device_id))


@blp.route("/devices/<string:device_id>/restore", methods=["POST"])
@writes
@blp.response(200, DeviceSchema)
@blp.alt_response(404, description="No such device among those you manage")
@auth_required("supervisor", "admin")
def restore_device(device_id: str):
    """Let a revoked device log in again; the tokens revoked with it stay revoked (the user signs in anew)."""
    return devices.device_json(devices.restore(db.session, principal=current_principal(), device_id=device_id))
