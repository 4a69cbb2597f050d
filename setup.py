"""The one thing pyproject.toml cannot say: the wheel carries the shipped corpus, codebook and codings under
qualcode/data/, so `qualcode demo` finds them after `pip install .` from any folder.

They are copied from transcripts/, surveys/, documents/, codebooks/ and codings/ when the wheel is built, so the repository keeps one copy;
MANIFEST.in puts them in the source distribution the wheel may be built from. An editable install reads them from
the repository instead (qualcode.demo.shipped).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = [
    ("transcripts", "INT-*.md"),
    ("surveys", "*-survey.*"),
    ("documents", "DOC-*.md"),
    ("codebooks", "dac.yml"),
    ("codings", "coder-*.csv"),
    ("codings/evidence", "coder-*.csv"),
]


class BuildPy(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        data = Path(self.build_lib) / "qualcode" / "data"
        for folder, pattern in SHIPPED:
            files = sorted((ROOT / folder).glob(pattern))
            if not files:
                raise SystemExit(f"{folder}/{pattern}: no shipped files to put in the package")
            (data / folder).mkdir(parents=True, exist_ok=True)
            for f in files:
                shutil.copyfile(f, data / folder / f.name)


setup(cmdclass={"build_py": BuildPy})
