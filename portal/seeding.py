"""The parts of the demo world, seeded in order by `manage.py seed_demo`.

Each app registers its own part from its AppConfig.ready() (portal imports no app above it):
`seeding.register("catalog", catalog_demo_seed, message="Demo catalog: {portfolios} portfolio(s) ...", order=10)`.
A part's function is idempotent and returns the counts its message names.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoPart:
    name: str
    seed: Callable[[], dict[str, int]]
    message: str  # formatted with what `seed` returns
    order: int


PARTS: dict[str, DemoPart] = {}


def register(name: str, seed: Callable[[], dict[str, int]], *, message: str, order: int) -> None:
    PARTS[name] = DemoPart(name, seed, message, order)


def demo_parts() -> list[DemoPart]:
    return sorted(PARTS.values(), key=lambda part: part.order)
