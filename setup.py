"""Packaging glue that pyproject.toml cannot express: the top-level templates/ and static/
folders of the design card join the wheel as tracker/templates and tracker/static."""

from setuptools import find_namespace_packages, setup


def data_folders(folder: str) -> list[str]:
    """`folder` and every folder below it, named as packages under tracker (data only, no code)."""
    found = find_namespace_packages(where=folder, exclude=["*__pycache__*"])
    return [f"tracker.{folder}", *(f"tracker.{folder}.{name}" for name in found)]


# pyproject.toml maps the two folders (package-dir) and lists their files (package-data);
# `packages` must name them and their sub-folders too. Folders of data (migrations,
# translations) count as namespace packages, so they are listed rather than left to warnings.
CODE = find_namespace_packages(include=["tracker", "tracker.*"], exclude=["*__pycache__*"])
setup(packages=[*CODE, *data_folders("templates"), *data_folders("static")])
