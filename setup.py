"""The package list, found rather than written out: the engine's sub-packages under ``engine/`` and, as namespace
packages of package data, every folder under ``policies/``, ``schemas/`` and ``docs/`` (so that a new region's
folder ships without editing any build file). Everything else is declared in pyproject.toml."""

from pathlib import Path

from setuptools import find_namespace_packages, setup

ROOT = Path(__file__).resolve().parent


def packages(folder: str, name: str) -> list[str]:
    found = find_namespace_packages(where=str(ROOT / folder), exclude=["*__pycache__*"])
    return [name, *(f"{name}.{sub}" for sub in found)]


setup(packages=[*packages("engine", "skillcert"), *packages("policies", "skillcert.policies"),
                *packages("schemas", "skillcert.schemas"), *packages("docs", "skillcert.docs")])
