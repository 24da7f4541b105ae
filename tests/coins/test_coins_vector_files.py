"""The copied vector files are intact and still name their sources."""

import hashlib

import pytest
from factories import VECTORS, load_vectors

INDEX = load_vectors("index.json")


@pytest.mark.parametrize("name", sorted(INDEX["files"]))
def test_copy_matches_the_checksum_in_the_index(name: str) -> None:
    digest = hashlib.sha256((VECTORS / name).read_bytes()).hexdigest()
    assert digest == INDEX["files"][name]["sha256"]


@pytest.mark.parametrize("name", sorted(INDEX["files"]))
def test_every_file_names_its_source(name: str) -> None:
    data = load_vectors(name)
    assert data["source"], name
    assert all(source["repo"] and source["path"] for source in data["source"])


def test_readme_is_copied_too() -> None:
    assert "Official test vectors" in (VECTORS / "README.md").read_text(encoding="utf-8")
