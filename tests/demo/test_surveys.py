"""Survey answers: NPS and CSAT scores, comments in Italian and English that match the score."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from percorso.demo.comments import REMARKS, TOPICS, compose
from percorso.demo.people import Language
from tests.demo.conftest import Demo


@pytest.fixture(scope="module")
def answers(demo: Demo) -> list[dict[str, Any]]:
    return [
        orjson.loads(str(r[0]))
        for r in demo.rows("SELECT properties FROM events WHERE event = 'survey_answered'")
    ]


def _bad_remarks(language: Language) -> list[str]:
    return [remark for topic in TOPICS for remark in REMARKS[language][topic][1]]


def test_scores_cover_promoters_detractors_and_both_csat_ends(
    answers: list[dict[str, Any]],
) -> None:
    nps = [int(a["score"]) for a in answers if a["survey"] == "nps"]
    csat = [int(a["score"]) for a in answers if a["survey"] == "csat"]
    assert all(0 <= s <= 10 for s in nps) and all(1 <= s <= 5 for s in csat)
    assert any(s >= 9 for s in nps) and any(s <= 6 for s in nps)
    assert any(s >= 4 for s in csat) and any(s <= 2 for s in csat)


def test_comments_are_mostly_italian_some_english(answers: list[dict[str, Any]]) -> None:
    commented = [a for a in answers if "comment" in a]
    english = sum(a["language"] == "en" for a in commented) / len(commented)
    assert 0.15 < english < 0.4
    assert len({a["comment"] for a in commented}) > 0.6 * len(commented)


def test_comments_match_the_score(answers: list[dict[str, Any]]) -> None:
    for answer in answers:
        comment = answer.get("comment")
        if not isinstance(comment, str):
            continue
        complains = any(
            bad in comment or bad[:1].lower() + bad[1:] in comment
            for bad in _bad_remarks(answer["language"])
        )
        score, survey = int(answer["score"]), answer["survey"]
        promoter = score >= 9 if survey == "nps" else score >= 4
        detractor = score <= 6 if survey == "nps" else score <= 2
        if promoter:
            assert not complains, answer
        if detractor:
            assert complains, answer


@pytest.mark.parametrize("language", ["it", "en"])
def test_enough_distinct_remarks_to_avoid_repetition(language: Language) -> None:
    remarks = {r for topic in TOPICS for side in REMARKS[language][topic] for r in side}
    assert len(remarks) >= 40
    rng = random.Random(1)
    comments = {compose(rng, language, "mixed", rng.choice(TOPICS)) for _ in range(500)}
    assert len(comments) > 300
