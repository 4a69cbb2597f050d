"""The README's set-up as a new user meets it: a plain (not editable) install, and the demo run from another folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_demo_runs_from_any_folder_after_a_plain_install(tmp_path):
    # The wheel is built from a copy of what the repository ships, so the build leaves nothing in the checkout.
    source = tmp_path / "qualcode-src"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    junk = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for folder in ("src", "transcripts", "surveys", "documents", "codebooks", "codings"):
        shutil.copytree(ROOT / folder, source / folder, ignore=junk)
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, source])
    [wheel] = wheels.glob("qualcode-*.whl")

    # A fresh environment that borrows this one's dependencies (spaCy and the rest: no download) but not its
    # qualcode, which is an editable install of the checkout.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    (tmp_path / site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([python, "-m", "pip", "install", "--no-deps", "--ignore-installed", "-q", wheel])
    where = run([python, "-c", "import qualcode; print(qualcode.__file__)"]).stdout
    assert where.startswith(str(env_dir))

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = run([env_dir / "bin" / "qualcode", "demo"], cwd=elsewhere)
    assert "Participants: 108 (65 women, 43 men)." in r.stdout
    assert "Beside 64 interviews: 2 surveys (115 respondents" in r.stdout  # the surveys and documents came along
    assert (elsewhere / "qualcode-demo" / "matrix-source.csv").stat().st_size > 0
    assert r.stderr == ""  # stderr is a pipe here: no progress, as the README says
    assert (elsewhere / "qualcode-demo" / "report.html").stat().st_size > 0


def run(args: list, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, args))} exited {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r
