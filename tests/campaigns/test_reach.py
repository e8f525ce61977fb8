"""Reach with its pre-flight, and short links, against the sandbox."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Reach, ShortLink, SystemState
from campaigns.services import reach as reach_services
from campaigns.services import short_links
from portal.integrations.jdcloud.factory import jdcloud_client

pytestmark = pytest.mark.django_db

MARKETING = {"shop": "戴森官方旗舰店", "product": "吹风机", "discount": "8", "url": "3.cn/abc"}


def request(reach_type, template_id="4370", params=None, **extra):
    return reach_services.ReachRequest(
        reach_type=reach_type,
        template_id=template_id,
        template_params=MARKETING if params is None else params,
        **extra,
    )


@pytest.mark.parametrize(
    ("length", "expected"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_segments_of_chinese_text(length, expected):
    assert reach_services.segments("短" * length) == expected


def test_preflight_renders_counts_and_prices(jd_brand, package):
    check = reach_services.reach_preflight(
        brand=jd_brand, instance=package, request=request("SMSPUBLIC")
    )

    assert check.ok, check.blocking
    assert check.text == "【京东】戴森官方旗舰店上新啦!吹风机限时8折,戳3.cn/abc抢先看,回复TD退订"
    assert check.segments == 1
    assert check.cost == package.package_size
    assert check.balance == 65282 and check.balance_domain == "public"


def test_a_long_text_costs_more_segments(jd_brand, package):
    params = {**MARKETING, "product": "全新一代无叶风扇与空气净化器二合一旗舰款" * 2}
    check = reach_services.reach_preflight(
        brand=jd_brand, instance=package, request=request("SMSPUBLIC", params=params)
    )
    assert check.length > 70 and check.segments == reach_services.segments(check.text) >= 2
    assert check.cost == package.package_size * check.segments


@pytest.mark.parametrize(
    ("reach", "path"),
    [
        (request("SMSPUBLIC", params={**MARKETING, "url": ""}), "params.template_params.url"),
        (request("SMSPUBLIC", params={**MARKETING, "extra": "x"}), "params.template_params.extra"),
        (
            request(
                "SMSPRIVATE",
                template_id="5001",
                params={"nick": "a", "date": "b", "discount": "c", "url": "d"},
            ),
            "params.signature_id",
        ),
        (request("SMSPUBLIC", signature_id="13e"), "params.signature_id"),
        (request("COUPONPUBLIC"), "params.batch_id"),
        (request("SMSPUBLIC", batch_id="b1"), "params.batch_id"),
        (request("SMSPUBLIC", template_id="5001"), "params.template_id"),
        (request("SMSPUBLIC", template_id="2121", params={}), "params.template_id"),
        (request("SMSPUBLIC", send_time=timezone.now() - timedelta(minutes=1)), "params.send_time"),
    ],
    ids=[
        "placeholder-missing",
        "placeholder-unknown",
        "private-needs-signature",
        "public-has-no-signature",
        "coupon-needs-batch",
        "sms-has-no-batch",
        "private-template-for-public",
        "no-unsubscribe-suffix",
        "send-time-in-the-past",
    ],
)
def test_preflight_blocks_with_the_field_named(jd_brand, package, reach, path):
    check = reach_services.reach_preflight(brand=jd_brand, instance=package, request=reach)
    assert not check.ok
    assert path in [v.path for v in check.blocking]


def test_insufficient_balance_refuses_and_sends_nothing(jd_brand, package, control):
    control.post(
        "/brands",
        json={
            "master_id": jd_brand.master_id,
            "name": "测试品牌商",
            "pins": ["demo_brand_pin", "jiangkun"],
            "public_balance": 10,
            "private_balance": 10,
        },
    ).raise_for_status()
    control.delete("/requests")

    with pytest.raises(reach_services.ReachRefused) as refused:
        reach_services.reach_send(brand=jd_brand, instance=package, request=request("SMSPUBLIC"))

    assert [v.path for v in refused.value.preflight.blocking] == ["balance"]
    assert not Reach.objects.exists()
    assert (
        control.get("/requests", params={"path": "/crowd/instance/reach"}).json()["requests"] == []
    )


def test_all_four_reach_types_are_sent_with_their_parameters(jd_brand, package):
    client = jdcloud_client()
    signature = client.sms_signature(master_id=jd_brand.master_id)[0].signature_id
    parts = client.crowd_instance_split(
        package_id=package.package_id, parts=[(f"p{i}", 0.1) for i in range(4)], split_type="0"
    )
    from crowds.models import CrowdInstance, InstanceOrigin

    private_params = {"nick": "会员", "date": "周五", "discount": "7", "url": "3.cn/x"}
    cases = [
        request("SMSPUBLIC"),
        request("SMSPRIVATE", template_id="5001", params=private_params, signature_id=signature),
        request("COUPONPUBLIC", batch_id="coupon-1", send_time=timezone.now() + timedelta(days=1)),
        request(
            "COUPONPRIVATE",
            template_id="5001",
            params=private_params,
            signature_id=signature,
            batch_id="c2",
        ),
    ]
    for part, case in zip(parts, cases, strict=True):
        instance = CrowdInstance.objects.create(
            brand=jd_brand,
            package_id=part.package_id,
            origin=InstanceOrigin.SPLIT,
            status="2",
            package_size=part.package_size,
            name=part.package_name,
        )
        reach = reach_services.reach_send(brand=jd_brand, instance=instance, request=case)
        assert reach.status == Reach.Status.SENT, reach.jd_msg
        assert reach.jd_code == "0" and reach.cost == part.package_size * reach.segments
    assert Reach.objects.filter(signature_name__startswith="【").count() == 4
    balance = client.sms_balance(master_id=jd_brand.master_id)
    assert balance.public_balance < 65282 and balance.private_balance < 97097


def test_a_jd_refusal_is_kept_on_the_reach(jd_brand, package, control):
    control.post(
        "/faults",
        json={"path": "/crowd/instance/reach", "kind": "code", "code": "500", "msg": "系统繁忙"},
    )

    reach = reach_services.reach_send(
        brand=jd_brand, instance=package, request=request("SMSPUBLIC")
    )

    assert reach.status == Reach.Status.FAILED
    assert (reach.jd_code, reach.jd_msg) == ("500", "系统繁忙")


def test_nothing_is_sent_while_jd_is_down(jd_brand, package):
    SystemState.objects.create(pk=1, up=False, reason="系统升级公告")
    with pytest.raises(reach_services.ReachRefused, match="系统升级公告"):
        reach_services.reach_send(brand=jd_brand, instance=package, request=request("SMSPUBLIC"))
    assert not Reach.objects.exists()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://www.jd.com/?utm_source=isv&utm_campaign=p_s_k", None),
        ("https://www.jd.com/index.html?utm_source=isv&utm_campaign=p_s_k&a=1", None),
        ("https://www.jd.com?utm_source=isv&utm_campaign=p_s_k", '"/"'),
        ("https://www.jd.com/?utm_campaign=p_s_k", "utm_source"),
        ("https://www.jd.com/?utm_source=isv", "utm_campaign"),
        ("https://www.jd.com/?utm_source=isv&utm_campaign=p_s", "下划线"),
        ("ftp://www.jd.com/?utm_source=isv&utm_campaign=p_s_k", "http"),
    ],
)
def test_short_link_rules(url, problem):
    problems = short_links.short_link_problems(url)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in v.message for v in problems)


def test_short_links_are_made_once_and_stored(jd_brand, control):
    url = "https://www.jd.com/?utm_source=isv&utm_campaign=pkg_10000087_100003"
    first = short_links.short_link_create(brand=jd_brand, url=url)
    second = short_links.short_link_create(brand=jd_brand, url=url)

    assert first.pk == second.pk and first.short_url.startswith("3.cn/")
    assert (
        len(control.get("/requests", params={"path": "/shorturl/create"}).json()["requests"]) == 1
    )
    with pytest.raises(short_links.ShortLinkRefused):
        short_links.short_link_create(brand=jd_brand, url="https://www.jd.com?utm_source=a")
    assert ShortLink.objects.count() == 1


@pytest.fixture
def api(client, jd_brand, make_brand_user):
    client.force_login(make_brand_user(jd_brand).user)
    return client


def test_reach_api_preflight_and_send(api, package):
    body = {
        "instance": package.pk,
        "type": "SMSPUBLIC",
        "template_id": "4370",
        "template_params": MARKETING,
    }

    check = api.post("/api/v1/reaches/preflight/", body, content_type="application/json").json()
    assert check["ok"] and check["segments"] == 1

    sent = api.post("/api/v1/reaches/", body, content_type="application/json")
    assert sent.status_code == 201 and sent.json()["status"] == "sent"
    refused = api.post(
        "/api/v1/reaches/", {**body, "template_params": {}}, content_type="application/json"
    )
    assert refused.status_code == 400 and not refused.json()["preflight"]["ok"]
    assert api.get("/api/v1/reaches/").json()["count"] == 1


def test_sms_api_reads(api, jd_brand, package):
    assert api.get("/api/v1/sms/balance/").json()["public_balance"] == 65282
    reach_services.reach_send(brand=jd_brand, instance=package, request=request("SMSPUBLIC"))
    assert api.get("/api/v1/sms/templates/", {"type": 2}).json()[0]["template_params"]
    assert api.get("/api/v1/sms/signatures/").json()
    assert api.get("/api/v1/sms/recharge/", {"page_size": 2}).json()["total"] >= 1
    assert "result" in api.get("/api/v1/sms/consume/").json()
    result = api.get(f"/api/v1/sms/results/{package.pk}/").json()
    assert sum(result.values()) == package.package_size
    assert (
        api.post(
            "/api/v1/short-links/",
            {"url": "https://www.jd.com?x=1"},
            content_type="application/json",
        ).status_code
        == 400
    )


def test_another_brands_package_cannot_be_reached(api, other_brand):
    from django_scopes import scope

    from crowds.models import CrowdInstance

    with scope(brand=other_brand):
        theirs = CrowdInstance.objects.create(
            brand=other_brand, origin="init", status="2", package_id="x"
        )
    response = api.post(
        "/api/v1/reaches/preflight/",
        {"instance": theirs.pk, "type": "SMSPUBLIC", "template_id": "4370"},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "instance"
    assert api.get(f"/api/v1/sms/results/{theirs.pk}/").status_code == 404


def test_notices_and_system_status_show_as_banners(brand_client, control, settings):
    from campaigns.services import system

    system.notices_refresh()
    control.post(
        "/notices",
        json={
            "title": "系统升级公告",
            "content": "今晚升级",
            "notice_type": "SYS_UPGRADE",
            "start_time": "2099-01-01 00:00:00",
            "end_time": "2099-01-01 02:00:00",
        },
    ).raise_for_status()
    assert system.notices_refresh() >= 2
    page = brand_client.get("/").content.decode()
    assert "系统升级公告" in page

    control.post("/system", json={"status": "down"}).raise_for_status()
    state = system.system_status_check()
    assert not state.up
    assert 'class="banner banner-down"' in brand_client.get("/").content.decode()
    control.post("/system", json={"status": "up"}).raise_for_status()
    assert system.system_status_check().up
