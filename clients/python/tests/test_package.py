"""The package as it is shipped: ``python -m build`` makes a wheel and an sdist with every module
and py.typed, the extras and the Python requirement are in the metadata, the wheel installs into
a fresh virtualenv without network and imports without any framework, and the code compiles and
the client runs on Python 3.9 (the oldest Python the package states) when one is installed.

Builds run on a copy of the package in a temporary directory, so nothing is written into the
source tree (no build/, dist/ or egg-info)."""

from __future__ import annotations

import email.parser
import glob
import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent
MODULES = sorted(p.name for p in (PACKAGE / "src" / "sessiond_client").glob("*.py"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    shutil.copytree(
        PACKAGE, source,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", ".pytest_cache", ".mypy_cache",
                                      ".ruff_cache"),
    )
    out = work / "dist"
    # --no-isolation: the build backend (setuptools) of this environment, no download.
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def only(pattern: str, directory: Path) -> Path:
    found = sorted(directory.glob(pattern))
    assert len(found) == 1, (pattern, [p.name for p in directory.iterdir()])
    return found[0]


def test_the_source_has_the_modules_the_readme_documents():
    for module in ("__init__.py", "client.py", "errors.py", "events.py", "flask.py", "django.py", "aio.py",
                   "starlette.py"):
        assert module in MODULES, module
    assert (PACKAGE / "src" / "sessiond_client" / "py.typed").is_file()


def test_the_wheel_has_every_module_and_py_typed(built):
    wheel = only("sessiond-*-py3-none-any.whl", built)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode())
    for module in MODULES:
        assert f"sessiond_client/{module}" in names, module
    assert "sessiond_client/py.typed" in names
    assert not [n for n in names if "tests/" in n or n.endswith(".pyc")], names
    assert metadata["Name"] == "sessiond" and metadata["Requires-Python"] == ">=3.9"
    assert set(metadata.get_all("Provides-Extra")) == {"flask", "django", "async", "starlette"}
    requires = set(metadata.get_all("Requires-Dist"))
    assert requires == {
        'Flask>=2.3; extra == "flask"',
        'Django>=4.2; extra == "django"',
        'httpx>=0.24; extra == "async"',
        'starlette>=0.27; extra == "starlette"',
        'httpx>=0.24; extra == "starlette"',
    }, requires  # and nothing without an extra: the client is the standard library only


def test_the_sdist_has_the_sources_readme_and_py_typed(built):
    sdist = only("sessiond-*.tar.gz", built)
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for module in MODULES:
        assert f"src/sessiond_client/{module}" in names, module
    assert {"src/sessiond_client/py.typed", "pyproject.toml", "README.md", "PKG-INFO"} <= names


def test_the_wheel_installs_offline_and_imports_without_frameworks(built, tmp_path):
    wheel = only("sessiond-*-py3-none-any.whl", built)
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-index", "--disable-pip-version-check", str(wheel)],
        check=True, timeout=300,
    )
    code = (
        "import sys, pathlib, sessiond_client\n"
        "from sessiond_client import SessiondClient, SessionExists, new_sid\n"
        "assert not {'flask', 'django', 'httpx', 'starlette'} & set(sys.modules), sorted(sys.modules)\n"
        "assert (pathlib.Path(sessiond_client.__file__).parent / 'py.typed').is_file()\n"
        "assert 'site-packages' in sessiond_client.__file__, sessiond_client.__file__\n"
        "print(sessiond_client.__version__)\n"
    )
    done = subprocess.run([str(python), "-I", "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0.1.0"


def python39() -> str | None:
    candidates = [os.environ.get("PYTHON39"), shutil.which("python3.9")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3.9")))
    for candidate in candidates:
        if not candidate:
            continue
        try:
            done = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                                  capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if done.returncode == 0 and done.stdout.strip() == "(3, 9)":
            return candidate
    return None


PYTHON39 = python39()


@pytest.mark.skipif(PYTHON39 is None, reason="no Python 3.9 here (set PYTHON39 to one)")
def test_python_3_9_compiles_every_module_and_runs_the_client(sessiond, tmp_path):
    assert PYTHON39 is not None
    source = PACKAGE / "src"
    # Compiled into tmp_path, not next to the sources: syntax newer than 3.9 fails here.
    for module in MODULES:
        subprocess.run(
            [PYTHON39, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
             str(source / "sessiond_client" / module), str(tmp_path / (module + "c"))],
            check=True, timeout=60,
        )
    # The client is the standard library only: it runs as it is (annotations included).
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.dont_write_bytecode = True\n"
        "from sessiond_client import SessiondClient, new_sid\n"
        "import sessiond_client._wire\n"
        "c = SessiondClient(sys.argv[2])\n"
        "s = c.create({'a': [1, 2]}, sid=new_sid(), lifetime=60)\n"
        "s = c.patch(s.sid, data={'b': True}, lifetime=None)\n"
        "assert s.data == {'a': [1, 2], 'b': True} and s.lifetime is None, s\n"
        "c.close()\n"
    )
    done = subprocess.run([PYTHON39, "-X", "dev", "-c", code, str(source), sessiond.url],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
