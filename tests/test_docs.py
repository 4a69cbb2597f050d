"""The README, --help and the behaviour agree: generated docs are fresh, every command documents itself."""

from __future__ import annotations

import subprocess
import sys

import pytest

from qualcode.cli import _docs
from tests.conftest import ROOT

COMMANDS = _docs.commands()


@pytest.mark.parametrize("path", [" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help_with_an_example(path):
    cmd = dict((" ".join(p), c) for p, c in COMMANDS)[path]
    assert cmd.help and cmd.help.strip(), f"qualcode {path} has no help text"
    if hasattr(cmd, "commands") and not getattr(cmd, "invoke_without_command", False):
        return  # a pure group: its subcommands carry the examples
    example = _docs._example(cmd)
    assert example.startswith("qualcode "), f"qualcode {path}: its help needs an 'Example: `qualcode ...`' line"


def test_generated_docs_are_up_to_date():
    files = [str(ROOT / "README.md"), str(ROOT / "docs" / "commands.md"), str(ROOT / "docs" / "schema.md")]
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", *files], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, (
        "generated documentation is stale; run: python -m cogapp -r README.md docs/commands.md docs/schema.md\n"
        + result.stdout
        + result.stderr
    )


def test_readme_has_the_two_setup_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    install_demo = "python3.11 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/qualcode demo"
    install_test = "python3.11 -m venv .venv && .venv/bin/pip install -q '.[test]' && .venv/bin/python -m pytest -q"
    assert install_demo in readme and install_test in readme
    assert install_test in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- EVALUATION-TABLE -->" not in readme and "<!-- BENCHMARK-TABLE -->" not in readme


def test_help_does_not_import_spacy():
    code = (
        "import sys\nfrom qualcode.cli import main\nsys.argv = ['qualcode', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('spacy', 'openpyxl', 'lxml', 'krippendorff', 'numpy') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "HEAVY []" in out


def test_version(cli):
    from qualcode import __version__

    assert cli("--version").stdout.strip() == f"qualcode {__version__}"


def test_the_tour_runs_in_the_environment_the_setup_makes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## A tour", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in tour.splitlines() if line.strip()]
    assert commands[0] == ". .venv/bin/activate"  # the venv of the set-up's two commands
    names = {" ".join(p) for p, _ in COMMANDS}
    for line in commands[1:]:
        for part in line.split("&&"):
            words = part.split()
            if words[0] == "qualcode":
                assert words[1] in names or " ".join(words[1:3]) in names, line
