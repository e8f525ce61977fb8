"""Settings from the environment, and a production configuration that passes --deploy."""

import os
import subprocess
import sys

from tests.processes import ROOT

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "p7#Kd2@xV!q9Lm4$Zr8&Tw1^Yb6*Nc3(Hf5)Gj0-Sa+Ue=Io~Pk;Ql:Rx<Vy>Wz",
    "ALLOWED_HOSTS": "portal.example.com",
    "DATABASE_URL": "sqlite:///var/test-deploy.sqlite3",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "JDCLOUD_API_BASE_URL": "https://jdcloud-api.example.com",
    "JDCLOUD_ACCESS_KEY": "AKPRODUCTIONEXAMPLE",
    "JDCLOUD_SECRET_KEY": "SKPRODUCTIONEXAMPLE",
    "FIELD_ENCRYPTION_SALT": "production-example-salt",
    "JDCLOUD_ISV_KEY": "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
    "JDCLOUD_PARTNER_ID": "partner-1",
    "JDCLOUD_OAUTH_CLIENT_ID": "client-1",
    "JDCLOUD_OAUTH_CLIENT_SECRET": "oauth-secret",
    "LINKFLOW_API_BASE_URL": "https://api.linkflowtech.com",
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    """`manage.py` in a clean environment: only `env`, no .env file, no test settings."""
    base = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "PORTAL_ENV_FILE": "",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_like_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


def test_production_refuses_to_start_without_a_secret():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "JDCLOUD_SECRET_KEY"}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "JDCLOUD_SECRET_KEY" in result.stderr


def test_settings_come_from_the_environment(settings):
    # pytest-env sets these for the suite (pyproject.toml), standing in for a real deployment.
    assert settings.JDCLOUD_ACCESS_KEY == "test-access-key"
    assert settings.JDCLOUD_ISV_KEY == "TestIsvKey0123456789abcdefABCDEF"
    assert settings.LANGUAGE_CODE == "zh-hans"
    # filesystem:// unless the run names a broker (`make verify` runs the suite on Redis).
    assert os.environ["CELERY_BROKER_URL"] == settings.CELERY_BROKER_URL


def test_env_example_documents_every_contract_variable():
    text = (ROOT / ".env.example").read_text()
    for name in [
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "JDCLOUD_API_BASE_URL",
        "JDCLOUD_ACCESS_KEY",
        "JDCLOUD_SECRET_KEY",
        "FIELD_ENCRYPTION_SALT",
        "JDCLOUD_ISV_KEY",
        "JDCLOUD_PARTNER_ID",
        "JDCLOUD_OAUTH_CLIENT_ID",
        "JDCLOUD_OAUTH_CLIENT_SECRET",
        "JDCLOUD_OAUTH_AUTHORIZE_URL",
        "JDCLOUD_OAUTH_TOKEN_URL",
        "JDCLOUD_OAUTH_USERINFO_URL",
        "LINKFLOW_API_BASE_URL",
        "PREVIEW_ALLOWED_HOSTS",
    ]:
        assert f"\n{name}=" in text, name
