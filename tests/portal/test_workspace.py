"""The brand workspace shell: login, navigation, language, unavailable brands."""

import re
from datetime import timedelta

import polib
import pytest
from django.utils import timezone

from brands.models import Brand
from tests.processes import ROOT

NAV_ZH = ["人群", "营销活动", "报表", "设置"]
NAV_EN = ["Crowds", "Campaigns", "Reports", "Settings"]


@pytest.mark.django_db
def test_workspace_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_workspace_shell_is_in_chinese_by_default(brand_client, brand):
    page = brand_client.get("/").content.decode()

    assert '<html lang="zh-hans">' in page
    for label in NAV_ZH:
        assert f">{label}</a>" in page
    assert f"欢迎,{brand.name}" in page


def test_language_switch_turns_the_shell_into_english(brand_client):
    response = brand_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302

    page = brand_client.get("/").content.decode()

    assert '<html lang="en">' in page
    for label in NAV_EN:
        assert f">{label}</a>" in page


@pytest.mark.parametrize("path", ["/crowds/", "/campaigns/", "/reports/", "/settings/"])
def test_every_section_of_the_navigation_answers(brand_client, path):
    assert brand_client.get(path).status_code == 200


def test_a_user_without_a_brand_is_told_why(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("lonely", password="x"))
    response = client.get("/")
    assert response.status_code == 403
    assert "您的账号尚未关联品牌商。" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": Brand.Status.FROZEN}, "已被京东云冻结"),
        ({"expire_time": timezone.now() - timedelta(days=1)}, "到期"),
    ],
)
def test_a_frozen_or_expired_brand_cannot_enter(
    client, make_brand, make_brand_user, fields, reason
):
    client.force_login(make_brand_user(make_brand(**fields)).user)
    response = client.get("/crowds/")
    assert response.status_code == 403
    assert reason in response.content.decode()


def test_every_message_has_a_simplified_chinese_translation():
    catalog = polib.pofile(str(ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    assert len(catalog) > 50
    untranslated = [entry.msgid for entry in catalog.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalog.fuzzy_entries()]
    assert untranslated == [] and fuzzy == []
    assert (ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo").exists()


def test_every_message_written_in_chinese_has_an_english_translation():
    """Service messages keep the spec's Chinese wording as their msgid: English needs them."""
    catalog = polib.pofile(str(ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    chinese = re.compile(r"[\u4e00-\u9fff]")
    written_in_chinese = [e for e in catalog if chinese.search(e.msgid) and not e.obsolete]
    assert len(written_in_chinese) > 100
    untranslated = [
        e.msgid
        for e in written_in_chinese
        if not e.msgstr or (chinese.search(e.msgstr) and "【京东】" not in e.msgid)
    ]
    assert untranslated == []


def test_a_service_message_reads_in_the_users_language():
    from django.utils import translation

    from crowds.conditions import TagCatalog, validate_condition

    with translation.override("en"):
        english = [v.message for v in validate_condition({"bool": {}}, TagCatalog([]))]
    with translation.override("zh-hans"):
        chinese = [v.message for v in validate_condition({"bool": {}}, TagCatalog([]))]
    assert english and not any(re.search(r"[\u4e00-\u9fff]", m) for m in english)
    assert chinese and all(re.search(r"[\u4e00-\u9fff]", m) for m in chinese)


def test_whitenoise_serves_the_hashed_stylesheet(brand_client):
    # `make test` runs collectstatic first, as a deployment would.
    page = brand_client.get("/").content.decode()
    href = page.split('rel="stylesheet" href="')[1].split('"')[0]
    assert href.startswith("/static/portal/portal.") and href != "/static/portal/portal.css"

    response = brand_client.get(href)

    assert response.status_code == 200
    assert b".topbar" in b"".join(response.streaming_content)
