"""labctl.collections: the two collections taken out of an `ansible` wheel, nothing else."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from labctl import collections


def fake_wheel(path: Path, names: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            namespace, collection = name.split(".")
            base = f"ansible_collections/{namespace}/{collection}"
            archive.writestr(f"{base}/MANIFEST.json", "{}")
            archive.writestr(f"{base}/plugins/modules/x.py", "")
        archive.writestr("ansible_collections/amazon/aws/MANIFEST.json", "{}")
        archive.writestr("ansible-12.3.0.dist-info/METADATA", "")
    return path


def test_extract_takes_only_the_named_collections(tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path / "ansible-12.3.0-py3-none-any.whl", ["community.docker", "ansible.posix"])
    target = tmp_path / "site-packages"
    assert collections.missing(target) == ["community.docker", "ansible.posix"]
    count = collections.extract(wheel, target, ["community.docker", "ansible.posix"])
    assert count == 4
    assert collections.missing(target) == []
    assert not (target / "ansible_collections/amazon").exists()
    assert not (target / "ansible-12.3.0.dist-info").exists()


def test_extract_says_which_collection_the_wheel_lacks(tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path / "ansible.whl", ["community.docker"])
    with pytest.raises(collections.CollectionsError, match=r"ansible_collections/ansible/posix/"):
        collections.extract(wheel, tmp_path / "out", ["community.docker", "ansible.posix"])


def test_ensure_does_nothing_when_both_are_there(tmp_path: Path) -> None:
    fake_wheel(tmp_path / "w.whl", [])
    for name in collections.COLLECTIONS:
        namespace, collection = name.split(".")
        manifest = tmp_path / "ansible_collections" / namespace / collection / "MANIFEST.json"
        manifest.parent.mkdir(parents=True)
        manifest.write_text("{}")
    assert collections.ensure(tmp_path) == []


def test_the_venv_has_them_and_requirements_yml_pins_the_same_versions() -> None:
    import yaml

    assert collections.missing() == [], "run ./lab setup"
    requirements = yaml.safe_load((Path(__file__).parents[2] / "ansible/requirements.yml").read_text())
    pinned = {c["name"]: c["version"] for c in requirements["collections"]}
    assert pinned == collections.COLLECTIONS
