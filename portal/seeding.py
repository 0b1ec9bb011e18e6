"""What the portal installs: the built-ins every portal starts with (`manage.py setup`, `manage.py seed_demo`) and
the demo world on top of them (`manage.py seed_demo` only).

Each app registers its own parts from its AppConfig.ready() (portal imports no app above it):
`seeding.register("signatures", builtin_seed, message="Built-in signatures: {signatures} added.", order=40,
builtin=True)`. A part's function is idempotent, never overwrites what an admin edited, and returns the counts its
message names. Parts run in `order`; a demo part may come before a built-in one to install some built-ins its own
way first (the demo enforces four of the built-in policies: it installs those before the built-in part installs the
rest in dry run).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    name: str
    seed: Callable[[], dict[str, int]]
    message: str  # formatted with what `seed` returns
    order: int
    builtin: bool  # True: installed by `setup` too; False: the demo's only


PARTS: dict[str, Part] = {}


def register(name: str, seed: Callable[[], dict[str, int]], *, message: str, order: int,
             builtin: bool = False) -> None:
    PARTS[name] = Part(name, seed, message, order, builtin)


def builtin_parts() -> list[Part]:
    """What `manage.py setup` installs: no people, no teams, no accounts, nothing enforcing."""
    return [part for part in demo_parts() if part.builtin]


def demo_parts() -> list[Part]:
    """What `manage.py seed_demo` installs: the built-ins and the demo world, in order."""
    return sorted(PARTS.values(), key=lambda part: part.order)
