"""How the kiosk words what the answerer decided: answers with their sources and follow-up
suggestions, 'did you mean…?', and honest refusals — in the visitor's language when written,
else in the pack's default language with a notice."""

from __future__ import annotations

from dataclasses import replace

from kiosk.content.model import Exhibit, Pack, pick
from kiosk.events import Answer, AnswerKind, Source, SourceKind, Suggestion
from kiosk.qa.intents import FIELD_OF, Intents
from kiosk.qa.text import sentences


def _confidence(score: float) -> float:
    return round(min(max(score, 0.0), 1.0), 3)


class Replies:
    """Builds the Answer objects for one content version."""

    def __init__(self, pack: Pack, intents: Intents, count: int) -> None:
        self.pack = pack
        self.intents = intents
        self.count = count
        self.default = pack.museum.default_language

    def _text(self, text: dict[str, str], lang: str) -> tuple[str, str]:
        return pick(text, lang, self.default)

    def _notice(self, lang: str, used: str) -> str:
        if used == lang:
            return ""
        template = self.intents.reply("translation_missing", lang) or \
            self.intents.reply("translation_missing", "en") or ""
        name = self.intents.language_name(used, lang if self.intents.reply("unknown", lang)
                                          else "en")
        return template.format(language=name)

    def greeting(self, lang: str) -> str:
        """The museum's welcome (its own words, else the kiosk's)."""
        return self._reply("greeting", lang)[0]

    def greet(self, lang: str, top: list[Exhibit], score: float) -> Answer:
        """Hello back, with works to ask about."""
        text, used = self._reply("greeting", lang)
        question = self.intents.suggestion("about", lang) or "?"
        return Answer(AnswerKind.UNKNOWN, text, used, Source(SourceKind.REPLY, detail="greeting"),
                      _confidence(score), tuple(Suggestion(self._text(ex.title, lang)[0],
                                                           question, ex.id) for ex in top))

    def _reply(self, name: str, lang: str) -> tuple[str, str]:
        written = self.pack.museum.replies.get(name, {})
        if written.get(lang):
            return written[lang], lang
        builtin = self.intents.reply(name, lang)
        if builtin:
            return builtin, lang
        return self._text(written, lang) if written else (self.intents.reply(name, "en") or "",
                                                          "en")

    def _answer(self, kind: SourceKind, lang: str, text: str, used: str, score: float,
                exhibit: Exhibit | None = None, faq_id: str | None = None, detail: str = "",
                skip: int | None = None, more: bool = False) -> Answer:
        suggestions = self._suggestions(exhibit, lang, skip) if exhibit else []
        if more and exhibit is not None:  # the description goes on: "tell me more"
            label = self.intents.suggestion("more", lang) or \
                self.intents.suggestion("more", "en") or "+"
            suggestions = [Suggestion(label, label, exhibit.id), *suggestions][: self.count]
        return Answer(
            kind=AnswerKind.ANSWER, text=text, lang=used,
            source=Source(kind, exhibit.id if exhibit else None, faq_id, detail),
            confidence=_confidence(score),
            suggestions=tuple(suggestions), notice=self._notice(lang, used),
        )

    def fact(self, lang: str, ex: Exhibit, field: str, score: float) -> Answer:
        """A fact from the work's fields, in the kiosk's words ('about': its description)."""
        if field == "about":
            paragraph, used = self._text(ex.description, lang)
            parts = sentences(paragraph)
            return self._answer(SourceKind.DESCRIPTION, lang, " ".join(parts[:2]), used, score,
                                ex, detail="description", more=len(parts) > 2)
        # The sentence is the kiosk's own, in the visitor's language when it has one; names
        # (title, artist) are quoted as written; a value (date, medium, room...) missing in that
        # language is given in another one, and the notice says so.
        template_lang = lang if self.intents.template(field, lang) else self.default
        template = self.intents.template(field, template_lang) or "{title}: {value}"
        value, value_lang = ("", template_lang) if field == "title" else \
            self._text(getattr(ex, FIELD_OF.get(field, field)), template_lang)
        if field != "title" and not value:
            return self.unknown(lang, ex, score, [])
        title, _ = self._text(ex.title, template_lang)
        artist, _ = self._text(ex.artist, template_lang)
        text = template.format(title=title, artist=artist, value=value)
        answer = self._answer(SourceKind.FACT, lang, text[0].upper() + text[1:], template_lang,
                              score, ex, detail=field)
        if field != "artist" and value_lang != template_lang:
            return replace(answer, notice=self._notice(lang, value_lang))
        return answer

    def qa(self, lang: str, ex: Exhibit, item: int, score: float) -> Answer:
        """A curated answer."""
        text, used = self._text(ex.qa[item].answer, lang)
        return self._answer(SourceKind.QA, lang, text, used, score, ex, detail=f"qa[{item}]",
                            skip=item)

    def sentence(self, lang: str, ex: Exhibit, item: int, used: str, score: float) -> Answer:
        """Quote sentence ``item`` of the description in ``used``, whole and alone; "tell me
        more" offers the next one."""
        parts = sentences(ex.description[used])
        return self._answer(SourceKind.DESCRIPTION, lang, parts[item], used, score, ex,
                            detail=f"description[{item}]", more=item + 1 < len(parts))

    def faq(self, lang: str, faq_id: str, score: float) -> Answer:
        """A practical answer."""
        entry = next(f for f in self.pack.faq if f.id == faq_id)
        text, used = self._text(entry.answer, lang)
        return self._answer(SourceKind.FAQ, lang, text, used, score, faq_id=faq_id, detail="faq")

    def clarify(self, lang: str, choices: list[Exhibit], score: float,
                question: str = "") -> Answer:
        """'Which one do you mean?' with the works as choices; choosing one asks ``question``
        (the visitor's own) again about that work (its title when none is given)."""
        text, used = self._reply("clarify", lang)
        options = []
        for ex in choices[: self.count]:
            title, _ = self._text(ex.title, lang)
            artist, _ = self._text(ex.artist, lang)
            options.append(Suggestion(f"{title} — {artist}", question or title, ex.id))
        return Answer(AnswerKind.CLARIFY, text, used, Source(SourceKind.REPLY, detail="clarify"),
                      _confidence(score), tuple(options))

    def unknown(self, lang: str, about: Exhibit | None, score: float, top: list[Exhibit],
                out_of_scope: bool = False, said_all: bool = False) -> Answer:
        """The museum's honest refusal, with what the kiosk can tell instead (``said_all``:
        the description has no more to say)."""
        text, used = self._reply("said_all" if said_all else
                                 "out_of_scope" if out_of_scope else "unknown", lang)
        if about is not None:
            suggestions = self._suggestions(about, lang, None)
        else:
            question = self.intents.suggestion("about", lang) or "?"
            suggestions = [Suggestion(self._text(ex.title, lang)[0], question, ex.id)
                           for ex in top]
        return Answer(AnswerKind.UNKNOWN, text, used,
                      Source(SourceKind.REPLY, detail="out_of_scope" if out_of_scope
                             else "unknown"),
                      _confidence(score), tuple(suggestions[: self.count]),
                      out_of_scope=out_of_scope)

    def not_on_view(self, lang: str, ex: Exhibit, top: list[Exhibit]) -> Answer:
        """The work named is not offered today: say so, and offer works that are."""
        template = self.intents.reply("not_on_view", lang)
        used = lang if template else "en"
        title, _ = self._text(ex.title, used)
        text = (template or self.intents.reply("not_on_view", "en") or "{title}").format(
            title=title)
        question = self.intents.suggestion("about", used) or "?"
        return Answer(AnswerKind.UNKNOWN, text, used,
                      Source(SourceKind.REPLY, detail="not_on_view"), 1.0,
                      tuple(Suggestion(self._text(e.title, lang)[0], question, e.id)
                            for e in top[: self.count]))

    def _suggestions(self, ex: Exhibit, lang: str, skip: int | None) -> list[Suggestion]:
        out: list[Suggestion] = []
        for i, pair in enumerate(ex.qa):
            if i == skip:
                continue
            phrasings = pair.questions.get(lang) or pair.questions.get(self.default) or []
            if phrasings:
                out.append(Suggestion(phrasings[0], phrasings[0], ex.id))
        for key in ("artist", "date", "about"):
            q = self.intents.suggestion(key, lang) or self.intents.suggestion(key, "en")
            if q:
                out.append(Suggestion(q, q, ex.id))
        return out[: self.count]
