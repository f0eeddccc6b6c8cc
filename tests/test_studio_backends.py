"""The studio's back ends on real bundles: publish (TinyDB bundles, Ed25519 signing, then
`kiosk content sync` of the output), what changed since the last publication, the saved test
questions, and visitors' insights imported and turned into content. The model-free
HashingEncoder keeps them fast."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import zipfile
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kiosk.content import keys
from kiosk.content.loader import load_pack, read_pack
from kiosk.content.sync import current_version, sync
from kiosk.errors import ContentError
from kiosk.insights.log import Turn, append_turns
from kiosk.paths import DataDir
from kiosk.qa.answerer import KioskAnswerer
from kiosk.runtime import open_content
from kiosk.studio import publish, suite, visitors
from kiosk.studio.yamledit import PackFiles
from kiosk.studio.yamltree import add_faq, add_qa, set_value
from kiosk.testing import HashingEncoder
from tests.conftest import DEMO

ENC = HashingEncoder()
WORKS = ("the-milkmaid", "the-scream", "the-kiss", "the-starry-night")


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """Four works of the demo, with its museum.yaml and faq.yaml."""
    out = tmp_path / "pack"
    (out / "exhibits").mkdir(parents=True)
    (out / "images").mkdir()
    for name in ("museum.yaml", "faq.yaml"):
        shutil.copyfile(DEMO / name, out / name)
    for work in WORKS:
        shutil.copyfile(DEMO / "exhibits" / f"{work}.yaml", out / "exhibits" / f"{work}.yaml")
        shutil.copyfile(DEMO / "images" / f"{work}.png", out / "images" / f"{work}.png")
    return out


def answerer(pack: Path) -> KioskAnswerer:
    content = open_content(pack, ENC)
    return KioskAnswerer(content.pack, content.units, content.vectors, ENC)


# -- publish ---------------------------------------------------------------------------------------

def test_publish_signs_and_a_kiosk_syncs_it(pack: Path, tmp_path: Path) -> None:
    private, public, kid = keys.generate(tmp_path / "keys" / "curators")
    out = tmp_path / "stick"
    stages: list[str] = []
    result = publish.publish(pack, out, ENC, private,
                             progress=lambda stage, done, total: stages.append(stage))
    folder = Path(result["folder"])
    assert folder.parent == out and folder.name.startswith("musee-de-demonstration-")
    assert folder.name.endswith(result["id"][:12]) and ":" not in folder.name
    assert result["signed_by"] == kid and (folder / "signature.json").is_file()
    assert result["change"]["added"] == sorted(WORKS)
    assert stages[0] == "validate" and "encode" in stages and stages[-1] == "write"
    assert [p.name for p in out.iterdir()] == [folder.name]  # no staging folder left
    with pytest.raises(ContentError, match="not an unencrypted PEM private key"):
        publish.publish(pack, out, ENC, public)  # (the .pub given by mistake)
    assert [p.name for p in out.iterdir()] == [folder.name]

    history = publish.published(pack)
    assert history == [{"id": result["id"], "created": result["created"],
                        "folder": str(folder), "signed_by": kid,
                        "counts": result["counts"]}]
    secret = private.read_bytes()
    for text in (json.dumps(result), (pack / publish.PUBLISHED).read_text(encoding="utf-8")):
        assert secret.decode() not in text and "PRIVATE KEY" not in text

    data = DataDir(tmp_path / "data")
    message = sync(data, out, ENC.model_id, ENC.sha256,
                   trusted=keys.trusted_keys(str(public)))
    assert current_version(data) == result["id"], message
    other, _, _ = keys.generate(tmp_path / "keys" / "stranger")
    with pytest.raises(ContentError, match="does not trust"):
        sync(DataDir(tmp_path / "data2"), folder, ENC.model_id, ENC.sha256,
             trusted=keys.trusted_keys(str(other.with_suffix(".pub"))))


def test_publish_again_says_what_changed_and_lists_both(pack: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = publish.publish(pack, out, ENC, None)
    assert first["signed_by"] is None
    files = PackFiles(pack)
    doc = files.read("exhibits/the-kiss.yaml")
    set_value(doc.data, ["title", "en"], "The Kiss (Lovers)")
    files.write(doc)
    files.delete("the-scream")
    new = files.duplicate("the-milkmaid", "the-milkmaid-copy")
    set_value(new.data, ["title", "en"], "Another Milkmaid")
    files.write(new)
    second = publish.publish(pack, out, ENC, None)
    assert second["change"] == {"added": ["the-milkmaid-copy"], "removed": ["the-scream"],
                                "edited": ["the-kiss"], "translations_completed": []}
    assert [p["id"] for p in publish.published(pack)] == [second["id"], first["id"]]
    assert len(publish.bundles_in(out)) == 2


def test_a_completed_translation_is_reported(pack: Path, tmp_path: Path) -> None:
    museum = pack / "museum.yaml"
    museum.write_text(museum.read_text(encoding="utf-8").replace("languages: [fr, en, es]",
                                                                 "languages: [fr, en]"),
                      encoding="utf-8")
    before = publish.publish(pack, tmp_path / "out", ENC, None)
    files = PackFiles(pack)
    doc = files.read("museum.yaml")
    set_value(doc.data, ["languages"], ["fr", "en", "es"])
    files.write(doc)
    change = publish.changes(Path(before["folder"]), read_pack(pack))
    assert change.translations_completed == [(work, "es") for work in sorted(WORKS)]
    assert change.edited == sorted(WORKS)  # (every work has Spanish texts now)
    assert change.added == change.removed == []


def test_an_invalid_pack_publishes_nothing(pack: Path, tmp_path: Path) -> None:
    files = PackFiles(pack)
    doc = files.read("exhibits/the-kiss.yaml")
    set_value(doc.data, ["qa", 0, "answer", "es"], "")
    files.write(doc)
    with pytest.raises(ContentError, match=r"the-kiss.yaml:\d+: .*qa\[0\].answer.es' is empty"):
        publish.publish(pack, tmp_path / "out", ENC, None)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    assert publish.published(pack) == []


def test_targets_lists_writable_sticks_and_the_syncthing_folder(tmp_path: Path) -> None:
    media = tmp_path / "media"
    (media / "curator" / "KIOSK-USB").mkdir(parents=True)
    (media / "curator" / ".hidden").mkdir()
    send = tmp_path / "Sync" / "kiosk"
    send.mkdir(parents=True)
    found = publish.targets(send, media=[media, tmp_path / "no-such"])
    assert found == [("USB stick KIOSK-USB", media / "curator" / "KIOSK-USB"),
                     ("Syncthing send folder", send)]
    assert publish.targets(tmp_path / "missing", media=[]) == []


# -- saved test questions --------------------------------------------------------------------------

def test_suite_runs_and_says_what_changed(pack: Path) -> None:
    assert suite.load(pack) == [] and suite.last_run(pack) is None
    right = suite.add(pack, suite.Case("Pourquoi le personnage crie-t-il ?", "fr", "the-scream"))
    faq = suite.add(pack, suite.Case("Where are the toilets?", "en", "toilets", note="FAQ"))
    wrong = suite.add(pack, suite.Case("Where are the toilets?", "en", "the-kiss"))
    assert [c.id for c in suite.load(pack)] == ["t1", "t2", "t3"]
    assert suite.load(pack)[1] == faq and faq.note == "FAQ"

    first = suite.run(pack, answerer(pack))
    outcomes = {r.case.id: r.outcome for r in first.results}
    assert outcomes == {right.id: "right", faq.id: "right", wrong.id: "wrong"}
    assert first.results[1].got == "toilets" and first.results[1].kind == "answer"
    assert first.previous is None and first.counts()["right"] == 2
    assert [now.case.id for before, now in first.changed_since(None)] == ["t1", "t2", "t3"]

    files = PackFiles(pack)  # a curator edits the answer the first case gets
    doc = files.read("exhibits/the-scream.yaml")
    set_value(doc.data, ["qa", 0, "answer", "fr"], "Il ne crie pas : il entend un cri.")
    files.write(doc)
    suite.remove(pack, wrong.id)
    decline = suite.add(pack, suite.Case("Quel temps fera-t-il demain ?", "fr", suite.DECLINE))
    assert decline.id == "t4"

    second = suite.run(pack, answerer(pack))
    assert second.previous == first  # (as stored, read back)
    changed = second.changed_since(second.previous)
    assert [(b.case.id if b else None, n.case.id) for b, n in changed] == [
        ("t1", "t1"), (None, "t4")]
    assert changed[0][1].text.startswith("Il ne crie pas")
    assert changed[1][1].outcome in ("right", "wrong")  # (the hashing encoder knows no meaning)
    assert suite.last_run(pack) == second
    assert second.changed_since(suite.last_run(pack)) == []


def test_a_damaged_suite_file_says_what_to_do(pack: Path) -> None:
    (pack / ".studio").mkdir()
    (pack / suite.TESTS).write_text("- just: a list\n", encoding="utf-8")
    with pytest.raises(ContentError, match="not a list of"):
        suite.load(pack)
    (pack / suite.TESTS).write_text("- [unclosed\n", encoding="utf-8")
    with pytest.raises(ContentError, match="not valid YAML"):
        suite.load(pack)
    (pack / suite.LAST_RUN).write_text("{not json", encoding="utf-8")
    assert suite.last_run(pack) is None


# -- visitors' questions ---------------------------------------------------------------------------

def turns(day: datetime) -> list[Turn]:
    at = day.isoformat(timespec="seconds")  # (a kiosk logs to the second: some turns share it)
    asked = [("en", "Is there wifi in the museum?", 3), ("en", "wifi password please", 1),
             ("fr", "Y a-t-il le wifi dans le musée ?", 2), ("en", "Where can I park my car?", 2)]
    out = [Turn(at, lang, text, "unknown", source_kind="reply", confidence=0.3)
           for lang, text, times in asked for _ in range(times)]
    out.append(Turn(at, "en", "Who painted the kiss?", "answer", source="the-kiss",
                    source_kind="fact", confidence=0.97))
    out.append(Turn(at, "en", "Where do I park?", "answer", source="cloakroom",
                    source_kind="faq", confidence=0.52))
    return out


@pytest.fixture
def insights(tmp_path: Path) -> Path:
    """A kiosk's data folder with two days of insights."""
    folder = tmp_path / "kiosk-data" / "insights"
    folder.mkdir(parents=True)
    day = datetime(2025, 3, 1, 15, 0).astimezone()
    for n in range(2):
        when = day + timedelta(days=n)
        append_turns(folder / f"{when.date().isoformat()}.json",
                     [asdict(t) for t in turns(when)])
    (folder / "notes.txt").write_text("not a day file", encoding="utf-8")
    return tmp_path / "kiosk-data"


def test_insights_from_a_folder_become_a_qa(pack: Path, insights: Path) -> None:
    folder = visitors.import_insights(pack, insights)
    assert folder.parent == pack / visitors.INSIGHTS
    assert sorted(p.name for p in folder.iterdir()) == ["2025-03-01.json", "2025-03-02.json"]
    visitors.import_insights(pack, insights / "insights")  # the same turns again: counted once

    found = visitors.report(pack, ENC)
    assert len(found.folders) == 2 and found.summary is not None
    assert found.summary.questions == 2 * 10
    wifi = next(g for g in found.groups if "wifi" in g.label.lower())
    assert wifi.count >= 6 and wifi.languages[0] == "en" and len(wifi.key) == 12
    assert ("Is there wifi in the museum?", "en", 6) in wifi.phrasings
    assert [(d.question, d.source, d.times) for d in found.doubtful] == [
        ("Where do I park?", "cloakroom", 2)]

    questions, answer = visitors.group_to_qa(wifi)
    assert questions["en"][0] == "Is there wifi in the museum?"
    assert set(answer) == set(questions) and not any(answer.values())
    questions, answer = visitors.group_to_qa(wifi, ["fr", "en", "es"])
    assert list(questions) == ["fr", "en", "es"] and questions["es"] == []

    fid, fq, fa = visitors.group_to_faq(wifi, ["fr", "en", "es"], taken={"is-there-wifi-in-the"})
    assert fid.startswith(("is-there-wifi", "wifi")) and fid != "is-there-wifi-in-the"
    files = PackFiles(pack)
    faq = files.read("faq.yaml")
    fa = {"fr": "Oui : réseau « Musée ».", "en": "Yes: network “Museum”.",
          "es": "Sí: red «Museo»."}  # the curator answers, and asks where visitors did not
    more = {"fr": ["Y a-t-il le wifi ?"], "en": ["Is there wifi?"], "es": ["¿Hay wifi?"]}
    add_faq(faq.data, fid, {lang: fq[lang] or more[lang] for lang in fq}, fa)
    files.write(faq)
    doc = files.read("exhibits/the-kiss.yaml")
    qa_questions, _ = visitors.group_to_qa(wifi, ["fr", "en", "es"])
    add_qa(doc.data, {lang: qa_questions[lang] or more[lang] for lang in qa_questions}, fa)
    files.write(doc)
    loaded, issues = load_pack(pack)
    assert loaded is not None, [str(i) for i in issues if i.error]
    assert any(entry.id == fid for entry in loaded.faq)


def archive(folder: Path, out: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, f"insights/{path.name}")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out


def test_insights_from_an_archive(pack: Path, insights: Path, tmp_path: Path) -> None:
    folder = visitors.import_insights(pack, archive(insights / "insights",
                                                    tmp_path / "kiosk-1.zip"))
    assert folder.name.startswith("kiosk-1-")
    assert sorted(p.name for p in folder.iterdir()) == ["2025-03-01.json", "2025-03-02.json"]
    tgz = tmp_path / "kiosk-2.tar.gz"
    with tarfile.open(tgz, "w:gz") as tf:
        tf.add(insights / "insights", "insights")
    assert len(list(visitors.import_insights(pack, tgz).iterdir())) == 2
    assert visitors.report(pack, ENC).summary.questions == 20  # type: ignore[union-attr]


def hostile_tar(out: Path) -> Path:
    with tarfile.open(out, "w") as tf:
        link = tarfile.TarInfo("insights/2025-03-03.json")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    return out


def test_hostile_archives_are_refused_and_change_nothing(pack: Path, insights: Path,
                                                         tmp_path: Path) -> None:
    day = (insights / "insights" / "2025-03-01.json").read_bytes()
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2025-03-05.json", b"0" * (8 << 20))
    (tmp_path / "bomb.zip").write_bytes(bomb.getvalue())
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as zf:
        zf.writestr("README.txt", "nothing here")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 broken")
    (tmp_path / "notes.txt").write_text("2025-03-01.json", encoding="utf-8")
    cases = {
        archive(insights / "insights", tmp_path / "traversal.zip",
                {"../../2025-03-03.json": day}): "points outside the archive",
        archive(insights / "insights", tmp_path / "absolute.zip",
                {"/tmp/2025-03-03.json": day}): "points outside the archive",
        archive(insights / "insights", tmp_path / "twice.zip",
                {"other/2025-03-01.json": day}): "2025-03-01.json appears twice",
        hostile_tar(tmp_path / "link.tar"): "is a link",
        tmp_path / "bomb.zip": "an archive bomb",
        tmp_path / "empty.zip": "no day files",
        tmp_path / "broken.zip": "cannot be read",
        tmp_path / "notes.txt": "not a folder or a .zip",
    }
    for source, reason in cases.items():
        with pytest.raises(ContentError, match=f"is refused: .*{reason}"):
            visitors.import_insights(pack, source)
        assert visitors.imported(pack) == [], source
        assert not list((pack / ".studio").rglob("*.json")), source
    assert list(tmp_path.rglob("2025-03-0[35].json")) == []
    link = tmp_path / "linked"
    link.symlink_to(insights)
    with pytest.raises(ContentError, match="is refused"):
        visitors.import_insights(pack, link)
    assert visitors.report(pack, ENC).groups == []
