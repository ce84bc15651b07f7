"""Every API blueprint, registered in one place: each module of this package exposing ``blp``."""

import importlib
import pkgutil


def blueprints() -> list:
    found = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        blp = getattr(importlib.import_module(f"{__name__}.{module.name}"), "blp", None)
        if blp is not None:
            found.append(blp)
    return found


def register_blueprints(api) -> None:
    for blueprint in blueprints():
        api.register_blueprint(blueprint)
