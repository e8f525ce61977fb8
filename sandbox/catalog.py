"""What JD Cloud knows before any brand acts: the tag catalog, SMS templates, WeChat
templates and news material. Pure data; the mutable state lives in `state.py`.

Tag catalog (`/tag/list/v2`, spec "获取标签列表"):

- `table_cd` is the group ("索引") a condition's second-level bool names; every tag of
  that bool must belong to it (spec "请求参数condition参数详解").
- `tag_type` "1" = public domain (公域), "0" = private domain (私域). A crowd whose
  condition uses any private tag must have `package_type` 2, otherwise 1. Group 011 (the
  user's behaviour in the brand's shop) is private: the spec's own create example uses
  TAG_513 / TAG_501 with `package_type` 2.
- `enums` is a JSON array of display values, `[]` for free-value tags (shop id, counts,
  SKU or category ids).
- Enum convention: a condition names an enum value either by its display value or by the
  code `<TAG>_<NN>`, NN the 1-based index on two digits: TAG_001_02 is the second enum of
  TAG_001 ("35岁~45岁"). The spec's examples use the codes (TAG_020_01, TAG_021_05, ...).
- `window` (not sent) is the time window of a shop-behaviour tag. Spec: tags of different
  time windows of one group cannot share a second-level bool (search words excepted).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sandbox.clock import format_datetime


def _tag(tag, instruction, table_cd, tag_type, enums=(), window=None) -> dict:
    return {
        "tag": tag,
        "instruction": instruction,
        "table_cd": table_cd,
        "tag_type": tag_type,
        "enums": list(enums),
        "window": window,
    }


AGE_ENUMS = ("15岁~25岁", "35岁~45岁", "45岁~55岁", "55岁以上")  # the spec's example
AGE_BAND_ENUMS = ("15岁及以下", "16-25岁", "26-35岁", "36-45岁", "46-55岁", "56岁及以上")
LEVELS = ("L1-1", "L1-2", "L1-3", "L1-4", "L1-5")

TAGS: list[dict] = [
    # 001 用户基础属性 (public)
    _tag("TAG_001", "用户年龄", "001", "1", AGE_ENUMS),
    _tag("TAG_002", "用户性别", "001", "1", ("男", "女", "未知")),
    _tag("TAG_003", "学历", "001", "1", ("初中及以下", "高中", "大专", "本科", "研究生及以上")),
    _tag("TAG_004", "职业", "001", "1", ("白领", "学生", "医务人员", "教师", "公务员", "其他")),
    _tag("TAG_005", "居住城市等级", "001", "1", ("一线", "二线", "三线", "四线", "五线及以下")),
    _tag("TAG_006", "购买力", "001", "1", ("低", "中", "中高", "高", "极高")),
    _tag("TAG_007", "是否有车", "001", "1", ("是", "否")),
    _tag("TAG_008", "是否有小孩", "001", "1", ("是", "否")),
    _tag("TAG_020", "婚姻状况", "001", "1", ("已婚", "未婚", "未知")),
    _tag("TAG_021", "年龄段", "001", "1", AGE_BAND_ENUMS),
    _tag("TAG_025", "促销敏感度类型", "001", "1", LEVELS),
    _tag("TAG_026", "评论敏感度", "001", "1", ("不敏感", "轻度敏感", "中度敏感", "高度敏感")),
    _tag("TAG_028", "用户大促偏好", "001", "1", ("不敏感", "轻度敏感", "中度敏感", "高度敏感")),
    _tag("TAG_030", "京东会员等级", "001", "1", ("注册会员", "铜牌", "银牌", "金牌", "钻石")),
    _tag("TAG_031", "是否PLUS会员", "001", "1", ("是", "否")),
    # 002 用户价值 (public)
    _tag("TAG_201", "用户价值等级", "002", "1", ("低价值", "中价值", "高价值", "超高价值")),
    _tag(
        "TAG_202",
        "近一年消费金额",
        "002",
        "1",
        ("0-500元", "500-2000元", "2000-5000元", "5000元以上"),
    ),
    _tag("TAG_203", "近30天活跃度", "002", "1", ("不活跃", "低活跃", "中活跃", "高活跃")),
    # 003 店铺会员与交易 (private)
    _tag("TAG_101", "店铺会员", "003", "0", ("是", "否")),
    _tag("TAG_102", "店铺会员等级", "003", "0", ("普通会员", "银卡会员", "金卡会员", "黑卡会员")),
    _tag("TAG_309", "店铺ID", "003", "0"),
    _tag("TAG_310", "购买过的商品SKU", "003", "0"),
    _tag("TAG_311", "店铺首购距今天数", "003", "0"),
    _tag("TAG_316", "店铺会员积分", "003", "0"),
    _tag("TAG_321", "店铺累计购买次数", "003", "0"),
    _tag("TAG_322", "店铺累计消费金额", "003", "0"),
    # 008 品类与品牌偏好 (public)
    _tag(
        "TAG_801",
        "偏好一级品类",
        "008",
        "1",
        ("家用电器", "手机通讯", "电脑办公", "美妆护肤", "食品饮料"),
    ),
    _tag(
        "TAG_802",
        "偏好二级品类",
        "008",
        "1",
        ("大家电", "厨卫大电", "个护健康", "面部护肤", "休闲食品"),
    ),
    _tag("TAG_805", "偏好三级品类ID", "008", "1"),
    _tag("TAG_806", "偏好品牌ID", "008", "1"),
    # 011 店铺行为 (private), one time window per second-level bool
    _tag("TAG_501", "店铺ID", "011", "0"),
    _tag("TAG_502", "店铺搜索词", "011", "0"),
    _tag("TAG_503", "用户对店铺三日浏览量", "011", "0", window="3d"),
    _tag("TAG_504", "用户对店铺七日浏览量", "011", "0", window="7d"),
    _tag("TAG_505", "用户对店铺十五日浏览量", "011", "0", window="15d"),
    _tag("TAG_506", "用户对店铺三十日浏览量", "011", "0", window="30d"),
    _tag("TAG_507", "用户对店铺三日加购量", "011", "0", window="3d"),
    _tag("TAG_508", "用户对店铺七日加购量", "011", "0", window="7d"),
    _tag("TAG_509", "用户对店铺十五日加购量", "011", "0", window="15d"),
    _tag("TAG_510", "用户对店铺三十日加购量", "011", "0", window="30d"),
    _tag("TAG_511", "用户对店铺一日浏览量", "011", "0", window="1d"),
    _tag("TAG_512", "用户对店铺一日加购量", "011", "0", window="1d"),
    _tag("TAG_513", "用户对店铺一日成交量", "011", "0", window="1d"),
    _tag("TAG_514", "用户对店铺三日成交量", "011", "0", window="3d"),
    _tag("TAG_515", "用户对店铺七日成交量", "011", "0", window="7d"),
    _tag("TAG_516", "用户对店铺十五日成交量", "011", "0", window="15d"),
    _tag("TAG_517", "用户对店铺三十日成交量", "011", "0", window="30d"),
    # 012 全站购买行为 (public)
    _tag("TAG_551", "近30天购买次数", "012", "1"),
    _tag("TAG_552", "近90天购买品类数", "012", "1"),
    _tag("TAG_553", "最近一次购买距今天数", "012", "1"),
]
TAGS_BY_NAME: dict[str, dict] = {tag["tag"]: tag for tag in TAGS}


def public_tag(tag: dict) -> dict:
    return {key: value for key, value in tag.items() if key != "window"}


DYSON_CONTENT = "亲爱的{nick},现诚邀您参加新品发布{time},请点击{url}参加此活动,回复TDQR退订"
LONG_PUBLIC = (
    "【{shop}】年中狂欢节火热进行中!{nick}您好,您关注的{product}今日直降{discount}元,"
    "叠加店铺满299减50优惠券与PLUS会员专享95折,更有前100名下单赠精美礼品一份,"
    "活动仅限{time}当天,数量有限先到先得,戳{url}立即抢购,回复TD退订"
)
LONG_PRIVATE = (
    "尊敬的{level}会员{nick}:感谢您一直以来对本店的支持!会员专享日{date}开启,"
    "全场正价商品{discount}折起,会员积分可抵现,另有新品试用装免费领取,"
    "到店出示本短信还可领取专属好礼一份。详情请戳{url},期待您的光临,回复TD退订"
)

# `/sms/templates` (spec "获取短信模板列表"): template_params is a JSON string array.
SMS_TEMPLATES: dict[int, list[dict]] = {
    1: [
        {
            "template_id": "4366",
            "template_name": "戴森活动模板01",
            "template_content": DYSON_CONTENT,
            "template_params": ["nick", "time", "url"],
        },
        {
            "template_id": "4367",
            "template_name": "戴森活动模板02",
            "template_content": DYSON_CONTENT,
            "template_params": ["nick", "time", "url"],
        },
        {
            "template_id": "2121",
            "template_name": "gaowp模版",
            "template_content": "gaowp::",
            "template_params": [],
        },
        {
            "template_id": "4370",
            "template_name": "店铺上新通知",
            "template_content": "{shop}上新啦!{product}限时{discount}折,戳{url}抢先看,回复TD退订",
            "template_params": ["shop", "product", "discount", "url"],
        },
        {
            "template_id": "4371",
            "template_name": "年中大促长文案",
            "template_content": LONG_PUBLIC,
            "template_params": ["shop", "nick", "product", "discount", "time", "url"],
        },
    ],
    2: [
        {
            "template_id": "4365",
            "template_name": "会员专属福利",
            "template_content": (
                "尊敬的会员{nick},您的专属福利已到账,{time}前点击{url}领取,回复TD退订"
            ),
            "template_params": ["nick", "time", "url"],
        },
        {
            "template_id": "5001",
            "template_name": "会员日邀请",
            "template_content": "{nick}您好,{date}会员日全场{discount}折,点击{url}查看,回复TD退订",
            "template_params": ["nick", "date", "discount", "url"],
        },
        {
            "template_id": "5002",
            "template_name": "积分到期提醒",
            "template_content": (
                "亲爱的{nick},您有{points}积分将于{date}到期,快来兑换好礼{url},回复TD退订"
            ),
            "template_params": ["nick", "points", "date", "url"],
        },
        {
            "template_id": "5003",
            "template_name": "新品上架(无参数)",
            "template_content": "感谢您一直以来的支持,新品已上架,欢迎回店选购,回复TD退订",
            "template_params": [],
        },
        {
            "template_id": "5004",
            "template_name": "会员日长文案",
            "template_content": LONG_PRIVATE,
            "template_params": ["level", "nick", "date", "discount", "url"],
        },
    ],
}
PUBLIC_SIGNATURE = "【京东】"  # spec "获取短信签名列表": the only public signature

# `/activity/wx/getAllTemplate` (spec "获取公众号模板消息列表").
WECHAT_TEMPLATES: list[dict] = [
    {
        "templateId": "6WZmKqoFhS8894SYGQltQzOhNKehdMd6O5R5BRSwi1g",
        "title": "订阅模板消息",
        "primaryIndustry": "",
        "deputyIndustry": "",
        "content": "",
        "example": "",
    },
    {
        "templateId": "iHxQJL1oep3kb2EVX94-T4zQeVVihfdNGXapx4tS0oU",
        "title": "活动参与成功通知",
        "primaryIndustry": "IT科技",
        "deputyIndustry": "互联网|电子商务",
        "content": "{{first.DATA}}\n活动名:{{keyword1.DATA}}\n活动时间:{{keyword2.DATA}}\n"
        "{{remark.DATA}}",
        "example": "恭喜您成功报名活动!\n活动名:七夕情人节\n活动时间:2017年8月28日\n感谢您的参与!",
    },
    {
        "templateId": "Zq1vV6o3nTq8x2Yd1f0KpLmR7sWcE4bHjU9aGiN5tOk",
        "title": "订单发货提醒",
        "primaryIndustry": "IT科技",
        "deputyIndustry": "互联网|电子商务",
        "content": "{{first.DATA}}\n订单编号:{{keyword1.DATA}}\n物流公司:{{keyword2.DATA}}\n"
        "运单号:{{keyword3.DATA}}\n{{remark.DATA}}",
        "example": "您的订单已发货\n订单编号:81234567890\n物流公司:京东物流\n"
        "运单号:JD0001\n请留意查收",
    },
    {
        "templateId": "b8Tn2QwErTy6UiOp0AsDfGhJkL3ZxCvBnM5qWeRtYu1",
        "title": "会员积分变动通知",
        "primaryIndustry": "消费品",
        "deputyIndustry": "消费品",
        "content": "{{first.DATA}}\n变动积分:{{keyword1.DATA}}\n当前积分:{{keyword2.DATA}}\n"
        "{{remark.DATA}}",
        "example": "您的积分有变动\n变动积分:+100\n当前积分:1200\n感谢您的支持",
    },
    {
        "templateId": "kP9oI8uY7tR6eW5qA4sD3fG2hJ1lZ0xCvBnMqWeRtYu",
        "title": "优惠券到账提醒",
        "primaryIndustry": "IT科技",
        "deputyIndustry": "互联网|电子商务",
        "content": "{{first.DATA}}\n优惠券:{{keyword1.DATA}}\n有效期:{{keyword2.DATA}}\n"
        "{{remark.DATA}}",
        "example": "您有一张优惠券到账\n优惠券:满199减30\n有效期:2019-08-31\n快去使用吧",
    },
]
WECHAT_TEMPLATE_IDS = {template["templateId"] for template in WECHAT_TEMPLATES}

NEWS_TITLES = (
    "京东云测试",
    "新品首发|夏日清凉季",
    "会员日福利大放送",
    "618年中盛典攻略",
    "品牌故事:匠心二十年",
    "门店焕新,邀您打卡",
    "开学季好物清单",
    "双11预售开启",
)


def _media_id(seed: str) -> str:
    """43 URL-safe characters, the shape of WeChat's permanent media ids."""
    digest = hashlib.sha512(seed.encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(alphabet[byte % 64] for byte in digest[:43])


def news_items(master_id: str, count: int, latest: datetime) -> list[dict]:
    """`/activity/wx/batchGetNews` items (spec "获取公众号图文列表"), newest first."""
    items = []
    for index in range(count):
        updated = latest - timedelta(days=index * 3, hours=index % 5)
        created = updated - timedelta(hours=25)
        media_id = _media_id(f"{master_id}/news/{index}")
        title = NEWS_TITLES[index % len(NEWS_TITLES)]
        if index >= len(NEWS_TITLES):
            title = f"{title}(第{index // len(NEWS_TITLES) + 1}期)"
        article = {
            "thumbMediaId": _media_id(f"{master_id}/thumb/{index}"),
            "thumbUrl": f"http://mmbiz.qpic.cn/mmbiz_jpg/{media_id[:20]}/0?wx_fmt=jpeg",
            "author": "jzone",
            "title": title,
            "contentSourceUrl": "" if index % 2 else "https://www.jd.com/",
            "content": f"<p>{title}</p>",
            "digest": f"{title}——点击查看详情",
            "showCoverPic": index % 3 == 0,
            "url": f"http://mp.weixin.qq.com/s?__biz=MzI3Nzg4MzEyNg==&mid={100000100 + index}"
            f"&idx=1&sn={hashlib.md5(media_id.encode(), usedforsecurity=False).hexdigest()}#rd",
            "needOpenComment": index % 4 == 1,
            "onlyFansCanComment": False,
        }
        items.append(
            {
                "mediaId": media_id,
                "updateTime": format_datetime(updated),
                "content": {
                    "createdTime": format_datetime(created),
                    "updatedTime": format_datetime(updated),
                    "articles": [article],
                },
            }
        )
    return items
