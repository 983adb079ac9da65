"""Clients generated from the committed openapi.yaml work: Python (openapi-python-client) against a live
server, TypeScript types (openapi-typescript) compile from it, and Redocly's linter finds no errors.

The npx tools need Node and the npm registry; without `npx` on PATH those tests skip and say so.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.consumers.conftest import ROOT
from tests.factories import leader_body
from tests.live_server import TOKEN, LiveServer

OPENAPI = ROOT / "openapi.yaml"
NPX = shutil.which("npx")
needs_npx = pytest.mark.skipif(NPX is None, reason="npx (Node.js) is not on PATH: cannot run the npm tools")


def _generator() -> list[str] | None:
    sibling = Path(sys.executable).with_name("openapi-python-client")
    if sibling.exists():
        return [str(sibling)]
    found = shutil.which("openapi-python-client")
    return [found] if found else None


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    command = _generator()
    if command is None:
        pytest.skip("openapi-python-client is not installed (pip install openapi-python-client)")
    folder = tmp_path_factory.mktemp("generated")
    result = subprocess.run(
        [*command, "generate", "--path", str(OPENAPI), "--output-path", str(folder / "evolve_client"),
         "--meta", "none"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every operation was generated (openapi-python-client drops an endpoint whose schema it cannot read).
    assert "Endpoint will not be generated" not in result.stdout + result.stderr, result.stdout
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("evolve_client")
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == "evolve_client" or m.startswith("evolve_client.")]:
            del sys.modules[name]


def _module(package: ModuleType, name: str) -> ModuleType:
    return importlib.import_module(f"{package.__name__}.{name}")


def test_the_generated_python_client_reads_and_appends(client_package: ModuleType, live: LiveServer) -> None:
    api = client_package.__name__ + ".api"
    get_organisation = importlib.import_module(f"{api}.organisations.get_organisation")
    get_diff = importlib.import_module(f"{api}.organisations.get_organisation_diff")
    list_organisations = importlib.import_module(f"{api}.organisations.list_organisations")
    append_events = importlib.import_module(f"{api}.events.append_events")
    get_event = importlib.import_module(f"{api}.events.get_event")
    models = _module(client_package, "models")

    with client_package.Client(base_url=live.url, raise_on_unexpected_status=True) as client:
        state = get_organisation.sync("frimley-health-and-care", client=client, as_of=dt.date(2018, 6, 1))
        assert isinstance(state, models.OrganisationState)
        assert state.stage == models.Stage.ICS and state.kind == models.Kind.HEALTH_SYSTEM
        page = list_organisations.sync(client=client, as_of=dt.date(2017, 7, 1), kind=models.Kind.HEALTH_SYSTEM,
                                       stage=models.Stage.ACS, limit=500)
        assert isinstance(page, models.OrganisationPage) and len(page.items) >= 8
        changes = get_diff.sync("frimley-health-and-care", client=client, from_=dt.date(2017, 1, 1),
                                to=dt.date(2018, 6, 1))
        assert [c.after for item in changes.items for c in item.changes if c.field == "stage"] == [
            "partnership", "acs", "ics",
        ]
        missing = get_organisation.sync("no-such-organisation", client=client)
        assert isinstance(missing, models.Problem) and missing.status == 404

    with client_package.AuthenticatedClient(base_url=live.url, token=TOKEN) as writer:
        body = leader_body("frimley-health-and-care", "Generated Client", "2019-05-01")
        event = models.LeaderAppointed.from_dict(body)
        record = append_events.sync(client=writer, body=event)
        assert isinstance(record, models.EventRecord), record
        assert record.event.leader == "Generated Client"
        stored = get_event.sync(record.id, client=writer)
        assert isinstance(stored, models.EventRecord) and stored.position == record.position
        after = get_organisation.sync("frimley-health-and-care", client=writer, as_of=dt.date(2019, 6, 1))
        assert after.leader.name == "Generated Client"

    with client_package.AuthenticatedClient(base_url=live.url, token="not-the-token") as stranger:
        refused = append_events.sync(client=stranger, body=event)
        assert isinstance(refused, models.Problem) and refused.status == 403


@needs_npx
def test_openapi_typescript_generates_types(tmp_path: Path) -> None:
    target = tmp_path / "evolve.d.ts"
    result = subprocess.run(
        [str(NPX), "--yes", "openapi-typescript", str(OPENAPI), "--output", str(target)],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    types = target.read_text()
    for expected in ('"/events/stream"', '"/organisations/{org_id}/diff"', "ListOrganisationsCsv:", "EventRecord:"):
        assert expected in types, expected


@needs_npx
def test_redocly_lint_finds_no_errors() -> None:
    """Warnings are allowed; errors are not. redocly.yaml (repo root) says which rules are relaxed and why."""
    result = subprocess.run(
        [str(NPX), "--yes", "@redocly/cli", "lint", str(OPENAPI)],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr  # redocly exits non-zero on any error


TYPESCRIPT_CLIENT = """
import createClient from "openapi-fetch";
import type { paths } from "./evolve.js";

const [base, token] = process.argv.slice(2);
const api = createClient<paths>({ baseUrl: base });

// A state as of a date.
const frimley = await api.GET("/organisations/{org_id}", {
  params: { path: { org_id: "frimley-health-and-care" }, query: { as_of: "2018-06-01" } },
});
if (!frimley.data) throw new Error("no state");
const stage: string | null | undefined = frimley.data.stage;

// A list, page after page with the cursor.
async function listPage(cursor: string | undefined) {
  const page = await api.GET("/organisations", {
    params: { query: { as_of: "2016-06-01", kind: "health_system", limit: 10, cursor } },
  });
  // The operation also offers text/csv, so the typed body is the JSON page or a string.
  if (!page.data || typeof page.data === "string") throw new Error("no JSON page");
  return page.data;
}
let cursor: string | undefined = undefined;
let footprints = 0;
let pages = 0;
do {
  const data = await listPage(cursor);
  footprints += data.items.length;
  pages += 1;
  cursor = data.next_cursor ?? undefined;
} while (cursor);

// A write with the token.
const appended = await api.POST("/events", {
  headers: { Authorization: `Bearer ${token}` },
  body: {
    type: "LeaderAppointed",
    effective: "2019-05-01",
    precision: "day",
    organisation: "frimley-health-and-care",
    leader: "TypeScript Client",
    sources: [{ title: "test", url: "https://example.org/" }],
  },
});
if (!appended.data || !("position" in appended.data)) {
  throw new Error("append refused: " + JSON.stringify(appended.error));
}

// A problem response, typed.
const missing = await api.GET("/organisations/{org_id}", { params: { path: { org_id: "no-such-organisation" } } });
const problem = missing.error;

console.log(JSON.stringify({
  stage, footprints, pages, position: appended.data.position, status: missing.response.status,
  problem_type: problem?.type, problem_status: problem?.status,
}));
"""


@needs_npx
def test_a_typescript_client_compiles_strict_and_talks_to_a_live_server(tmp_path: Path, live: LiveServer) -> None:
    """openapi-typescript types + openapi-fetch, compiled by tsc --strict, run by node against `evolve serve`."""
    npm = Path(str(NPX)).with_name("npm")
    (tmp_path / "package.json").write_text('{"name": "evolve-ts-client-test", "private": true, "type": "module"}')
    install = subprocess.run(
        [str(npm), "install", "--no-audit", "--no-fund", "typescript@5", "openapi-typescript@7", "openapi-fetch@0.17",
         "@types/node@20"],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    bin_ = tmp_path / "node_modules" / ".bin"
    types = subprocess.run([str(bin_ / "openapi-typescript"), str(OPENAPI), "--output", "evolve.d.ts"],
                           capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert types.returncode == 0, types.stdout + types.stderr
    (tmp_path / "client.ts").write_text(TYPESCRIPT_CLIENT)
    (tmp_path / "tsconfig.json").write_text(
        '{"compilerOptions": {"strict": true, "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext",'
        ' "lib": ["ES2022", "DOM"], "types": ["node"], "skipLibCheck": false, "outDir": "out"},'
        ' "files": ["client.ts", "evolve.d.ts"]}'
    )
    compiled = subprocess.run([str(bin_ / "tsc"), "-p", "."], capture_output=True, text=True, timeout=300,
                              check=False, cwd=tmp_path)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    node = Path(str(NPX)).with_name("node")
    ran = subprocess.run([str(node), "out/client.js", live.url, TOKEN], capture_output=True, text=True, timeout=120,
                         check=False, cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result = json.loads(ran.stdout.strip().splitlines()[-1])
    assert result["stage"] == "ics"
    assert result["footprints"] == 44 and result["pages"] == 5
    assert result["position"] > 0
    assert (result["status"], result["problem_status"]) == (404, 404)
    assert result["problem_type"].startswith("urn:evolve:problem:")
