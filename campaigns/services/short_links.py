"""Short links for URLs in SMS (spec: 长链接转换成短链接)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.utils.translation import gettext as _

from brands.models import Brand
from campaigns.models import ShortLink
from crowds.conditions import Violation
from portal.integrations.jdcloud.factory import jdcloud_client


def short_link_problems(url: str, path: str = "url") -> list[Violation]:
    """The spec's rules: `utm_source` and `utm_campaign` in the query, `utm_campaign`
    with two underscores (包ID_店铺ID_SKU), and "/" before "?" when the path is empty."""
    problems = []
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return [Violation(path, _("必须是 http 或 https 的完整链接"))]
    query = parse_qs(parts.query, keep_blank_values=True)
    for name in ("utm_source", "utm_campaign"):
        if not (query.get(name) or [""])[0].strip():
            problems.append(Violation(path, _("查询参数缺少 %(name)s") % {"name": name}))
    campaign = (query.get("utm_campaign") or [""])[0]
    if campaign and campaign.count("_") < 2:
        problems.append(Violation(path, _("utm_campaign 必须包含 2 个下划线(包ID_店铺ID_SKU)")))
    if parts.path == "" and parts.query:
        problems.append(Violation(path, _('域名后直接带参数时,"?" 之前必须加 "/"')))
    return problems


class ShortLinkRefused(Exception):
    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.message for v in violations))
        self.violations = violations


def short_link_create(*, brand: Brand, url: str) -> ShortLink:
    """The stored short link of `url`, made at JD Cloud the first time."""
    url = url.strip()
    problems = short_link_problems(url)
    if problems:
        raise ShortLinkRefused(problems)
    existing = ShortLink.objects.filter(long_url=url).first()
    if existing is not None:
        return existing
    short = jdcloud_client(brand_id=brand.pk).shorturl_create(url=url)
    link, _created = ShortLink.objects.get_or_create(
        brand=brand, long_url=url, defaults={"short_url": short}
    )
    return link
