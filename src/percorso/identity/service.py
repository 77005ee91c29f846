"""The identity capability as the CLI, the API and the server use it.

Reads bring the graph up to date first (an update with nothing new costs one
small query), so what a user sees always includes every stored event. The
server also runs `Refresher`, which updates in the background as events
arrive, so reads rarely wait.
"""

from __future__ import annotations

import logging
import threading

from percorso.identity.lookup import (
    Conflict,
    Profile,
    ProfileDetail,
    ProfilePage,
    Refused,
    Timeline,
    conflicts,
    count_profiles,
    find_profile_id,
    get_profile,
    list_profiles,
    refused,
    timeline,
)
from percorso.identity.resolver import IdentityResolver, UnmergeResult, UpdateResult
from percorso.identity.rules import IdentityRules
from percorso.warehouse.store import Warehouse

log = logging.getLogger(__name__)


class ProfileService:
    """Profiles of one warehouse."""

    def __init__(self, warehouse: Warehouse, rules: IdentityRules) -> None:
        self.warehouse = warehouse
        self.rules = rules
        self.resolver = IdentityResolver(warehouse, rules)

    def refresh(self) -> UpdateResult:
        return self.resolver.update()

    def rebuild(self) -> UpdateResult:
        return self.resolver.update(rebuild=True)

    def find(self, identifier: str) -> str:
        self.refresh()
        return find_profile_id(self.warehouse, self.rules, identifier)

    def profile(self, identifier: str) -> Profile:
        return get_profile(self.warehouse, self.find(identifier))

    def detail(self, identifier: str, *, limit: int = 100, offset: int = 0) -> ProfileDetail:
        """A profile found by any identifier, with one page of its timeline."""
        profile = self.profile(identifier)
        page = timeline(self.warehouse, profile.profile_id, limit=limit, offset=offset)
        return ProfileDetail(profile=profile, timeline=page)

    def timeline(self, profile_id: str, *, limit: int = 100, offset: int = 0) -> Timeline:
        self.refresh()
        return timeline(self.warehouse, profile_id, limit=limit, offset=offset)

    def search(self, query: str | None = None, *, limit: int = 50, offset: int = 0) -> ProfilePage:
        self.refresh()
        return list_profiles(self.warehouse, query=query, limit=limit, offset=offset)

    def conflicts(self) -> list[Conflict]:
        self.refresh()
        return conflicts(self.warehouse)

    def refused(self, limit: int = 100) -> list[Refused]:
        self.refresh()
        return refused(self.warehouse, limit)

    def unmerge(self, link_id: str, reason: str, *, undo: bool = False) -> UnmergeResult:
        return self.resolver.unmerge(link_id, reason, undo=undo)

    def count(self) -> int:
        self.refresh()
        return count_profiles(self.warehouse)


class Refresher:
    """Updates the identity graph every `interval` seconds while the server runs."""

    def __init__(self, service: ProfileService, interval: float) -> None:
        self.service = service
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="percorso-identity", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.service.refresh()
            except Exception:  # keep serving; the next round (or a read) retries
                log.exception("identity update failed; it will be retried")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
