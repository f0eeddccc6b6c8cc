"""Any text a visitor's question may become — any characters, any length, lone surrogates from
bytes that are not UTF-8, any language code — is answered, declined or clarified: never an
exception (hypothesis, over the demo pack with the model-free encoder)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.events import Answer, Question
from kiosk.qa.answerer import KioskAnswerer
from kiosk.runtime import open_content
from kiosk.settings import LimitSettings
from kiosk.testing import HashingEncoder
from tests.conftest import DEMO

MAX_QUESTION_CHARS = LimitSettings().question_chars

TEXTS = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=MAX_QUESTION_CHARS - 5,
            max_size=MAX_QUESTION_CHARS * 3),
    st.text(alphabet=st.sampled_from(list("qui a peint la joconde? \u0301\u200b\ufeff\x00\n")
                                     + ["\ud800"]), max_size=300),
)


@pytest.fixture(scope="module")
def answerer() -> KioskAnswerer:
    encoder = HashingEncoder()
    demo = open_content(DEMO, encoder)
    return KioskAnswerer(demo.pack, demo.units, demo.vectors, encoder)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, lang=st.sampled_from(["fr", "en", "es", "de", "ko", "", "xx-YY", "e\nn"]),
       about=st.sampled_from([None, "the-milkmaid", "no-such-work"]))
def test_any_question_gets_a_reply(answerer: Any, text: str, lang: str,
                                   about: str | None) -> None:
    reply = answerer.answer(Question(text, lang), about)
    assert isinstance(reply, Answer) and isinstance(reply.text, str)
