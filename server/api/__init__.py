"""Every API blueprint, registered in one place."""

from . import auth, ops, sync

BLUEPRINTS = [auth.blp, sync.blp, ops.blp]


def register_blueprints(api) -> None:
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
