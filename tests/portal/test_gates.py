"""The gates of issue 9, proven: sessions on the server, Authlib past the state-binding
fixes, the bandit and pip-audit gates failing when they should, the production settings
path (PostgreSQL test databases and broker queues kept apart per run), and the figures
`make verify` prints."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from packaging.version import Version

from brands.oauth import jdcloud_oauth_client
from portal.celery import app as celery_app
from tests.processes import ROOT


def load_script(name: str):
    """A module of scripts/ (not a package), imported by path."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def run(*args: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- Session store and OAuth ----------------------------------------------------------


@pytest.mark.django_db
def test_sessions_live_in_the_database_and_the_cookie_holds_only_their_key(brand_client):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    key = brand_client.cookies[settings.SESSION_COOKIE_NAME].value

    # A random key, not a signed payload: nothing of the session travels in the cookie.
    assert len(key) == 32 and key.isalnum()
    stored = Session.objects.get(session_key=key).get_decoded()
    assert "_auth_user_id" in stored
    assert brand_client.get("/").status_code == 200

    # Deleting the row ends the session on the server, whatever the browser still holds.
    Session.objects.filter(session_key=key).delete()
    brand_client.cookies[settings.SESSION_COOKIE_NAME] = key
    response = brand_client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_the_oauth_state_and_pkce_verifier_are_kept_in_the_server_side_session(client):
    assert jdcloud_oauth_client().framework.cache is None  # no cache: the session holds it

    response = client.get("/accounts/jdcloud/login/")

    assert response.status_code == 302
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    stored = Session.objects.get(session_key=key).get_decoded()
    entry = stored[f"_state_jdcloud_{state}"]
    assert entry["data"]["code_verifier"] and entry["data"]["redirect_uri"]
    assert state not in key and entry["data"]["code_verifier"] not in response["Location"]


# Authlib advisories on the OAuth client's `state`: GHSA-fg6f-75jq-6523 (CVE-2025-68158,
# state not bound to the session when a cache stores it; fixed in 1.6.6) and
# GHSA-jj8c-mmj3-mmgv (2026, the same CSRF through cache-backed state; fixed in 1.6.11).
AUTHLIB_STATE_BINDING_FIXED = Version("1.6.11")


def test_authlib_is_locked_and_installed_past_the_state_binding_fixes():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"]}

    assert Version(locked["authlib"]) >= AUTHLIB_STATE_BINDING_FIXED
    assert version("authlib") == locked["authlib"]  # the venv is the lock (uv sync --frozen)


# --- The bandit gate ------------------------------------------------------------------


def bandit_gate(target: Path) -> subprocess.CompletedProcess:
    return run("bash", "scripts/gates", env={"GATES_ONLY": "bandit", "GATES_BANDIT_TARGET": target})


@pytest.fixture
def scanned(tmp_path) -> Path:
    folder = tmp_path / "scanned"
    folder.mkdir()
    return folder


def test_the_bandit_gate_fails_on_an_unexplained_finding(scanned):
    (scanned / "weak.py").write_text(
        "import hashlib\n\n\ndef digest(text):\n    return hashlib.md5(text.encode()).hexdigest()\n"
    )

    result = bandit_gate(scanned)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "weak.py:5: B324 [HIGH]" in result.stdout
    assert "bandit: FAILED" in result.stdout


def test_the_bandit_gate_passes_a_finding_explained_on_its_line(scanned):
    (scanned / "imposed.py").write_text(
        "import hashlib\n\n\ndef token(text):\n"
        "    # MD5 is what the remote API prescribes for this token.\n"
        "    return hashlib.md5(text.encode()).hexdigest()  # nosec B324\n"
    )

    result = bandit_gate(scanned)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "bandit: no medium or high finding unexplained" in result.stdout


def test_the_gates_run_in_make_test_and_ci_runs_make_test():
    makefile = (ROOT / "Makefile").read_text()
    test_recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "bash scripts/gates" in test_recipe
    assert test_recipe.index("scripts/gates") < test_recipe.index("pytest")
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")
    assert "exclude_dirs" in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["bandit"]


# --- The pip-audit gate ---------------------------------------------------------------


def pip_audit_report(*dependencies: dict) -> dict:
    """pip-audit's `--format json` report."""
    return {"dependencies": list(dependencies), "fixes": []}


CLEAN = {"name": "django", "version": "5.2.19", "vulns": []}
VULNERABLE = {
    "name": "authlib",
    "version": "1.6.5",
    "vulns": [{"id": "GHSA-fg6f-75jq-6523", "fix_versions": ["1.6.6"], "aliases": []}],
}
UNAUDITED = {"name": "celery", "skip_reason": "Dependency not found on PyPI: celery (5.7.0)"}


@pytest.mark.parametrize(
    ("dependencies", "relaxed", "strict"),
    [
        ((CLEAN,), 0, 0),
        ((CLEAN, VULNERABLE), 1, 1),
        ((CLEAN, UNAUDITED), 0, 1),
        ((VULNERABLE, UNAUDITED), 1, 1),
    ],
)
def test_the_audit_verdict(dependencies, relaxed, strict):
    audit_deps = load_script("audit_deps")
    audit = audit_deps.read_report(pip_audit_report(*dependencies))

    assert audit.verdict(strict=False)[0] == relaxed
    assert audit.verdict(strict=True)[0] == strict


def test_the_audit_names_what_is_vulnerable_and_what_was_not_audited():
    audit_deps = load_script("audit_deps")
    audit = audit_deps.read_report(pip_audit_report(CLEAN, VULNERABLE, UNAUDITED))

    _, lines = audit.verdict(strict=False)

    assert lines[0] == "pip-audit: 3 pinned, 2 audited, 1 vulnerable, 1 not audited"
    assert "  VULNERABLE authlib==1.6.5: GHSA-fg6f-75jq-6523" in lines
    assert any("WARNING: 1 of 3 pins were NOT audited" in line for line in lines)
    _, strict_lines = audit.verdict(strict=True)
    assert any("FAILED: 1 of 3 pins were NOT audited" in line for line in strict_lines)


def test_a_pip_audit_that_gives_no_report_fails_the_strict_audit():
    audit_deps = load_script("audit_deps")
    audit = audit_deps.Audit(pinned=103, error="pip-audit exited 1: connection refused")

    assert audit.verdict(strict=False)[0] == 0
    status, lines = audit.verdict(strict=True)
    assert status == 1 and "connection refused" in lines[-1]


# --- Production settings path ---------------------------------------------------------


def settings_of(env: dict, *names: str) -> list[str]:
    """Settings as a fresh process computes them from `env` (development defaults)."""
    code = (
        "import django, sys; django.setup(); from django.conf import settings as s; "
        "from portal.celery import app; "
        f"print('\\n'.join(str(eval(n, {{'s': s, 'app': app}})) for n in {list(names)!r}))"
    )
    base = {"PORTAL_ENV_FILE": "", "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "portal.settings"}
    result = run(sys.executable, "-c", code, env={**base, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.split("\n")[: len(names)]


def test_the_production_path_takes_postgres_and_redis_and_keeps_runs_apart():
    """What `make verify` sets, as a fresh process reads it: the test database and the
    queue are named after the run, so concurrent runs on one server never meet."""
    env = {
        "DATABASE_URL": "postgres://portal:pw@127.0.0.1:5432/portal",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
        "CELERY_RESULT_BACKEND": "redis://127.0.0.1:6379/15",
        "CELERY_TASK_DEFAULT_QUEUE": "portal-test-{run}",
        "PORTAL_RUN_ID": "4242",
    }

    assert settings_of(
        env,
        "s.DATABASES['default']['ENGINE']",
        "s.DATABASES['default']['TEST']['NAME']",
        "app.conf.broker_url",
        "app.conf.result_backend",
        "app.conf.task_default_queue",
    ) == [
        "django.db.backends.postgresql",
        "test_portal_4242",
        "redis://127.0.0.1:6379/14",
        "redis://127.0.0.1:6379/15",
        "portal-test-4242",
    ]


def test_this_run_has_its_own_queue_and_broker_folders():
    run_id = os.environ["PORTAL_RUN_ID"]

    queue = f"portal-test-{run_id}"
    assert queue == settings.CELERY_TASK_DEFAULT_QUEUE == celery_app.conf.task_default_queue
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        folders = celery_app.conf.broker_transport_options
        assert folders["control_folder"] == str(settings.CELERY_BROKER_FILESYSTEM_DIR / "control")


# --- The figures of `make verify` -----------------------------------------------------


def test_junit_figures_count_a_real_report_and_fail_when_a_test_failed(tmp_path):
    suite = tmp_path / "sample"
    suite.mkdir()
    (suite / "test_sample.py").write_text(
        "import pytest\n\n"
        "def test_ok():\n    pass\n\n"
        "def test_bad():\n    assert False\n\n"
        "@pytest.mark.skip\ndef test_skipped():\n    pass\n\n"
        "class TestGroup:\n    @pytest.mark.parametrize('n', [1, 2])\n"
        "    def test_each(self, n):\n        pass\n"
    )
    report = tmp_path / "report.xml"
    bare = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTEST_ADDOPTS": ""}
    pytest_args = ["-q", "-p", "no:cacheprovider", f"--rootdir={suite}", f"--junitxml={report}"]
    run(sys.executable, "-m", "pytest", *pytest_args, "test_sample.py", env=bare, cwd=suite)
    only = tmp_path / "only.txt"
    only.write_text("test_sample.py::TestGroup::test_each[1]\ntest_sample.py::test_ok\n")
    figures = [sys.executable, "scripts/junit_figures.py"]

    whole = run(*figures, "suite", str(report))
    part = run(*figures, "part", str(report), "--only", str(only))
    only.write_text("test_sample.py::test_ok\ntest_sample.py::test_not_there\n")
    missing = run(*figures, "part", str(report), "--only", str(only))

    assert whole.returncode == 1
    assert whole.stdout.startswith("suite: 5 tests, 3 passed, 1 failed, 0 errors, 1 skipped")
    assert part.returncode == 0
    assert part.stdout.startswith("part: 2 tests, 2 passed, 0 failed, 0 errors, 0 skipped")
    assert missing.returncode == 1 and "1 expected but not run" in missing.stdout
