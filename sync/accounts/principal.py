"""Who is calling: a plain value object, so services never touch the request or the ORM session state."""

from __future__ import annotations

from dataclasses import dataclass

from sync.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    user_id: str
    username: str
    role: str
    branch_id: str | None
    device_id: str | None = None  # devices.id the token is bound to
    token_id: str | None = None

    @property
    def is_agent(self) -> bool:
        return self.role == "agent"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def require_agent(principal: Principal) -> None:
    """Only agents sync: supervisors and admins hold no replica, they use the review API."""
    if not principal.is_agent:
        raise Forbidden("only agents sync; supervisors and admins use the review API")
