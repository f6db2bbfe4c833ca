"""The locks (requirements/*.txt, made by `make lock`) agree with pyproject.toml.

`make install` installs the locks, not pyproject.toml's ranges: a change to
pyproject.toml's dependencies without `make lock` would go untested and
uninstalled. These tests catch it.
"""

import importlib.metadata
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
APP_LOCK = ROOT / "requirements" / "app.txt"
DEV_LOCK = ROOT / "requirements" / "dev.txt"
BUILD_IN = ROOT / "requirements" / "build.in"
APP_EXTRAS = ("postgres", "redis")
DEV_EXTRAS = ("dev", "postgres", "redis")


def pins(lock_text):
    """The pins of a lock, name -> (version, hashes), whatever their markers."""
    # A pin and its hashes are one logical line, continued by backslashes.
    logical = re.sub(r"\\\n", " ", lock_text)
    found = {}
    for line in logical.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        assert match, f"not an exact pin: {line!r}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
        found[canonicalize_name(match[1])] = (Version(match[2]), hashes)
    return found


def requirements(pyproject_text, extras):
    """pyproject.toml's requirements with these extras, and its build backend's."""
    data = tomllib.loads(pyproject_text)
    project = data["project"]
    texts = list(project["dependencies"]) + list(data["build-system"]["requires"])
    for extra in extras:
        texts += project["optional-dependencies"][extra]
    texts += [t for t in BUILD_IN.read_text().splitlines() if t and not t.startswith("#")]
    return [Requirement(text) for text in texts]


def disagreements(pyproject_text, lock_text, extras):
    """What of pyproject.toml (with these extras) the lock lacks or pins out of range.

    A requirement's own extras (psycopg[binary]) are followed through the
    installed package's metadata, when the installed version is the locked one.
    """
    locked = pins(lock_text)
    problems = []

    def check(req, why):
        if req.marker is not None and not req.marker.evaluate():
            return  # not for this platform or Python
        name = canonicalize_name(req.name)
        if name not in locked:
            problems.append(f"{req} ({why}): not in the lock")
            return
        version = locked[name][0]
        if not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req} ({why}): the lock has {version}")
        if not req.extras:
            return
        try:
            dist = importlib.metadata.distribution(req.name)
        except importlib.metadata.PackageNotFoundError:
            return
        if Version(dist.version) != version:
            return
        for extra in req.extras:
            for text in dist.requires or ():
                sub = Requirement(text)
                if sub.marker is not None and sub.marker.evaluate({"extra": extra}):
                    sub.marker = None
                    check(sub, f"{req.name}[{extra}]")

    for req in requirements(pyproject_text, extras):
        check(req, "pyproject.toml")
    return problems


def test_each_lock_holds_what_pyproject_requires_within_its_ranges():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert disagreements(pyproject, APP_LOCK.read_text(), APP_EXTRAS) == [], (
        "pyproject.toml changed without `make lock`"
    )
    assert disagreements(pyproject, DEV_LOCK.read_text(), DEV_EXTRAS) == [], (
        "pyproject.toml changed without `make lock`"
    )


def test_every_pin_has_hashes_and_the_app_lock_is_part_of_the_dev_lock():
    app, dev = pins(APP_LOCK.read_text()), pins(DEV_LOCK.read_text())
    for name, (version, hashes) in {**app, **dev}.items():
        assert hashes, f"{name}=={version} has no hash"
    # `make test` installs dev.txt over app.txt: the same versions, or the
    # tests would run other versions than `make run`.
    assert {name: app[name][0] for name in app} == {name: dev[name][0] for name in app}


def test_a_pyproject_change_without_make_lock_is_caught():
    pyproject = (ROOT / "pyproject.toml").read_text()
    lock = DEV_LOCK.read_text()
    raised = pyproject.replace('"Flask>=3.0,<4"', '"Flask>=99"')
    added = pyproject.replace('"qrcode>=7.4",', '"qrcode>=7.4",\n    "left-pad>=1",')
    # psycopg's extra "c" (its C build, needing psycopg-c), which nothing locks.
    extra = pyproject.replace('"psycopg[binary]>=3.1"', '"psycopg[binary,c]>=3.1"')
    assert raised != pyproject and added != pyproject and extra != pyproject
    assert [p for p in disagreements(raised, lock, DEV_EXTRAS) if "Flask>=99" in p]
    assert [p for p in disagreements(added, lock, DEV_EXTRAS) if "left-pad" in p]
    assert [p for p in disagreements(extra, lock, DEV_EXTRAS) if "psycopg-c" in p]
