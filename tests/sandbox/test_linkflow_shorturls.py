"""Linkflow short links: tracking and per-contact distribute links, redirects with the
utm parameters, click counts."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.linkflow.population import FIRST_CONTACT_ID
from tests.sandbox.linkflow_client import Linkflow, assert_error

LINK = {
    "url": "http://www.baidu.com/promo?id=7",
    "utm": {
        "source": "testSource",
        "campaign": "testCampgin",
        "medium": "testMedium",
        "content": "testContent",
        "term": "testTerm",
    },
}


@pytest.fixture
def lf(client) -> Linkflow:
    return Linkflow.connect(client)


def follow(client, shorturl: str):
    path = urlsplit(shorturl).path
    return client.get(path, follow_redirects=False)


def test_a_tracking_link_redirects_with_its_utm_and_counts_clicks(client, lf):
    answer = lf.ok("POST", "/open/shorturl", json=LINK)
    assert list(answer) == ["shorturl"]
    parts = urlsplit(answer["shorturl"])
    assert (parts.scheme, parts.netloc) == ("http", "testserver")
    assert parts.path.startswith("/linkflow/s/") and len(parts.path.rsplit("/", 1)[1]) == 6

    first, second = follow(client, answer["shorturl"]), follow(client, answer["shorturl"])
    assert first.status_code == second.status_code == 302
    target = urlsplit(first.headers["location"])
    assert (target.netloc, target.path) == ("www.baidu.com", "/promo")
    assert parse_qs(target.query) == {
        "id": ["7"],
        "utm_source": ["testSource"],
        "utm_campaign": ["testCampgin"],
        "utm_medium": ["testMedium"],
        "utm_content": ["testContent"],
        "utm_term": ["testTerm"],
    }
    (link,) = client.get("/_control/linkflow/shorturls").json()["shorturls"]
    assert link["clicks"] == 2 and link["contactId"] is None and link["url"] == LINK["url"]


def test_a_distribute_link_belongs_to_one_contact(client, lf):
    body = {"url": "https://shop.jd.com/", "utm.source": "jd", "utm.term": str(FIRST_CONTACT_ID)}
    answer = lf.ok("POST", "/open/shorturl/distribute", json=body)
    assert len(urlsplit(answer["shorturl"]).path.rsplit("/", 1)[1]) == 8
    location = follow(client, answer["shorturl"]).headers["location"]
    assert parse_qs(urlsplit(location).query) == {
        "utm_source": ["jd"],
        "utm_term": [str(FIRST_CONTACT_ID)],
    }
    links = client.get("/_control/linkflow/shorturls").json()["shorturls"]
    assert links[0]["contactId"] == FIRST_CONTACT_ID and links[0]["clicks"] == 1
    again = lf.ok("POST", "/open/shorturl/distribute", json=body)
    assert again != answer  # every call makes a link


def test_a_distribute_link_for_an_unknown_contact_answers_as_the_spec_example(lf):
    body = {**LINK, "utm": {**LINK["utm"], "term": "71302452690124"}}
    answer = lf.call("POST", "/open/shorturl/distribute", json=body)
    assert answer.status_code == 420
    assert answer.json() == {
        "domain": "linkflow",
        "code": "B00008",
        "message": "No [contact] found with id [71302452690124]",
    }
    not_a_number = {**LINK, "utm": {"term": "abc"}}
    assert_error(lf.call("POST", "/open/shorturl/distribute", json=not_a_number), 420, "B00008")


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/open/shorturl", {"utm": {"source": "x"}}, "B00002"),
        ("/open/shorturl", {"url": "ftp://example.com/file"}, "B00010"),
        ("/open/shorturl", {"url": "not a url"}, "B00010"),
        ("/open/shorturl", {"url": "https://x.cn", "utm": {"source": ["a"]}}, "B00010"),
        ("/open/shorturl/distribute", {"url": "https://x.cn"}, "B00002"),
        ("/open/shorturl/distribute", {"utm": {"term": str(FIRST_CONTACT_ID)}}, "B00002"),
    ],
)
def test_short_link_refusals(lf, path, body, code):
    assert_error(lf.call("POST", path, json=body), 500, code)


def test_an_unknown_short_code(client):
    assert client.get("/linkflow/s/nope12", follow_redirects=False).status_code == 404


def test_short_codes_follow_the_seed(client):
    def codes() -> list[str]:
        client.post("/_control/reset", json={"seed": 5, "clock": "manual"})
        lf = Linkflow.connect(client)
        return [lf.ok("POST", "/open/shorturl", json=LINK)["shorturl"] for _ in range(3)]

    assert codes() == codes()
