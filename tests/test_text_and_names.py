"""Pure helpers: folding, sentences, language guess, and finding names in questions."""

from __future__ import annotations

from kiosk.content.model import Exhibit
from kiosk.qa.names import NameIndex, artist_names, sound
from kiosk.qa.text import content_words, fold, guess_language, root, sentences


def ex(ex_id: str, title: str, artist: str, aliases: list[str] | None = None) -> Exhibit:
    return Exhibit(id=ex_id, title={"en": title}, artist={"en": artist}, aliases=aliases or [],
                   description={"en": f"A work called {title}."})


INDEX = NameIndex([
    ex("starry", "The Starry Night", "Vincent van Gogh"),
    ex("watch", "The Night Watch", "Rembrandt van Rijn"),
    ex("meninas", "Las Meninas", "Diego Velázquez"),
    ex("monet", "Impression, Sunrise", "Claude Monet"),
    ex("manet", "Olympia", "Édouard Manet"),
    ex("wanderer", "Wanderer above the Sea of Fog", "Caspar David Friedrich"),
    ex("sunflowers", "Sunflowers", "Vincent van Gogh", ["Vase with Sunflowers"]),
])


def test_fold_and_words() -> None:
    assert fold("Où est « La Laitière » ?") == "ou est « la laitiere » ?"
    assert content_words("Qui a peint la Laitière ?", "fr") == ["peint", "laitiere"]
    # language-aware stopwords: "or" is gold in French
    assert "or" in content_words("c'est du vrai or", "fr")
    assert "or" not in content_words("gold or silver", "en")


def test_sentences_and_roots() -> None:
    assert sentences("One. Two? «Three» here.\n\nFour!") == ["One.", "Two?", "«Three» here.",
                                                            "Four!"]
    assert root("used") == root("uses")
    assert root("angelus") != root("angels")


def test_guess_language() -> None:
    assert guess_language("¿dónde están los baños?", ["fr", "en", "es"], "fr") == "es"
    assert guess_language("who painted this", ["fr", "en", "es"], "fr") == "en"
    assert guess_language("qui a peint ce tableau", ["fr", "en", "es"], "en") == "fr"
    assert guess_language("tell me about Vermeer", ["fr", "en", "es"], "fr") == "en"
    assert guess_language("parle-moi de Monet", ["fr", "en", "es"], "en") == "fr"
    assert guess_language("háblame de Monet", ["fr", "en", "es"], "en") == "es"


def test_sounds_alike() -> None:
    assert sound("nite") == sound("night")
    assert sound("screem") == sound("scream")
    assert sound("velasquez") == sound("velazquez")
    assert sound("monet") != sound("manet")


def test_artist_names_skip_given_names() -> None:
    assert artist_names("Caspar David Friedrich") == ["friedrich"]
    assert set(artist_names("Rembrandt van Rijn")) == {"rijn", "rembrandt"}
    assert artist_names("Raphael") == ["raphael"]


def test_names_found_with_misspellings() -> None:
    assert INDEX.find("who painted the starry nite").best_title(0.6) == ["starry"]
    assert INDEX.find("kien pinto las meninas").best_title(0.6) == ["meninas"]
    assert INDEX.find("velasquez").by_artist() == ["meninas"]
    assert INDEX.find("the night watch").best_title(0.6) == ["watch"]


def test_a_short_word_that_sounds_alike_must_start_alike() -> None:
    assert INDEX.find("the nite watch").best_title(0.6) == ["watch"]
    assert INDEX.find("anywhere to wash my hands?").titles == {}  # not the Vase with Sunflowers


def test_exact_name_beats_a_close_one() -> None:
    assert INDEX.find("manet").by_artist() == ["manet"]
    assert INDEX.find("monet").by_artist() == ["monet"]


def test_a_given_name_is_not_an_artist() -> None:
    assert INDEX.find("where is michelangelo's david").by_artist() == []
