"""Identity rules: which identifiers exist, where events carry them, and the guards.

The defaults fit the systems an Italian SME runs (website, mailer, forms, CRM,
ERP, helpdesk, surveys, social). A home can change them in
`<home>/identity.yaml`:

```yaml
kinds:
  email:
    blocked: ["info@*", "test@azienda.it"]
    cap: 3
  vat_number:            # a kind of our own
    traits: [vat_number, partita_iva]
    normalise: upper
    cap: 1
user_id_kind:
  shop-app: user_id      # a source name, or a kind of source (crm, erp, mailer...)
source_priority: [crm, erp, helpdesk, mailer, forms, web]
```

A changed file takes effect at the next update: the whole graph is rebuilt,
since blocked values and caps change which links hold.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Final, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from percorso.errors import UserError
from percorso.events.channel import SourceKind, source_kind
from percorso.yaml_models import load_model

Normalise = Literal["email", "phone", "id", "lower", "upper"]
KindName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]

INVALID_VALUES: Final[frozenset[str]] = frozenset(
    {"", "null", "undefined", "0", "nan", "none", "[object object]", "nil", "n/a"}
)
"""Values that code writes when it has no value; refused as identifiers (compared lower-cased)."""

RESOLVER_VERSION: Final = 2
"""Raised when the way identifiers are read or normalised changes: stored graphs are rebuilt."""

MAX_LENGTH: Final = 200
"""Longer values are refused: identifiers are short, a long one is a payload that slipped in."""


class KindRule(BaseModel):
    """One kind of identifier."""

    model_config = ConfigDict(extra="forbid")

    traits: list[str] = Field(default_factory=list)
    """Trait keys that carry this kind (`traits.email`, `traits.email_2`...)."""
    properties: list[str] = Field(default_factory=list)
    """Property keys that carry it (rare: a mailer event with `properties.email`)."""
    normalise: Normalise = "id"
    """email: trimmed, lower case, must hold an @; phone: E.164; id: trimmed; lower/upper: trimmed and cased."""
    cap: int | None = Field(default=None, ge=1)
    """At most this many identifiers of the kind in one profile; a link past it is a conflict."""
    blocked: list[str] = Field(default_factory=list)
    """Values (after normalisation) never used as links; `*` matches any text (`info@*`)."""

    @field_validator("traits", "properties")
    @classmethod
    def _keys(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if (
                not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key)
                or len(key) > 64
            ):
                raise ValueError(
                    f"{key!r} is not a key name; use letters, digits and _ (a.b for a nested key)"
                )
        return keys


def _default_kinds() -> dict[str, KindRule]:
    return {
        "anonymous_id": KindRule(),
        "user_id": KindRule(cap=1),
        "email": KindRule(
            traits=["email", "email_2", "alt_email", "secondary_email", "work_email"],
            normalise="email",
            cap=5,
            blocked=["noreply@*", "no-reply@*", "test@test.com"],
        ),
        "phone": KindRule(
            traits=["phone", "mobile", "phone_number", "telefono", "cellulare"],
            normalise="phone",
            cap=3,
        ),
        "crm_id": KindRule(traits=["crm_id"], cap=1),
        "erp_id": KindRule(traits=["erp_id"], cap=1),
        "social_id": KindRule(cap=5),
    }


DEFAULT_USER_ID_KIND: Final[dict[str, str]] = {
    "web": "user_id",
    "app": "user_id",
    "server": "user_id",
    "social": "social_id",
    "mailer": "email",
    "forms": "email",
    "helpdesk": "email",
    "survey": "email",
    "crm": "crm_id",
    "erp": "erp_id",
}
"""What a source's `userId` is, by kind of source: the CRM's user id is its contact id."""

DEFAULT_SOURCE_PRIORITY: Final[list[str]] = [
    "crm",
    "erp",
    "helpdesk",
    "forms",
    "mailer",
    "survey",
    "web",
    "app",
    "server",
    "social",
]


class IdentityRules(BaseModel):
    """The content of `<home>/identity.yaml`, merged over the defaults."""

    model_config = ConfigDict(extra="forbid")

    kinds: dict[KindName, KindRule] = Field(default_factory=_default_kinds)
    """Identifier kinds; in a file, a kind's unwritten keys keep their default."""
    user_id_kind: dict[str, KindName] = Field(default_factory=lambda: dict(DEFAULT_USER_ID_KIND))
    """Source name or kind of source -> the kind its `userId` is."""
    source_priority: list[str] = Field(default_factory=lambda: list(DEFAULT_SOURCE_PRIORITY))
    """Sources (names or kinds), most trusted first: a profile's trait comes from the first."""
    phone_region: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "IT"
    """Country of phone numbers written without an international prefix."""
    previous_id_kind: KindName = "anonymous_id"
    """What an alias's `previousId` is: the anonymous id (analytics.js) or, when a
    system aliases one user id to another, `user_id`."""

    def kind_of_user_id(self, source: str) -> str:
        if source in self.user_id_kind:
            return self.user_id_kind[source]
        kind: SourceKind = source_kind(source)
        return self.user_id_kind.get(kind, "user_id")

    def priority_of(self, source: str) -> int:
        """0 for the most trusted source; sources not listed come last."""
        for rank, name in enumerate(self.source_priority):
            if name == source:
                return rank
        kind = source_kind(source)
        for rank, name in enumerate(self.source_priority):
            if name == kind:
                return rank
        return len(self.source_priority)

    def fingerprint(self) -> str:
        """Changes whenever a rule changes: the stored graph was built with other rules."""
        described = {"resolver": RESOLVER_VERSION, **self.model_dump()}
        return hashlib.sha256(orjson.dumps(described, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


class RulesFile(BaseModel):
    """What a user may write; missing parts keep the defaults."""

    model_config = ConfigDict(extra="forbid")

    kinds: dict[KindName, KindRule] = Field(default_factory=dict)
    user_id_kind: dict[str, KindName] = Field(default_factory=dict)
    source_priority: list[str] | None = None
    phone_region: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    previous_id_kind: KindName | None = None


def merged(written: RulesFile, label: str = "identity rules") -> IdentityRules:
    """The defaults with what the file says; a kind's unwritten keys keep their default."""
    rules = IdentityRules()
    for name, rule in written.kinds.items():
        default = rules.kinds.get(name)
        rules.kinds[name] = (
            default.model_copy(update=rule.model_dump(exclude_unset=True)) if default else rule
        )
    rules.user_id_kind.update(written.user_id_kind)
    if written.source_priority is not None:
        rules.source_priority = written.source_priority
    if written.phone_region is not None:
        rules.phone_region = written.phone_region
    if written.previous_id_kind is not None:
        rules.previous_id_kind = written.previous_id_kind
    named = [(f"user_id_kind.{s}", k) for s, k in rules.user_id_kind.items()]
    named.append(("previous_id_kind", rules.previous_id_kind))
    for key, kind in named:
        if kind not in rules.kinds:
            raise UserError(
                f'{label}: key "{key}" names the kind "{kind}", which is not declared; '
                f"declare it under kinds: or use one of {', '.join(sorted(rules.kinds))}"
            )
    return rules


def load_rules(home: Path) -> IdentityRules:
    """The rules of a home: `<home>/identity.yaml` over the defaults, or the defaults."""
    path = home / "identity.yaml"
    if not path.exists():
        return IdentityRules()
    return merged(load_model(path, RulesFile, "identity rules file"), str(path))
