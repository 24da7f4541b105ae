"""The copied vector files are intact and still name their sources."""

import hashlib
import json
from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parent.parent / "data" / "vectors"
INDEX = json.loads((VECTORS / "index.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(INDEX["files"]))
def test_copy_matches_the_checksum_in_the_index(name: str) -> None:
    digest = hashlib.sha256((VECTORS / name).read_bytes()).hexdigest()
    assert digest == INDEX["files"][name]["sha256"]


@pytest.mark.parametrize("name", sorted(INDEX["files"]))
def test_every_file_names_its_source(name: str) -> None:
    data = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    assert data["source"], name
    assert all(source["repo"] and source["path"] for source in data["source"])


def test_readme_is_copied_too() -> None:
    assert "Official test vectors" in (VECTORS / "README.md").read_text(encoding="utf-8")
