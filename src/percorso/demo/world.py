"""What every journey step needs: the chunk's random source, its rows, the classifiers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from percorso.demo.people import Device, DeviceKind, Person, new_anonymous_id
from percorso.demo.rows import Rows, Source
from percorso.demo.traffic import Classifier, user_agent_for

# Which kind of device a persona reaches for first (consumers live on their phones).
PRIMARY_DEVICE: dict[str, tuple[tuple[DeviceKind, ...], tuple[int, ...]]] = {
    "privato": (("mobile", "desktop", "tablet"), (58, 32, 10)),
    "ufficio": (("desktop", "mobile", "tablet"), (75, 20, 5)),
    "bar": (("mobile", "desktop", "tablet"), (60, 30, 10)),
}
COOKIE_RESET = 0.03
"""Chance a visit finds its browser's cookies cleared: a new anonymous id."""


@dataclass
class World:
    rng: random.Random
    rows: Rows = field(default_factory=Rows)
    classifier: Classifier = field(default_factory=Classifier)

    def channel(self, source: Source) -> str:
        return self.classifier.source_channel(source)

    def new_device(self, person: Person, kind: DeviceKind) -> Device:
        device = Device(kind, user_agent_for(self.rng, kind), new_anonymous_id(self.rng))
        person.devices.append(device)
        return device

    def device(self, person: Person, prefer: DeviceKind | None = None) -> Device:
        """The browser a person uses now: mostly one they have, sometimes a new one."""
        rng = self.rng
        if not person.devices:
            kinds, weights = PRIMARY_DEVICE[person.persona]
            return self.new_device(person, rng.choices(kinds, weights)[0])
        if prefer is not None:
            for device in person.devices:
                if device.kind == prefer:
                    return self._maybe_reset(device)
            if len(person.devices) < 3 and rng.random() < 0.6:
                return self.new_device(person, prefer)
        elif len(person.devices) < 3 and rng.random() < 0.12:
            kinds, weights = PRIMARY_DEVICE[person.persona]
            return self.new_device(person, rng.choices(kinds, weights)[0])
        return self._maybe_reset(rng.choice(person.devices))

    def _maybe_reset(self, device: Device) -> Device:
        if self.rng.random() < COOKIE_RESET:
            device.anonymous_id = new_anonymous_id(self.rng)
            device.user_id = None
        return device
