"""Identifier values: normalised, refused when they cannot identify anyone.

Normalisation runs in the warehouse where SQL can do it (trim, case, the
shape of an email); phone numbers need libphonenumber, so the distinct raw
numbers go through Python once and are cached in the warehouse.
"""

from __future__ import annotations

import phonenumbers

from percorso.identity.rules import INVALID_VALUES, MAX_LENGTH, IdentityRules, KindRule

EMAIL_SHAPE = r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}"


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def like_pattern(blocked: str) -> str:
    """A blocked value with `*` wildcards as a LIKE pattern (with `\\` escaping)."""
    escaped = blocked.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def normalise_value(rule: KindRule, raw: str, region: str) -> str | None:
    """A value as the warehouse normalises it (for looking one up)."""
    text = raw.strip().strip("\u200b\ufeff").strip()
    if rule.normalise == "phone":
        return normalise_phone(text, region)
    if rule.normalise in ("email", "lower"):
        return text.lower()
    if rule.normalise == "upper":
        return text.upper()
    return text


def normalise_phone(raw: str, region: str) -> str | None:
    """E.164, or None when it is not a possible number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


SPACE = r"[\s\x{00A0}\x{2007}\x{202F}\x{200B}\x{FEFF}]"
"""White space as RE2 sees it, plus the no-break and zero-width spaces that pasted text carries."""
STRIP_PATTERN = f"^{SPACE}+|{SPACE}+$"


def stripped(raw: str) -> str:
    """SQL for `raw` without leading and trailing white space of any kind (trim() keeps newlines)."""
    return f"regexp_replace({raw}, {lit(STRIP_PATTERN)}, '', 'g')"


def normalised_sql(rule: KindRule, raw: str, phone: str) -> str:
    """SQL for the normalised value of `raw` (a column) under `rule`.

    `phone` is the column holding the E.164 form looked up from the cache.
    """
    if rule.normalise == "phone":
        return phone
    if rule.normalise in ("email", "lower"):
        return f"lower({stripped(raw)})"
    if rule.normalise == "upper":
        return f"upper({stripped(raw)})"
    return stripped(raw)


def refusal_sql(rules: IdentityRules, kind: str, value: str, raw: str) -> str:
    """SQL for why a value of `kind` is refused as an identifier, or NULL when it is not."""
    rule = rules.kinds[kind]
    invalid = ", ".join(lit(v) for v in sorted(INVALID_VALUES))
    cases = [
        f"WHEN lower({stripped(raw)}) IN ({invalid}) THEN 'placeholder value'",
        f"WHEN length({raw}) > {MAX_LENGTH} THEN 'longer than {MAX_LENGTH} characters'",
        f"WHEN left({stripped(raw)}, 1) IN ('{{', '[') THEN 'not a single value'",
    ]
    if rule.normalise == "email":
        cases.append(
            f"WHEN NOT regexp_full_match({value}, {lit(EMAIL_SHAPE)}) THEN 'not an email address'"
        )
    if rule.normalise == "phone":
        cases.append(f"WHEN {value} IS NULL THEN 'not a phone number'")
    for blocked in rule.blocked:
        cases.append(
            f"WHEN {value} LIKE {lit(like_pattern(blocked.strip().lower() if rule.normalise == 'email' else blocked))} "
            f"ESCAPE '\\' THEN {lit('blocked (' + blocked + ')')}"
        )
    return "CASE " + " ".join(cases) + " ELSE NULL END"
