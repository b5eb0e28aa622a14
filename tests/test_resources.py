"""skillcert.source.resources: where the bundled packs and schemas are, found as importlib.resources finds them."""

from __future__ import annotations

import zipfile
from importlib import resources
from pathlib import Path

import pytest
from skillcert.errors import UsageError
from skillcert.source.resources import _package_dir, bundled_policies_dir, schemas_dir


def test_the_bundled_folders_are_those_importlib_resources_gives() -> None:
    assert bundled_policies_dir() == resources.files("skillcert.policies")
    assert schemas_dir() == resources.files("skillcert.schemas")
    assert (bundled_policies_dir() / "chongqing" / "pack.yaml").is_file()


def test_a_namespace_package_is_left_to_importlib_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "nsdata_for_test").mkdir()  # no __init__.py: no __file__ to start from; not a single folder
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UsageError, match="不在文件系统上"):
        _package_dir("nsdata_for_test")


def test_a_zipped_or_missing_package_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipdata_for_test/__init__.py", "")
    monkeypatch.syspath_prepend(str(archive))
    with pytest.raises(UsageError, match="不在文件系统上"):
        _package_dir("zipdata_for_test")
    with pytest.raises(UsageError, match="安装不完整"):
        _package_dir("skillcert_no_such_data")
