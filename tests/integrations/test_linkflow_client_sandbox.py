"""The Linkflow client against the running sandbox over real HTTP."""

import httpx
import pytest

from portal.integrations.linkflow.errors import LinkflowRejected
from portal.integrations.linkflow.factory import linkflow_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(sandbox_url, settings):
    httpx.post(
        f"{sandbox_url}/_control/reset", json={"seed": 3, "clock": "manual"}
    ).raise_for_status()
    settings.LINKFLOW_API_BASE_URL = f"{sandbox_url}/linkflow"
    return linkflow_client(app_key="sandbox-linkflow-key", app_secret="sandbox-linkflow-secret")


def test_groups_members_and_contacts(client):
    groups = client.groups(name="618")
    assert groups and groups[0]["name"] == "618潜在客户"
    group_id = groups[0]["id"]

    first = client.group_members(group_id=group_id, size=50)
    second = client.group_members(group_id=group_id, member_id=first[-1]["memberId"], size=50)
    ids = [m["contact"]["id"] for m in first + second]
    assert len(ids) == 100 and len(set(ids)) == 100

    details = client.contacts_bulk(ids=ids[:10], need_open_id=True)
    assert {c["id"] for c in details} == set(ids[:10])
    page = client.contacts(page=0, size=20)
    after = client.contacts_cursor(last_max_id=page[-1]["id"], size=5)
    assert after[0]["id"] > page[-1]["id"]


def test_group_lifecycle_and_linkflow_errors(client):
    created = client.group_create(name="门户测试组")
    client.group_rename(group_id=created["id"], name="门户测试组2")
    members = client.group_members(group_id=created["id"])
    assert members == []
    with pytest.raises(LinkflowRejected) as raised:
        client.group_create(name="门户测试组2")
    assert raised.value.code == "B00001"
    client.group_delete(group_id=created["id"])
    with pytest.raises(LinkflowRejected) as missing:
        client.group_delete(group_id=created["id"])
    assert (missing.value.code, missing.value.http_status) == ("B00008", 404)


def test_wrong_app_secret_is_refused(sandbox_url, settings):
    httpx.post(f"{sandbox_url}/_control/reset", json={"seed": 3}).raise_for_status()
    settings.LINKFLOW_API_BASE_URL = f"{sandbox_url}/linkflow"
    with pytest.raises(LinkflowRejected) as raised:
        linkflow_client(app_key="sandbox-linkflow-key-x", app_secret="nope").groups()
    assert raised.value.http_status == 401
