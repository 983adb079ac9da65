"""The README's pandas example runs, as written, against a live server and says what its comments say."""

from __future__ import annotations

import contextlib
import io
import re
from typing import Any

import pytest

from tests.consumers.conftest import ROOT
from tests.live_server import LiveServer

pytest.importorskip("pandas", reason="the pandas example needs `pip install pandas` (in the test extra)")


def example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"### From pandas\s+```python\n(.*?)```", readme, re.DOTALL)
    assert found, "README has no pandas example"
    return found.group(1)


def test_the_readme_pandas_example(live: LiveServer) -> None:
    code = example().replace('BASE = "http://127.0.0.1:8000"', f'BASE = "{live.url}"')
    namespace: dict[str, Any] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, "README.md", "exec"), namespace)
    by_stage = namespace["systems"].groupby("stage").size().to_dict()
    assert by_stage == {"partnership": 37, "acs": 10}
    stages = namespace["series"].filter(like="stage.").loc["2021-04-01"]
    assert stages["stage.ics"] == 42
