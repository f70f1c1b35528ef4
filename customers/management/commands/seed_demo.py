"""`manage.py seed_demo`: a believable demo book for showing and load-testing the CRM.

The demo has to show what the product is for: an organisation whose scope rules bite (an
RM sees only their own book), a heavy-tailed book in which a few customers hold most of the
AUM, twelve months of balances trending up or down (the early signs of leaving), and a
contact history with reminders falling due. It must also build a 100,000-customer book
(1.2 million snapshots) in well under a minute, so rows are generated in chunks as plain
tuples and written with COPY on PostgreSQL and with `bulk_create` elsewhere (SQLite, the
default of `make run`).

Everything generated is a function of `--seed` and of today's date (the anchor of the
twelve months and of the contact history), so a demo can be rebuilt identically.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import json
import math
import random
import time
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from types import SimpleNamespace

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone
from faker import Faker

from crm_site.mfa.services import mfa_required, totp_demo_device_ensure
from customers.choices import (
    CompanySize,
    ContactChannel,
    CreditRating,
    CustomerType,
    IdType,
    IncomeBand,
    InvestmentExperience,
    LifeStage,
    Ownership,
    ProductType,
    PurchasingApproach,
    RelationshipStage,
    RelationType,
    Role,
    TechnologyLevel,
    WealthSource,
)
from customers.models import (
    CONSENT_FIELDS,
    AuditEntry,
    BalanceSnapshot,
    Branch,
    CreditLine,
    Customer,
    CustomerTeamMember,
    Holding,
    KeyContact,
    RelatedParty,
    User,
)
from customers.pinyin import name_pinyin
from customers.profile import completeness
from customers.services import audit_purge_allowed, audited_customer_writes
from interactions.choices import Channel, ReminderStatus
from interactions.models import Interaction, Notification, Reminder
from segmentation.choices import ValueTier

# --- Size and speed ----------------------------------------------------------------------

DEFAULT_CUSTOMERS = 2000
DEFAULT_SEED = 2026
CHUNK_SIZE = 5000  # customers generated and written at a time: bounds memory on big books
BATCH_SIZE = 5000  # rows per INSERT on the bulk_create path
NAME_POOL_SIZE = 2000  # Faker is slow per call; draw pools once and combine them

# --- Shape of the book -------------------------------------------------------------------

SNAPSHOT_MONTHS = 12
CURRENCY = "CNY"
CORPORATE_SHARE = 0.15
ENGLISH_NAME_SHARE = 0.08
UNASSIGNED_SHARE = 0.03  # customers waiting for an RM, still booked at a branch
LOCAL_BIRTHPLACE_SHARE = 0.65  # the rest were born elsewhere in China
TENURE_DAYS = (30, 25 * 365)  # a customer since this long before the first balance month
EMAIL_SHARE = {CustomerType.INDIVIDUAL: 0.45, CustomerType.CORPORATE: 0.7}

# Wealth is Pareto-distributed (seed 000: a fifth of customers bring most of the value).
INDIVIDUAL_MIN_AUM = 50_000.0
INDIVIDUAL_PARETO_ALPHA = 1.2
INDIVIDUAL_MAX_AUM = 800_000_000.0
CORPORATE_MIN_AUM = 200_000.0
CORPORATE_PARETO_ALPHA = 1.05
CORPORATE_MAX_AUM = 3_000_000_000.0
DORMANT_SHARE = 0.05  # individuals who keep little more than a debit card with the bank
DORMANT_MAX_AUM = 5_000.0

# Monthly AUM trend: log-growth per month, drawn per customer.
GROWING_SHARE = 0.20
FALLING_SHARE = 0.15
GROWING_DRIFT = (0.015, 0.05)
FALLING_DRIFT = (-0.07, -0.015)
STABLE_DRIFT_SIGMA = 0.005
VOLATILITY = {CustomerType.INDIVIDUAL: 0.03, CustomerType.CORPORATE: 0.08}

MORTGAGE_SHARE = 0.18
MORTGAGE_RANGE = (200_000.0, 3_000_000.0)
CORPORATE_LOAN_SHARE = 0.55
CORPORATE_LOAN_TO_AUM = (0.5, 3.0)
LOAN_AMORTISATION = 0.004  # share of the principal repaid each month
AUM_MARGIN = (0.004, 0.012)  # yearly net margin earned on AUM
LOAN_SPREAD = (0.008, 0.02)  # yearly net interest margin on loans
LOSS_MAKING_SHARE = 0.03  # customers who cost more to serve than they bring
LOSS_PER_MONTH = (50.0, 2_000.0)

# Provisional tiers by AUM rank, until the scoring run exists: (tier, cumulative share).
TIER_CUTS = (
    (ValueTier.VALUE, 0.05),
    (ValueTier.SUB_VALUE, 0.20),
    (ValueTier.POTENTIAL, 0.50),
)

# Contacts in the past year, 0 to 4, more for better tiers (seed 003: cadence by tier).
CONTACT_WEIGHTS = {
    ValueTier.VALUE: (5, 15, 30, 30, 20),
    ValueTier.SUB_VALUE: (10, 25, 30, 20, 15),
    ValueTier.POTENTIAL: (20, 30, 25, 15, 10),
    ValueTier.LOW_VALUE: (45, 30, 15, 7, 3),
}
CONTACT_HOURS = (9, 18)
CONTACT_DAYS_BACK = 365
FALLING_QUIET_DAYS = 60  # customers on the way out have not been contacted lately

REMINDERS_PER_DEMO_RM = (6, 2)  # (due in the coming days, already past due)
REMINDERS_PER_OTHER_RM = (2, 1)
REMINDER_CANDIDATES = 20  # customers per RM remembered while generating, to pick from

# --- The demo organisation ---------------------------------------------------------------

DEMO_PASSWORD = "Welcome-2026!"  # noqa: S105 - a published demo password, not a secret
# Branch heads and head office confirm sign-in with a code from an authenticator app (TOTP).
# The demo ones share this published key: add it to any authenticator app (typed in, or as
# DEMO_TOTP_URI) or get a code with `oathtool --totp -b <key>`.
DEMO_TOTP_SECRET = "MJQW42ZNMNZG2LLEMVWW6LLUN52HAIJB"  # noqa: S105 - published, not a secret
DEMO_TOTP_URI = f"otpauth://totp/Bank%20CRM:demo?secret={DEMO_TOTP_SECRET}&issuer=Bank%20CRM"


@dataclass(frozen=True)
class DemoBranch:
    code: str
    name: str
    parent: str | None
    region: str  # key of REGION_CODES / CITY_NAMES


@dataclass(frozen=True)
class DemoUser:
    username: str
    last_name: str
    first_name: str
    role: str
    branch: str
    book_share: float = 0.0  # share of the book this RM owns
    admin: bool = False


DEMO_BRANCHES = (
    DemoBranch("HO", "Head Office", None, "SH"),
    DemoBranch("SH", "Shanghai Branch", "HO", "SH"),
    DemoBranch("SH01", "Lujiazui Sub-branch", "SH", "SH"),
    DemoBranch("SH02", "Jing'an Sub-branch", "SH", "SH"),
    DemoBranch("SH03", "Xujiahui Sub-branch", "SH", "SH"),
    DemoBranch("BJ", "Beijing Branch", "HO", "BJ"),
    DemoBranch("BJ01", "Guomao Sub-branch", "BJ", "BJ"),
)
SUB_BRANCHES = ("SH01", "SH02", "SH03", "BJ01")
BRANCH_REGIONS = {spec.code: spec.region for spec in DEMO_BRANCHES}
DEMO_RMS = ("rm.wang", "rm.li")

DEMO_USERS = (
    DemoUser("rm.wang", "王", "芳", Role.RELATIONSHIP_MANAGER, "SH01", book_share=0.34),
    DemoUser("rm.li", "李", "强", Role.RELATIONSHIP_MANAGER, "SH01", book_share=0.34),
    DemoUser("head.zhang", "张", "敏", Role.BRANCH_HEAD, "SH01"),
    DemoUser("admin.chen", "陈", "静", Role.HEAD_OFFICE, "HO", admin=True),
    DemoUser("head.wu", "吴", "刚", Role.BRANCH_HEAD, "SH"),
    DemoUser("rm.zhao", "赵", "磊", Role.RELATIONSHIP_MANAGER, "SH02", book_share=0.08),
    DemoUser("rm.liu", "刘", "洋", Role.RELATIONSHIP_MANAGER, "SH02", book_share=0.07),
    DemoUser("rm.sun", "孙", "丽", Role.RELATIONSHIP_MANAGER, "SH03", book_share=0.07),
    DemoUser("rm.zhou", "周", "杰", Role.RELATIONSHIP_MANAGER, "BJ01", book_share=0.07),
    # The core-banking system's account: API tokens only (`manage.py issue_api_token`).
    DemoUser("core_banking", "系统", "核心", Role.INTEGRATION, "HO"),
)

# Administrative division codes (GB/T 2260) that open a PRC ID number or a USCC.
REGION_CODES = {
    "SH": (
        "310101",
        "310104",
        "310105",
        "310106",
        "310107",
        "310109",
        "310110",
        "310112",
        "310113",
        "310115",
    ),
    "BJ": ("110101", "110102", "110105", "110106", "110108"),
}
ELSEWHERE_REGION_CODES = (
    "120101",
    "210102",
    "320102",
    "320505",
    "320583",
    "330102",
    "330106",
    "330203",
    "340104",
    "350102",
    "370102",
    "410105",
    "420102",
    "430102",
    "440103",
    "440304",
    "440305",
    "500103",
    "510104",
    "610113",
)
CITY_NAMES = {"SH": ("上海", "Shanghai"), "BJ": ("北京", "Beijing")}

# --- Identity numbers --------------------------------------------------------------------

PRC_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
PRC_ID_CHECK_CHARS = "10X98765432"  # ISO 7064 MOD 11-2, indexed by the weighted sum mod 11
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # GB 11714 values: A = 10 ... Z = 35
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
USCC_ENTERPRISE = "91"  # registered by market regulation (9), an enterprise (1)
ADULT_YEARS = 18
ADULT_AGE = (22, 85, 45)  # (youngest, oldest, most common) age of individual customers

# --- Contact texts -----------------------------------------------------------------------

PRODUCTS = (  # (Chinese, English): minutes in either language name the same product
    ("大额存单", "large-denomination CDs"),
    ("结构性存款", "structured deposits"),
    ("净值型理财", "NAV wealth-management products"),
    ("国债", "treasury bonds"),
    ("货币基金", "money-market funds"),
    ("年金保险", "annuity insurance"),
    ("私募基金", "private funds"),
    ("美元定期存款", "USD time deposits"),
)
MINUTES_BY_CHANNEL = {
    Channel.PHONE: (
        "电话沟通{product}到期续作事宜，客户倾向稳健型产品，约定下周面谈。",
        "Called about last month's large outflow: funds moved to another bank for a better "
        "rate. Offered {product_en}; the customer will think it over.",
        "客户来电咨询{product}，已发送产品说明书，约定周五电话跟进。",
        "Called to remind the customer that the risk assessment expires next month.",
    ),
    Channel.MESSAGE: (
        "微信发送本周市场观点，客户回复关注{product}的收益率。",
        "客户微信反映手机银行转账限额不够用，已协助调整，客户满意。",
        "Sent the {product_en} fact sheet on WeChat; the customer asked about liquidity.",
    ),
    Channel.VISIT: (
        "Visited the customer at home; discussed {product_en} and the children's education plan.",
        "上门拜访，了解家庭资产配置情况，客户对{product}有兴趣，需与家人商量后答复。",
        "Quarterly portfolio review at the customer's office: AUM broadly stable, risk "
        "appetite unchanged (balanced).",
    ),
    Channel.BRANCH_MEETING: (
        "客户来网点办理业务，介绍了{product}，客户有兴趣，需与家人商量后答复。",
        "回访上月购买的{product}，客户对收益满意，并表示愿意介绍朋友来行。",
        "Met at the branch to sign the {product_en} paperwork; risk assessment renewed.",
    ),
    Channel.EMAIL: (
        "Sent the monthly statement commentary and a note on {product_en}.",
        "邮件发送资产配置建议书（含{product}），请客户审阅。",
    ),
    Channel.LETTER: ("寄送年度对账单及客户满意度调查问卷。",),
    Channel.BANQUET: ("答谢晚宴，客户谈及明年的投资计划，对{product}表示关注。",),
    Channel.EVENT: (
        "邀请客户参加财富沙龙，客户出席，并希望进一步了解{product}。",
        "Attended the economic outlook seminar; asked for a follow-up on {product_en}.",
    ),
    Channel.GREETING_CARD: (
        "Sent birthday greetings and a card.",
        "寄送新春贺卡。",
    ),
    Channel.GIFT: ("节前送上节日礼品，客户表示感谢，提到年底资金安排较紧。",),
}
CORPORATE_MINUTES = (  # for corporates, on any channel where business is talked
    "与企业财务负责人沟通，了解明年授信需求约{amount}万元，需补充财务报表。",
    "Talked with the CFO about cash pooling; payroll of about {amount}0k CNY a month.",
    "企业新签大额订单，流动资金需求上升，建议使用流动资金贷款或票据融资。",
)
CORPORATE_MINUTES_SHARE = 0.5
BUSINESS_CHANNELS = (Channel.PHONE, Channel.VISIT, Channel.BRANCH_MEETING, Channel.EMAIL)
NEXT_STEPS = (
    "下周上门拜访，带上资产配置建议书",
    "Send the product proposal by Friday",
    "两周后电话回访",
    "Prepare an asset-allocation report for the next meeting",
    "邀请参加年末客户答谢会",
    "Check the maturity date and call a week before",
    "补充客户家庭信息与兴趣爱好",
    "",
    "",
)
REMINDER_TITLES = (
    "回访：{name} 理财到期续作",
    "Call {name} about the maturing deposit",
    "Send {name} the asset-allocation proposal",
    "{name} 生日问候",
    "邀请 {name} 参加财富沙龙",
    "Review {name}'s falling balances",
)
CHANNEL_WEIGHTS = {
    Channel.PHONE: 35,
    Channel.MESSAGE: 25,
    Channel.VISIT: 15,
    Channel.BRANCH_MEETING: 10,
    Channel.EMAIL: 5,
    Channel.EVENT: 3,
    Channel.BANQUET: 2,
    Channel.GREETING_CARD: 2,
    Channel.GIFT: 2,
    Channel.LETTER: 1,
}
CHANNEL_DURATION = {  # minutes; channels without a duration are absent
    Channel.PHONE: (3, 30),
    Channel.VISIT: (30, 120),
    Channel.BRANCH_MEETING: (20, 90),
    Channel.EVENT: (60, 180),
    Channel.BANQUET: (90, 180),
}
SAFE_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")  # never a real inbox

# --- The 360° profile (progressive profiling, seed 001) ----------------------------------

# How well the bank knows a customer: the chance that each dynamic fact has been recorded,
# drawn per customer from one of three bands (well known, half known, barely known), the
# better tiers more often well known. Unassigned customers have nobody to learn anything.
KNOWLEDGE_BANDS = ((0.8, 1.0), (0.35, 0.75), (0.0, 0.15))
KNOWLEDGE_WEIGHTS = {
    ValueTier.VALUE: (55, 35, 10),
    ValueTier.SUB_VALUE: (30, 55, 15),
    ValueTier.POTENTIAL: (15, 55, 30),
    ValueTier.LOW_VALUE: (8, 47, 45),
}
CONTACTS_TO_KNOW_CHANNEL = 3  # after 3-5 contacts the RM should know the preferred channel

# Wealth levels by financial assets (seed 001): under 1M, 1-3M, 3-10M, 10-100M, over 100M.
WEALTH_LEVEL_FLOORS = (1_000_000.0, 3_000_000.0, 10_000_000.0, 100_000_000.0)
WEALTH_SOURCE_WEIGHTS = (  # (inherited, professional, business owner, other) per level
    (5, 70, 10, 15),
    (40, 40, 15, 5),
    (20, 55, 25, 0),
    (15, 25, 60, 0),
    (15, 5, 80, 0),
)
WEALTH_SOURCES = (
    WealthSource.INHERITED,
    WealthSource.PROFESSIONAL,
    WealthSource.BUSINESS_OWNER,
    WealthSource.OTHER,
)
RISK_WEIGHTS = (  # R1..R5 per level: the very rich accept more risk (seed 001)
    (25, 35, 30, 8, 2),
    (25, 40, 25, 8, 2),
    (10, 35, 35, 15, 5),
    (5, 15, 30, 35, 15),
    (2, 8, 20, 40, 30),
)
INCOME_BANDS = (
    IncomeBand.UNDER_100K,
    IncomeBand.FROM_100K,
    IncomeBand.FROM_300K,
    IncomeBand.FROM_1M,
    IncomeBand.OVER_5M,
)
INCOME_BAND_BY_LEVEL = ((0, 2), (1, 3), (2, 3), (3, 4), (4, 4))  # (lowest, highest) index
LIFE_STAGE_BY_AGE = (  # (up to age, {stage: weight})
    (25, {LifeStage.STUDENT: 50, LifeStage.SINGLE: 50}),
    (30, {LifeStage.SINGLE: 60, LifeStage.YOUNG_FAMILY: 40}),
    (40, {LifeStage.SINGLE: 20, LifeStage.YOUNG_FAMILY: 70, LifeStage.MATURE_FAMILY: 10}),
    (50, {LifeStage.SINGLE: 5, LifeStage.YOUNG_FAMILY: 30, LifeStage.MATURE_FAMILY: 65}),
    (60, {LifeStage.MATURE_FAMILY: 45, LifeStage.EMPTY_NEST: 45, LifeStage.RETIRED: 10}),
    (65, {LifeStage.EMPTY_NEST: 40, LifeStage.RETIRED: 60}),
    (200, {LifeStage.EMPTY_NEST: 15, LifeStage.RETIRED: 85}),
)
FAMILY_TEXTS = {
    LifeStage.STUDENT: ("在读研究生，与父母同住", "大学在读，父母也是本行客户"),
    LifeStage.SINGLE: ("未婚，独居", "未婚，与父母同住", "单身，计划明年结婚并购房"),
    LifeStage.YOUNG_FAMILY: (
        "已婚，育有一子（{kid}岁）",
        "已婚，一女（{kid}岁），配偶在外企工作",
        "已婚，两个孩子，正在规划子女教育金",
        "Married, one child ({kid}) at an international school",
    ),
    LifeStage.MATURE_FAMILY: (
        "已婚，孩子读高中，计划出国留学",
        "已婚，一子在英国读大学",
        "已婚，两个孩子，长子已工作",
        "Married; the eldest studies in Canada",
    ),
    LifeStage.EMPTY_NEST: ("子女均已成家，与配偶同住", "孩子在国外定居，夫妻二人生活"),
    LifeStage.RETIRED: (
        "已退休，与配偶同住，有两个孙辈",
        "丧偶，子女在本地，每周探望",
        "退休，冬天常住海南",
    ),
}
INTERESTS = (
    "高尔夫",
    "书法",
    "茶道",
    "摄影",
    "马拉松",
    "旅游",
    "红酒",
    "钓鱼",
    "瑜伽",
    "古典音乐",
    "收藏字画",
    "烹饪",
    "网球",
    "登山",
    "围棋",
    "读书",
    "养生",
    "自驾游",
    "Golf",
    "Sailing",
)
OCCUPATIONS = {  # by wealth source: (occupation, employer kind)
    WealthSource.PROFESSIONAL: (
        ("软件工程师", "company"),
        ("医生", "hospital"),
        ("律师", "law_firm"),
        ("大学教师", "university"),
        ("会计师", "company"),
        ("公务员", "government"),
        ("企业高管", "company"),
        ("金融分析师", "company"),
        ("建筑师", "company"),
        ("中学教师", "school"),
        ("销售经理", "company"),
        ("护士", "hospital"),
    ),
    WealthSource.BUSINESS_OWNER: (
        ("企业主", "own"),
        ("公司董事长", "own"),
        ("个体工商户", "own"),
        ("合伙人", "law_firm"),
    ),
    WealthSource.INHERITED: (("自由职业", ""), ("企业高管", "company"), ("全职太太", "")),
    WealthSource.OTHER: (("自由职业", ""), ("个体工商户", "own"), ("演员", "")),
}
EMPLOYERS = {
    "hospital": ("{city}市第一人民医院", "{city}交通大学医学院附属瑞金医院", "{city}市儿童医院"),
    "university": ("{city}大学", "{city}交通大学", "{city}财经大学"),
    "school": ("{city}市实验中学", "{city}外国语学校"),
    "government": ("{city}市税务局", "{city}市{district}人民政府"),
    "law_firm": ("{city}明德律师事务所", "{city}立信会计师事务所"),
}
CONTACT_TIMES = (
    "工作日晚上 7 点后",
    "周末上午",
    "工作日午休 12:00–13:30",
    "工作日上午 10 点以后",
    "Weekday evenings after 7 pm",
    "周六下午",
)
RETIRED_CONTACT_TIMES = ("工作日上午", "下午 3 点前（午睡后）", "随时可以")
CORPORATE_CONTACT_TIMES = (
    "工作日 9:00–11:30",
    "工作日下午 2 点后，先联系财务经理",
    "周一至周五办公时间",
    "Weekday mornings; through the CFO's office",
)
CONSENT_SHARES = {  # most consent to phone and visits; fewer to SMS, WeChat and e-mail
    CustomerType.INDIVIDUAL: {
        ContactChannel.PHONE: 0.88,
        ContactChannel.VISIT: 0.8,
        ContactChannel.LETTER: 0.55,
        ContactChannel.SMS: 0.4,
        ContactChannel.WECHAT: 0.35,
        ContactChannel.EMAIL: 0.3,  # of those with an address
    },
    CustomerType.CORPORATE: {
        ContactChannel.PHONE: 0.92,
        ContactChannel.VISIT: 0.9,
        ContactChannel.LETTER: 0.7,
        ContactChannel.SMS: 0.3,
        ContactChannel.WECHAT: 0.3,
        ContactChannel.EMAIL: 0.6,
    },
}
CHANNEL_PREFERENCE = {  # weights among the channels the customer consented to
    CustomerType.INDIVIDUAL: {
        ContactChannel.PHONE: 35,
        ContactChannel.WECHAT: 30,
        ContactChannel.VISIT: 15,
        ContactChannel.SMS: 8,
        ContactChannel.EMAIL: 8,
        ContactChannel.LETTER: 4,
    },
    CustomerType.CORPORATE: {
        ContactChannel.PHONE: 35,
        ContactChannel.VISIT: 30,
        ContactChannel.EMAIL: 25,
        ContactChannel.WECHAT: 10,
    },
}
DISTRICTS = {  # district: roads
    "SH": {
        "浦东新区": ("世纪大道", "张杨路", "陆家嘴环路", "碧云路", "锦绣路"),
        "静安区": ("南京西路", "延安中路", "愚园路", "常德路"),
        "徐汇区": ("衡山路", "漕溪北路", "肇嘉浜路", "天钥桥路"),
        "长宁区": ("仙霞路", "虹桥路", "娄山关路"),
        "黄浦区": ("淮海中路", "西藏中路", "河南南路"),
        "闵行区": ("七莘路", "虹井路", "莘庄路"),
    },
    "BJ": {
        "朝阳区": ("建国路", "东三环中路", "朝阳北路", "望京街"),
        "海淀区": ("中关村大街", "学院路", "西三环北路"),
        "东城区": ("东直门内大街", "朝阳门北大街"),
        "西城区": ("金融大街", "西单北大街", "月坛南街"),
    },
}

# Corporates: (industry, technology level weights (low, medium, high), outlooks).
INDUSTRIES = (
    (
        "汽车零部件制造",
        (20, 60, 20),
        (
            "新能源汽车渗透率提升带动订单增长，但整车厂压价，毛利率承压。",
            "Orders follow the EV build-out; margins squeezed by carmakers' price cuts.",
        ),
    ),
    ("电子元器件制造", (10, 40, 50), ("国产替代加速，订单饱满，需关注上游芯片供应与库存周转。",)),
    (
        "软件和信息技术服务",
        (5, 25, 70),
        (
            "政企数字化需求稳定，应收账款账期较长，现金流偏紧。",
            "Steady public-sector demand; long receivable cycles strain cash flow.",
        ),
    ),
    ("批发和零售业", (50, 40, 10), ("消费温和复苏，线上渠道分流明显，存货管理是关键。",)),
    ("建筑业", (50, 40, 10), ("基建投资托底，但回款周期拉长，需关注垫资与担保链风险。",)),
    (
        "房地产开发",
        (50, 40, 10),
        ("行业深度调整，销售回款放缓，严控新增授信，关注现金流与担保风险。",),
    ),
    ("医药制造", (5, 35, 60), ("集采压缩仿制药利润，创新药研发投入加大，前景分化。",)),
    (
        "交通运输和仓储物流",
        (30, 55, 15),
        ("跨境电商带动仓储需求，运价波动较大，油价是主要成本风险。",),
    ),
    ("餐饮和住宿", (60, 35, 5), ("客流恢复，但客单价下降，门店扩张需谨慎评估。",)),
    ("纺织服装", (55, 40, 5), ("出口订单受关税影响，正向东南亚转移产能，利润率偏低。",)),
    (
        "进出口贸易",
        (35, 55, 10),
        (
            "汇率波动加大，建议使用远期结售汇锁定汇率风险。",
            "FX volatility is the main risk; suggest forwards to hedge.",
        ),
    ),
    ("新能源（光伏）", (5, 35, 60), ("产能过剩导致价格战，行业整合期，授信需审慎。",)),
    ("食品加工", (35, 55, 10), ("需求稳定，原材料价格波动影响利润，现金流良好。",)),
    ("专业咨询服务", (20, 50, 30), ("轻资产运营，客户集中度高，收入随宏观景气波动。",)),
)
TECHNOLOGY_LEVELS = (TechnologyLevel.LOW, TechnologyLevel.MEDIUM, TechnologyLevel.HIGH)
COMPANY_SIZE_FLOORS = (  # by what the company does with the bank: deposits and loans
    (20_000_000.0, CompanySize.LARGE),
    (5_000_000.0, CompanySize.MEDIUM),
    (500_000.0, CompanySize.SMALL),
    (0.0, CompanySize.MICRO),
)
OWNERSHIP_WEIGHTS = {
    Ownership.PRIVATE: 60,
    Ownership.STATE: 10,
    Ownership.FOREIGN: 8,
    Ownership.JOINT: 7,
    Ownership.COLLECTIVE: 3,
    Ownership.LISTED: 12,  # medium and large companies only
}
PURCHASING_WEIGHTS = {  # (centralised, decentralised, owner decides) by company size
    CompanySize.MICRO: (5, 5, 90),
    CompanySize.SMALL: (15, 10, 75),
    CompanySize.MEDIUM: (45, 25, 30),
    CompanySize.LARGE: (65, 30, 5),
}
PURCHASING_APPROACHES = (
    PurchasingApproach.CENTRALISED,
    PurchasingApproach.DECENTRALISED,
    PurchasingApproach.OWNER,
)
RELATIONSHIP_STAGE_YEARS = (2, 6)  # under 2 years initial, under 6 developing, then long-term
COLLATERALS = (
    "厂房及土地使用权抵押",
    "应收账款质押",
    "存单质押",
    "关联企业连带责任保证",
    "商铺抵押",
    "设备抵押",
    "信用（无抵押）",
)
CREDIT_RATING_WEIGHTS = {
    CreditRating.AAA: 5,
    CreditRating.AA: 20,
    CreditRating.A: 30,
    CreditRating.BBB: 28,
    CreditRating.BB: 12,
    CreditRating.B: 5,
}
OVERDUE_SHARE = 0.04  # borrowers who have been late at some point
OVERDUE_DAYS = (1, 90)

# --- Holdings ----------------------------------------------------------------------------

ACCOUNT_PREFIX = {  # six digits; with twelve more and a Luhn check digit, nineteen
    ProductType.CURRENT_DEPOSIT: "623058",  # the debit card number is the account
    ProductType.CREDIT_CARD: "625887",
}
ACCOUNT_PREFIX_OTHER = "310001"
ACCOUNT_BODY_SPACE = 10**12
ACCOUNT_STRIDE = 389_916_673_207  # coprime with 10**12: n -> n * stride + offset is one-to-one
MAX_HOLDINGS = 6
INDIVIDUAL_ASSET_PRODUCTS = (  # (product type, minimum AUM, chance when rich enough)
    (ProductType.TIME_DEPOSIT, 20_000.0, 0.5),
    (ProductType.WEALTH_MANAGEMENT, 300_000.0, 0.65),
    (ProductType.FUND, 200_000.0, 0.4),
    (ProductType.INSURANCE, 500_000.0, 0.35),
)
CORPORATE_ASSET_PRODUCTS = (
    (ProductType.TIME_DEPOSIT, 500_000.0, 0.45),
    (ProductType.WEALTH_MANAGEMENT, 2_000_000.0, 0.4),
)
CREDIT_CARD_SHARE = 0.4
CREDIT_CARD_SPEND = (0.0, 30_000.0)
PRODUCT_NAMES = {
    (CustomerType.INDIVIDUAL, ProductType.CURRENT_DEPOSIT): ("个人活期储蓄（借记卡）",),
    (CustomerType.INDIVIDUAL, ProductType.TIME_DEPOSIT): (
        "整存整取定期存款",
        "大额存单",
        "美元定期存款（折人民币）",
    ),
    (CustomerType.INDIVIDUAL, ProductType.WEALTH_MANAGEMENT): (
        "安鑫稳健净值型理财",
        "天天利现金管理理财",
        "结构性存款",
        "睿享一年定开理财",
    ),
    (CustomerType.INDIVIDUAL, ProductType.FUND): (
        "鑫享沪深300指数基金",
        "安盈货币市场基金",
        "稳利债券基金A",
        "科创成长混合基金",
    ),
    (CustomerType.INDIVIDUAL, ProductType.INSURANCE): (
        "福享年金保险",
        "康宁终身重疾险",
        "增额终身寿险",
    ),
    (CustomerType.INDIVIDUAL, ProductType.LOAN): ("个人住房按揭贷款",),
    (CustomerType.INDIVIDUAL, ProductType.CREDIT_CARD): ("标准信用卡", "金卡信用卡", "白金信用卡"),
    (CustomerType.CORPORATE, ProductType.CURRENT_DEPOSIT): ("单位活期存款（基本户）",),
    (CustomerType.CORPORATE, ProductType.TIME_DEPOSIT): ("单位定期存款", "单位大额存单"),
    (CustomerType.CORPORATE, ProductType.WEALTH_MANAGEMENT): ("单位结构性存款", "对公现金管理理财"),
    (CustomerType.CORPORATE, ProductType.LOAN): (
        "流动资金贷款",
        "固定资产贷款",
        "贸易融资（进口押汇）",
    ),
}
TERM_YEARS = (1, 2, 3, 5)  # time deposits
WEALTH_TERM_DAYS = (91, 182, 365)
MORTGAGE_YEARS = (20, 25, 30)
CORPORATE_LOAN_YEARS = (1, 1, 2, 3, 5)

# --- Corporate extras --------------------------------------------------------------------

KEY_CONTACT_COUNTS = {  # 1-4 contacts: weights of 1, 2, 3, 4 by company size
    CompanySize.MICRO: (60, 35, 5, 0),
    CompanySize.SMALL: (30, 45, 20, 5),
    CompanySize.MEDIUM: (10, 35, 35, 20),
    CompanySize.LARGE: (0, 20, 40, 40),
}
KEY_CONTACT_ROLES = (  # (role, decision maker), the first one first
    ("董事长", True),
    ("财务总监（CFO）", True),
    ("采购经理", False),
    ("财务经理", False),
    ("总经理", True),
    ("出纳", False),
    ("行政经理", False),
)
KEY_CONTACT_BIRTHDAY_SHARE = 0.4
KEY_CONTACT_EMAIL_SHARE = 0.5
KEY_CONTACT_NOTES = ("", "", "", "喜欢喝茶，周三下午方便见面", "生日时送花", "Prefers WeChat")
CREDIT_LINE_SHARE = {True: 0.85, False: 0.1}  # with a loan, without one: about half in all
SECOND_CREDIT_LINE_SHARE = 0.3
CREDIT_LINE_FACILITIES = ("综合授信额度", "流动资金贷款额度")
SECOND_FACILITY = "银行承兑汇票额度"
CREDIT_LINE_HEADROOM = (1.1, 1.8)  # limit as a multiple of what is drawn
CREDIT_LINE_EXPIRY_DAYS = (15, 720)
TEAM_SHARE = 0.5  # large corporates (and medium ones of the value tier) with a second RM
TEAM_RESPONSIBILITIES = ("贸易融资", "现金管理", "投行业务", "Credit co-coverage")

# --- Related parties ---------------------------------------------------------------------

HOUSEHOLD_SHARE = 0.05  # of individuals: a household member of another of the RM's customers
HOUSEHOLD_NOTES = ("配偶", "父母", "子女", "兄弟姐妹", "Spouse")
REFERRAL_SHARE = 0.03  # of customers: referred by an older customer of the same RM
GROUP_SHARE = 0.05  # of corporates: in a group with another corporate of the same city
GUARANTOR_SHARE = 0.06  # of borrowing corporates: guaranteed by a wealthy individual
GUARANTOR_MIN_AUM = 1_000_000.0
RELATION_POOL_SIZE = 200  # candidates remembered per pool (a seeded reservoir)


# =========================================================================================
# Identity numbers
# =========================================================================================


def prc_id_number(region: str, birth_date: dt.date, sequence: int) -> str:
    """An 18-digit PRC resident ID number; an odd `sequence` means a man."""
    body = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    total = sum(int(char) * weight for char, weight in zip(body, PRC_ID_WEIGHTS, strict=True))
    return body + PRC_ID_CHECK_CHARS[total % 11]


def _org_code(body: str) -> str:
    """A GB 11714 organisation code: eight characters and their check character."""
    total = sum(
        ORG_CODE_CHARS.index(char) * weight
        for char, weight in zip(body, ORG_CODE_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def unified_social_credit_code(region: str, org_body: str) -> str:
    """An 18-character GB 32100-2015 unified social credit code of an enterprise."""
    body = f"{USCC_ENTERPRISE}{region}{_org_code(org_body)}"
    total = sum(
        USCC_CHARS.index(char) * weight for char, weight in zip(body, USCC_WEIGHTS, strict=True)
    )
    return body + USCC_CHARS[(31 - total % 31) % 31]


# =========================================================================================
# Organisation
# =========================================================================================


@dataclass(frozen=True)
class Organisation:
    """The demo branches and users, and who owns which share of the book."""

    branches: dict[str, Branch]
    users: dict[str, User]

    def owners(self) -> list[tuple[User | None, Branch]]:
        """Every possible owner of a customer: each RM at their branch, then nobody."""
        rms = [(self.users[u.username], self.branches[u.branch]) for u in _demo_rms()]
        unassigned = [(None, self.branches[code]) for code in SUB_BRANCHES]
        return rms + unassigned

    def owner_weights(self) -> list[float]:
        unassigned = UNASSIGNED_SHARE / len(SUB_BRANCHES)
        return [u.book_share for u in _demo_rms()] + [unassigned] * len(SUB_BRANCHES)


def _demo_rms() -> list[DemoUser]:
    return [user for user in DEMO_USERS if user.role == Role.RELATIONSHIP_MANAGER]


def organisation_ensure(*, reset_passwords: bool) -> Organisation:
    """Create or refresh the demo branches and users; safe to run any number of times.

    A user's password is set when the user is created (or on `--reset`), so a password a
    presenter changed survives a plain re-run.
    """
    branches: dict[str, Branch] = {}
    for spec in DEMO_BRANCHES:
        branches[spec.code], _ = Branch.objects.update_or_create(
            code=spec.code,
            defaults={"name": spec.name, "parent": branches.get(spec.parent or "")},
        )
    usernames = [spec.username for spec in DEMO_USERS]
    existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    # Hashing is deliberately slow: hash once, and only when a password will be written.
    needs_hash = reset_passwords or len(existing) < len(usernames)
    password = make_password(DEMO_PASSWORD) if needs_hash else ""
    users = {
        spec.username: _demo_user_upsert(spec, branches[spec.branch], password)
        for spec in DEMO_USERS
    }
    if reset_passwords:
        User.objects.filter(username__in=usernames).update(password=password)
    demo_authenticators_ensure()
    return Organisation(branches=branches, users=users)


def demo_authenticators_ensure() -> None:
    """Demo users who must use two-step verification get the published demo authenticator
    (one they enrolled themselves is kept)."""
    key_hex = base64.b32decode(DEMO_TOTP_SECRET).hex()
    for user in User.objects.filter(username__in=[spec.username for spec in DEMO_USERS]):
        if mfa_required(user):
            totp_demo_device_ensure(user=user, key_hex=key_hex)


def _demo_user_upsert(spec: DemoUser, branch: Branch, password: str) -> User:
    profile = {
        "first_name": spec.first_name,
        "last_name": spec.last_name,
        "email": f"{spec.username}@bank.example",
        "role": spec.role,
        "branch": branch,
        "is_active": True,
        "is_staff": spec.admin,
        "is_superuser": spec.admin,
    }
    user, _ = User.objects.update_or_create(
        username=spec.username,
        defaults=profile,
        create_defaults={**profile, "password": password},
    )
    return user


# =========================================================================================
# Writing rows
# =========================================================================================


class RowWriter:
    """Writes plain tuples of field values (by attname) into a model's table."""

    def write(self, model: type[models.Model], columns: Sequence[str], rows: list[tuple]) -> None:
        raise NotImplementedError


class BulkCreateWriter(RowWriter):
    """The portable path (SQLite): model instances and `bulk_create`."""

    def write(self, model: type[models.Model], columns: Sequence[str], rows: list[tuple]) -> None:
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._base_manager.bulk_create(objects, batch_size=BATCH_SIZE)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: object) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.date):  # dates and aware datetimes
        return value.isoformat()
    return str(value)


def _copy_line(row: Sequence[object]) -> str:
    """One row in COPY text format, without the line end.

    The fast path formats the row with `str` in one go, which is what COPY expects of every
    value this command writes (dates in ISO form, booleans as True/False, NULL as \\N) as long
    as no value holds a tab, a line break or a backslash; a row that does is escaped per value.
    """
    nulls = row.count(None)
    text = "\t".join(map(str, row if not nulls else [_COPY_NULL if v is None else v for v in row]))
    if (
        text.count("\\") != nulls
        or text.count("\t") != len(row) - 1
        or "\n" in text
        or "\r" in text
    ):
        return "\t".join(map(_copy_text, row))
    return text


_COPY_NULL = "\\N"


def _copy_default_text(field: models.Field, instance: models.Model, now: dt.datetime) -> str:
    """A column the generator does not set, as COPY text of what `save()` would have written.

    One value serves the whole column, which is right for the constant defaults of this model
    but would not be for a callable default that must differ per row.
    """
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return _copy_text(now)
    value = getattr(instance, field.attname)
    if isinstance(field, models.JSONField):
        return _copy_text(json.dumps(value, cls=field.encoder))
    return _copy_text(value)


class PostgresCopyWriter(RowWriter):
    """The fast path: COPY FROM STDIN, an order of magnitude quicker than INSERT.

    COPY bypasses the model, so every column the rows leave out is written with the field's
    default, as `bulk_create` would; columns with a database default are left to the database.
    """

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def write(self, model: type[models.Model], columns: Sequence[str], rows: list[tuple]) -> None:
        db_columns, defaults = self._columns(model, columns)
        suffix = "".join("\t" + text for text in defaults) + "\n"
        buffer = io.StringIO()
        buffer.writelines(_copy_line(row) + suffix for row in rows)
        buffer.seek(0)
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY {table} ({', '.join(db_columns)}) FROM STDIN", buffer)

    def _columns(
        self, model: type[models.Model], columns: Sequence[str]
    ) -> tuple[list[str], list[str]]:
        """The quoted column list (given ones first) and the COPY text of the defaulted ones."""
        meta = model._meta
        given = [meta.get_field(name) for name in columns]
        instance = model()  # applies the Python defaults
        defaulted = [
            field
            for field in meta.concrete_fields
            if field not in given
            and not field.primary_key
            and not isinstance(getattr(instance, field.attname), DatabaseDefault)
        ]
        quote = connection.ops.quote_name
        return (
            [quote(field.column) for field in given + defaulted],
            [_copy_default_text(field, instance, self.now) for field in defaulted],
        )


def _copy_supported() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        return hasattr(cursor.cursor, "copy_expert")  # psycopg2; psycopg 3 has another API


class IdAllocator:
    """Hands out customer primary keys up front, so snapshots can point at them unwritten."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.next_free: int | None = None

    def take(self, count: int) -> list[int]:
        if connection.vendor == "postgresql":
            # Draw from the table's own sequence so later inserts by the app do not collide.
            table = self.model._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
                return [row[0] for row in cursor.fetchall()]
        if self.next_free is None:
            highest = self.model._base_manager.aggregate(highest=models.Max("pk"))["highest"]
            self.next_free = (highest or 0) + 1
        ids = list(range(self.next_free, self.next_free + count))
        self.next_free += count
        return ids


CUSTOMER_COLUMNS = (
    "id",
    "customer_number",
    "customer_type",
    "name",
    "name_pinyin",
    "id_type",
    "id_number",
    "birth_date",
    "phone",
    "email",
    "branch_id",
    "relationship_manager_id",
    "value_tier",
    "aum",
    "loan_balance",
    "contribution_12m",
    "currency",
    "customer_since",
    "last_contact_at",
    "version",
    "created_at",
    "updated_at",
)
PROFILE_COLUMNS = (  # the dynamic profile, appended to CUSTOMER_COLUMNS
    "address",
    "preferred_channel",
    "preferred_contact_time",
    "language",
    *CONSENT_FIELDS.values(),
    "occupation",
    "employer",
    "income_band",
    "life_stage",
    "family",
    "interests",
    "wealth_source",
    "risk_appetite",
    "investment_experience",
    "industry",
    "company_size",
    "location",
    "ownership",
    "technology_level",
    "purchasing_approach",
    "collateral",
    "industry_outlook",
    "relationship_stage",
    "credit_rating",
    "max_overdue_days",
    "profile_completeness",
)
HOLDING_COLUMNS = (
    "customer_id",
    "account_number",
    "product_type",
    "product_name",
    "balance",
    "currency",
    "opened_on",
    "matures_on",
)
KEY_CONTACT_COLUMNS = (
    "customer_id",
    "name",
    "role",
    "is_decision_maker",
    "phone",
    "email",
    "birthday",
    "notes",
)
CREDIT_LINE_COLUMNS = (
    "customer_id",
    "facility",
    "limit",
    "utilised",
    "currency",
    "expires_on",
    "collateral",
)
RELATED_PARTY_COLUMNS = ("customer_id", "related_customer_id", "relation_type", "note")
TEAM_COLUMNS = ("customer_id", "member_id", "responsibility")
SNAPSHOT_COLUMNS = ("customer_id", "month", "aum", "loan_balance", "contribution", "currency")
INTERACTION_COLUMNS = (
    "customer_id",
    "logged_by_id",
    "channel",
    "occurred_at",
    "duration_minutes",
    "minutes",
    "next_step",
    "created_at",
)


# =========================================================================================
# Generating the book
# =========================================================================================


@dataclass(frozen=True)
class NamePools:
    """Names drawn once from Faker and recombined, since Faker is slow per call."""

    surnames: list[str]
    given_male: list[str]
    given_female: list[str]
    en_first_male: list[str]
    en_first_female: list[str]
    en_last: list[str]
    companies_zh: list[str]
    companies_en: list[str]
    handles: list[str]

    @classmethod
    def from_faker(cls, seed: int) -> NamePools:
        zh, en = Faker("zh_CN"), Faker("en_US")
        zh.seed_instance(seed)
        en.seed_instance(seed)

        def pool(draw) -> list[str]:
            return [draw() for _ in range(NAME_POOL_SIZE)]

        return cls(
            surnames=pool(zh.last_name),  # Faker weights surnames by frequency: keep repeats
            given_male=pool(zh.first_name_male),
            given_female=pool(zh.first_name_female),
            en_first_male=pool(en.first_name_male),
            en_first_female=pool(en.first_name_female),
            en_last=pool(en.last_name),
            companies_zh=pool(zh.company),
            companies_en=[_english_company_stem(en.company()) for _ in range(NAME_POOL_SIZE)],
            handles=pool(zh.user_name),
        )


def _english_company_stem(name: str) -> str:
    for suffix in (" Inc", " LLC", " Ltd", " PLC", " Group", " and Sons"):
        name = name.removesuffix(suffix)
    return name.rstrip(",")


@dataclass
class SeedCounts:
    customers: int = 0
    snapshots: int = 0
    interactions: int = 0
    reminders: int = 0
    holdings: int = 0
    key_contacts: int = 0
    credit_lines: int = 0
    related_parties: int = 0
    team_members: int = 0


@dataclass
class _ChunkRows:
    """The rows of one chunk's customers, table by table, written after the customers."""

    snapshots: list[tuple] = dataclasses.field(default_factory=list)
    interactions: list[tuple] = dataclasses.field(default_factory=list)
    holdings: list[tuple] = dataclasses.field(default_factory=list)
    key_contacts: list[tuple] = dataclasses.field(default_factory=list)
    credit_lines: list[tuple] = dataclasses.field(default_factory=list)
    related_parties: list[tuple] = dataclasses.field(default_factory=list)
    team_members: list[tuple] = dataclasses.field(default_factory=list)


@dataclass
class _Trajectory:
    aum: list[float]
    loans: list[float]
    contribution: list[float]
    falling: bool


def _last_months(today: dt.date, count: int) -> list[dt.date]:
    """First days of the `count` complete months before `today`, oldest first."""
    months: list[dt.date] = []
    year, month = today.year, today.month
    for _ in range(count):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        months.append(dt.date(year, month, 1))
    return months[::-1]


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def _money(value: float) -> str:
    """A float amount as an exact decimal string of two places (DecimalField accepts it)."""
    return f"{value:.2f}"


class BookGenerator:
    """Builds the customers, their balances and contact history, chunk by chunk.

    Two passes over one seeded random stream: the first draws every customer's type and
    current wealth (a few numbers each) so tiers can be cut by rank over the whole book; the
    second generates and writes everything else, CHUNK_SIZE customers at a time.
    """

    def __init__(
        self, *, seed: int, count: int, org: Organisation, today: dt.date, writer: RowWriter
    ) -> None:
        self.rng = random.Random(seed)
        self.count = count
        self.org = org
        self.today = today
        self.writer = writer
        self.tz = timezone.get_default_timezone()
        self.now = timezone.now()
        self.months = _last_months(today, SNAPSHOT_MONTHS)
        self.names = NamePools.from_faker(seed)
        self.owners = org.owners()
        self.owner_cum_weights = list(accumulate(org.owner_weights()))
        self.channels = list(CHANNEL_WEIGHTS)
        self.channel_cum_weights = list(accumulate(CHANNEL_WEIGHTS.values()))
        self.contact_cum_weights = {
            tier: list(accumulate(weights)) for tier, weights in CONTACT_WEIGHTS.items()
        }
        self.used_id_numbers: set[str] = set()
        self.reminder_candidates: dict[int, list[tuple[int, str]]] = {}
        self.counts = SeedCounts()
        self.profiles = ProfileDrawer(seed, today, self.names)
        self.rms_by_branch: dict[int, list[User]] = {}
        for spec in _demo_rms():
            rm = org.users[spec.username]
            self.rms_by_branch.setdefault(org.branches[spec.branch].pk, []).append(rm)
        # Earlier customers a later one can be linked to, as seeded reservoirs per pool key.
        self.households: dict[int, list[tuple[int, str]]] = {}  # RM: (individual, address)
        self.referrers: dict[int, list[tuple[int, dt.date]]] = {}  # RM: (customer, since)
        self.groups: dict[str, list[int]] = {}  # region: corporates
        self.guarantors: dict[int, list[int]] = {}  # RM: wealthy individuals

    # --- Pass 1: who is rich --------------------------------------------------------------

    def plan(self) -> None:
        """Draw each customer's number, type and current AUM, and cut tiers by AUM rank."""
        rng = self.rng
        self.numbers = rng.sample(range(1_000_000_000, 10_000_000_000), self.count)
        self.corporate = bytearray(rng.random() < CORPORATE_SHARE for _ in range(self.count))
        self.wealth = array("d", (self._current_aum(bool(c)) for c in self.corporate))
        self.tiers = self._tiers_by_rank(self.wealth)

    def _current_aum(self, corporate: bool) -> float:
        rng = self.rng
        if corporate:
            return min(
                CORPORATE_MIN_AUM * rng.paretovariate(CORPORATE_PARETO_ALPHA), CORPORATE_MAX_AUM
            )
        if rng.random() < DORMANT_SHARE:
            return rng.uniform(0, DORMANT_MAX_AUM)
        return min(
            INDIVIDUAL_MIN_AUM * rng.paretovariate(INDIVIDUAL_PARETO_ALPHA), INDIVIDUAL_MAX_AUM
        )

    @staticmethod
    def _tiers_by_rank(wealth: Sequence[float]) -> list[str]:
        ranked = sorted(range(len(wealth)), key=wealth.__getitem__, reverse=True)
        tiers = [ValueTier.LOW_VALUE.value] * len(wealth)
        start = 0
        for tier, cumulative_share in TIER_CUTS:
            stop = round(cumulative_share * len(wealth))
            for index in ranked[start:stop]:
                tiers[index] = tier.value
            start = stop
        return tiers

    # --- Pass 2: everything else, chunk by chunk -----------------------------------------

    def generate(self) -> SeedCounts:
        self.plan()
        allocator = IdAllocator(Customer)
        for start in range(0, self.count, CHUNK_SIZE):
            stop = min(start + CHUNK_SIZE, self.count)
            self._write_chunk(range(start, stop), allocator.take(stop - start))
        self.counts.reminders = self._write_reminders()
        return self.counts

    def _write_chunk(self, indexes: range, ids: list[int]) -> None:
        customers: list[tuple] = []
        rows = _ChunkRows()
        for index, customer_id in zip(indexes, ids, strict=True):
            customers.append(self._customer(index, customer_id, rows))
        self.writer.write(Customer, (*CUSTOMER_COLUMNS, *PROFILE_COLUMNS), customers)
        self.writer.write(BalanceSnapshot, SNAPSHOT_COLUMNS, rows.snapshots)
        self.writer.write(Interaction, INTERACTION_COLUMNS, rows.interactions)
        self.writer.write(Holding, HOLDING_COLUMNS, rows.holdings)
        self.writer.write(KeyContact, KEY_CONTACT_COLUMNS, rows.key_contacts)
        self.writer.write(CreditLine, CREDIT_LINE_COLUMNS, rows.credit_lines)
        self.writer.write(RelatedParty, RELATED_PARTY_COLUMNS, rows.related_parties)
        self.writer.write(CustomerTeamMember, TEAM_COLUMNS, rows.team_members)
        counts = self.counts
        counts.customers += len(customers)
        counts.snapshots += len(rows.snapshots)
        counts.interactions += len(rows.interactions)
        counts.holdings += len(rows.holdings)
        counts.key_contacts += len(rows.key_contacts)
        counts.credit_lines += len(rows.credit_lines)
        counts.related_parties += len(rows.related_parties)
        counts.team_members += len(rows.team_members)

    def _customer(self, index: int, customer_id: int, rows: _ChunkRows) -> tuple:
        """One customer row; appends the customer's other rows to `rows` as it goes."""
        rng = self.rng
        rm, branch = rng.choices(self.owners, cum_weights=self.owner_cum_weights)[0]
        region = BRANCH_REGIONS[branch.code]
        tier = self.tiers[index]
        if self.corporate[index]:
            customer_type = CustomerType.CORPORATE.value
            name, id_type, id_number, birth_date, email = self._corporate_identity(region)
        else:
            customer_type = CustomerType.INDIVIDUAL.value
            name, id_type, id_number, birth_date, email = self._individual_identity(region)
        trajectory = self._trajectory(self.wealth[index], bool(self.corporate[index]))
        rows.snapshots.extend(self._snapshot_rows(customer_id, trajectory))
        last_contact = None
        contacts_before = len(rows.interactions)
        if rm is not None:
            last_contact = self._contacts(
                customer_id,
                rm.pk,
                tier=tier,
                falling=trajectory.falling,
                corporate=bool(self.corporate[index]),
                into=rows.interactions,
            )
            self._remember_for_reminders(rm.pk, customer_id, name)
        phone = self._mobile()
        since = self._customer_since(birth_date)
        aum, loan = _money(trajectory.aum[-1]), _money(trajectory.loans[-1])
        profile = self._profile(
            customer_id,
            customer_type,
            rows,
            name=name,
            birth_date=birth_date,
            phone=phone,
            email=email,
            aum=aum,
            loan=loan,
            since=since,
            tier=tier,
            rm=rm,
            region=region,
            contacts=len(rows.interactions) - contacts_before,
        )
        return (
            customer_id,
            f"C{self.numbers[index]:010d}",
            customer_type,
            name,
            name_pinyin(name),
            id_type,
            id_number,
            birth_date,
            phone,
            email,
            branch.pk,
            rm.pk if rm is not None else None,
            tier,
            aum,
            loan,
            _money(sum(trajectory.contribution)),
            CURRENCY,
            since,
            last_contact,
            1,
            self.now,
            self.now,
            *(profile[column] for column in PROFILE_COLUMNS),
        )

    # --- The 360° profile -------------------------------------------------------------------

    def _profile(
        self,
        customer_id: int,
        customer_type: str,
        rows: _ChunkRows,
        *,
        name: str,
        birth_date: dt.date | None,
        phone: str,
        email: str,
        aum: str,
        loan: str,
        since: dt.date,
        tier: str,
        rm: User | None,
        region: str,
        contacts: int,
    ) -> dict:
        """The dynamic profile and its completeness; appends holdings, extras and links."""
        drawer = self.profiles
        knowledge = drawer.knowledge(tier, assigned=rm is not None)
        aum_value, loan_value = float(aum), float(loan)
        if customer_type == CustomerType.CORPORATE:
            facts = drawer.corporate(
                name=name,
                email=email,
                aum=aum_value,
                loan=loan_value,
                region=region,
                customer_since=since,
                tier=tier,
                knowledge=knowledge,
                contacts=contacts,
            )
            drawer.key_contacts(customer_id, facts=facts, company=name, into=rows.key_contacts)
            drawer.credit_lines(
                customer_id, facts=facts, aum=aum_value, loan=loan_value, into=rows.credit_lines
            )
            self._corporate_links(customer_id, rm, region, facts, loan_value, tier, rows)
        else:
            assert birth_date is not None
            facts = drawer.individual(
                name=name,
                birth_date=birth_date,
                email=email,
                aum=aum_value,
                loan=loan_value,
                region=region,
                knowledge=knowledge,
                contacts=contacts,
            )
            self._individual_links(customer_id, rm, facts, aum_value, rows)
        if rm is not None:
            self._referral(customer_id, rm.pk, since, rows)
        profile = facts.profile
        drawer.holdings(
            customer_id,
            customer_type=customer_type,
            aum=aum,
            loan=loan,
            risk=profile["risk_appetite"] or 3,
            customer_since=since,
            into=rows.holdings,
        )
        # The same function the customer page uses, on the values the row is written with.
        known = SimpleNamespace(
            customer_type=customer_type, phone=phone, email=email, birth_date=birth_date, **profile
        )
        profile["profile_completeness"] = completeness(known)
        return profile

    def _individual_links(
        self, customer_id: int, rm: User | None, facts: _Facts, aum: float, rows: _ChunkRows
    ) -> None:
        """Perhaps a household member of an earlier customer of the same RM (same address)."""
        if rm is None:
            return
        rng = self.profiles.rng
        profile = facts.profile
        household = self.households.get(rm.pk)
        if household and rng.random() < HOUSEHOLD_SHARE:
            other_id, address = rng.choice(household)
            if address and profile["address"]:
                profile["address"] = address  # they live together
            rows.related_parties.append(
                (customer_id, other_id, RelationType.HOUSEHOLD.value, rng.choice(HOUSEHOLD_NOTES))
            )
        self._remember(self.households, rm.pk, (customer_id, profile["address"]))
        if aum >= GUARANTOR_MIN_AUM:
            self._remember(self.guarantors, rm.pk, customer_id)

    def _corporate_links(
        self,
        customer_id: int,
        rm: User | None,
        region: str,
        facts: _Facts,
        loan: float,
        tier: str,
        rows: _ChunkRows,
    ) -> None:
        """Group companies in the same city, guarantors of loans, a second RM for the large."""
        rng = self.profiles.rng
        group = self.groups.get(region)
        if group and rng.random() < GROUP_SHARE:
            rows.related_parties.append(
                (customer_id, rng.choice(group), RelationType.GROUP_COMPANY.value, "同一集团")
            )
        self._remember(self.groups, region, customer_id)
        if rm is None:
            return
        guarantors = self.guarantors.get(rm.pk)
        if loan > 0 and guarantors and rng.random() < GUARANTOR_SHARE:
            rows.related_parties.append(
                (rng.choice(guarantors), customer_id, RelationType.GUARANTOR.value, "连带责任保证")
            )
        large = facts.company_size == CompanySize.LARGE or (
            facts.company_size == CompanySize.MEDIUM and tier == ValueTier.VALUE
        )
        if large and rng.random() < TEAM_SHARE:
            colleagues = [u for u in self.rms_by_branch.get(rm.branch_id, []) if u.pk != rm.pk]
            if colleagues:
                rows.team_members.append(
                    (customer_id, rng.choice(colleagues).pk, rng.choice(TEAM_RESPONSIBILITIES))
                )

    def _referral(self, customer_id: int, rm_id: int, since: dt.date, rows: _ChunkRows) -> None:
        """Perhaps referred by an older customer of the same RM (seed 002: ask for referrals)."""
        rng = self.profiles.rng
        referrers = self.referrers.get(rm_id)
        if referrers and rng.random() < REFERRAL_SHARE:
            older = [c for c in rng.sample(referrers, min(5, len(referrers))) if c[1] < since]
            if older:
                rows.related_parties.append(
                    (older[0][0], customer_id, RelationType.REFERRER.value, "")
                )
        self._remember(self.referrers, rm_id, (customer_id, since))

    def _remember(self, pools: dict, key: object, item: object) -> None:
        """Keep `item` as a link candidate: a bounded, seeded reservoir per key."""
        pool = pools.setdefault(key, [])
        if len(pool) < RELATION_POOL_SIZE:
            pool.append(item)
        else:
            pool[self.profiles.rng.randrange(RELATION_POOL_SIZE)] = item

    # --- Identity -------------------------------------------------------------------------

    def _individual_identity(self, region: str) -> tuple:
        rng, names = self.rng, self.names
        male = rng.random() < 0.5
        if rng.random() < ENGLISH_NAME_SHARE:
            first = rng.choice(names.en_first_male if male else names.en_first_female)
            last = rng.choice(names.en_last)
            name = f"{first} {last}"
            handle = f"{first}.{last}".lower()
        else:
            given = rng.choice(names.given_male if male else names.given_female)
            name = rng.choice(names.surnames) + given
            handle = rng.choice(names.handles)
        birth_date = self._birth_date()
        email = self._email(handle, CustomerType.INDIVIDUAL)
        id_number = self._unique_prc_id(self._birthplace(region), birth_date, male)
        return name, IdType.PRC_ID_CARD.value, id_number, birth_date, email

    def _corporate_identity(self, region: str) -> tuple:
        rng, names = self.rng, self.names
        city_zh, city_en = CITY_NAMES[region]
        if rng.random() < ENGLISH_NAME_SHARE:
            name = f"{rng.choice(names.companies_en)} ({city_en}) Co., Ltd."
        else:
            name = city_zh + rng.choice(names.companies_zh)
        # Newer codes carry "MA" and letters; older ones were all digits.
        if rng.random() < 0.6:
            org_body = "MA" + "".join(rng.choices(USCC_CHARS, k=6))
        else:
            org_body = "".join(rng.choices("0123456789", k=8))
        uscc = unified_social_credit_code(rng.choice(REGION_CODES[region]), org_body)
        email = self._email(rng.choice(names.handles), CustomerType.CORPORATE)
        return name, IdType.USCC.value, uscc, None, email

    def _birthplace(self, region: str) -> str:
        rng = self.rng
        if rng.random() < LOCAL_BIRTHPLACE_SHARE:
            return rng.choice(REGION_CODES[region])
        return rng.choice(ELSEWHERE_REGION_CODES)

    def _birth_date(self) -> dt.date:
        youngest, oldest, mode = ADULT_AGE
        age_days = int(self.rng.triangular(youngest, oldest, mode) * 365.25)
        return self.today - dt.timedelta(days=age_days)

    def _unique_prc_id(self, region: str, birth_date: dt.date, male: bool) -> str:
        sequence = self.rng.randrange(500) * 2 + (1 if male else 0)
        while True:
            id_number = prc_id_number(region, birth_date, sequence)
            if id_number not in self.used_id_numbers:
                self.used_id_numbers.add(id_number)
                return id_number
            sequence = (sequence + 2) % 1000  # same sex, next free number

    def _customer_since(self, birth_date: dt.date | None) -> dt.date:
        """Before the first balance month; an individual opened the account as an adult."""
        since = self.months[0] - dt.timedelta(days=self.rng.randint(*TENURE_DAYS))
        if birth_date is not None:
            since = max(since, _years_after(birth_date, ADULT_YEARS))
        return since

    def _mobile(self) -> str:
        rng = self.rng
        return f"1{rng.randint(3, 9)}{rng.randrange(1_000_000_000):09d}"

    def _email(self, handle: str, customer_type: str) -> str:
        rng = self.rng
        if rng.random() >= EMAIL_SHARE[customer_type]:
            return ""
        if customer_type == CustomerType.CORPORATE:
            return f"finance@{handle}.{rng.choice(SAFE_EMAIL_DOMAINS)}"
        return f"{handle}{rng.randrange(100)}@{rng.choice(SAFE_EMAIL_DOMAINS)}"

    # --- Balances -------------------------------------------------------------------------

    def _trajectory(self, current_aum: float, corporate: bool) -> _Trajectory:
        """Twelve month-ends that end at the customer's current AUM, walked backwards."""
        rng = self.rng
        draw = rng.random()
        falling = GROWING_SHARE <= draw < GROWING_SHARE + FALLING_SHARE
        if draw < GROWING_SHARE:
            drift = rng.uniform(*GROWING_DRIFT)
        elif falling:
            drift = rng.uniform(*FALLING_DRIFT)
        else:
            drift = rng.gauss(0, STABLE_DRIFT_SIGMA)
        sigma = VOLATILITY[CustomerType.CORPORATE if corporate else CustomerType.INDIVIDUAL]
        aum = [current_aum] * SNAPSHOT_MONTHS
        for month in range(SNAPSHOT_MONTHS - 2, -1, -1):
            aum[month] = aum[month + 1] / math.exp(drift + rng.gauss(0, sigma))
        loans = self._loans(current_aum, corporate)
        return _Trajectory(aum, loans, self._contribution(aum, loans), falling)

    def _loans(self, current_aum: float, corporate: bool) -> list[float]:
        rng = self.rng
        if corporate and rng.random() < CORPORATE_LOAN_SHARE:
            latest = current_aum * rng.uniform(*CORPORATE_LOAN_TO_AUM)
        elif not corporate and rng.random() < MORTGAGE_SHARE:
            latest = rng.uniform(*MORTGAGE_RANGE)
        else:
            return [0.0] * SNAPSHOT_MONTHS
        # Amortising: the older the month, the more principal was still outstanding.
        return [
            latest * (1 + LOAN_AMORTISATION * (SNAPSHOT_MONTHS - 1 - month))
            for month in range(SNAPSHOT_MONTHS)
        ]

    def _contribution(self, aum: list[float], loans: list[float]) -> list[float]:
        rng = self.rng
        margin = rng.uniform(*AUM_MARGIN) / 12
        spread = rng.uniform(*LOAN_SPREAD) / 12
        loss_making = rng.random() < LOSS_MAKING_SHARE
        result = []
        for month_aum, month_loan in zip(aum, loans, strict=True):
            earned = (month_aum * margin + month_loan * spread) * rng.uniform(0.7, 1.3)
            if loss_making:
                earned = -rng.uniform(*LOSS_PER_MONTH)
            result.append(earned)
        return result

    def _snapshot_rows(self, customer_id: int, trajectory: _Trajectory) -> Iterable[tuple]:
        return (
            (customer_id, month, _money(aum), _money(loan), _money(contribution), CURRENCY)
            for month, aum, loan, contribution in zip(
                self.months,
                trajectory.aum,
                trajectory.loans,
                trajectory.contribution,
                strict=True,
            )
        )

    # --- Contacts -------------------------------------------------------------------------

    def _contacts(
        self,
        customer_id: int,
        rm_id: int,
        *,
        tier: str,
        falling: bool,
        corporate: bool,
        into: list[tuple],
    ) -> dt.datetime | None:
        """Append the customer's contacts of the past year; return the latest, if any."""
        rng = self.rng
        count = rng.choices(range(5), cum_weights=self.contact_cum_weights[tier])[0]
        if falling:
            count = max(count - 1, 0)  # fewer contacts: an early sign of leaving
        first_day = FALLING_QUIET_DAYS if falling else 1
        latest = None
        for _ in range(count):
            occurred_at = self._past_business_time(first_day, CONTACT_DAYS_BACK)
            channel = rng.choices(self.channels, cum_weights=self.channel_cum_weights)[0]
            duration = CHANNEL_DURATION.get(channel)
            into.append(
                (
                    customer_id,
                    rm_id,
                    channel.value,
                    occurred_at,
                    rng.randint(*duration) if duration else None,
                    self._minutes(channel, corporate),
                    rng.choice(NEXT_STEPS),
                    self.now,
                )
            )
            latest = occurred_at if latest is None else max(latest, occurred_at)
        return latest

    def _past_business_time(self, first_day: int, last_day: int) -> dt.datetime:
        rng = self.rng
        day = self.today - dt.timedelta(days=rng.randint(first_day, last_day))
        clock = dt.time(rng.randint(*CONTACT_HOURS), rng.randrange(0, 60, 5))
        return dt.datetime.combine(day, clock, tzinfo=self.tz)

    def _minutes(self, channel: str, corporate: bool) -> str:
        rng = self.rng
        texts = MINUTES_BY_CHANNEL[channel]
        if corporate and channel in BUSINESS_CHANNELS and rng.random() < CORPORATE_MINUTES_SHARE:
            texts = CORPORATE_MINUTES
        product_zh, product_en = rng.choice(PRODUCTS)
        return rng.choice(texts).format(
            product=product_zh, product_en=product_en, amount=rng.randrange(50, 5000, 50)
        )

    # --- Reminders ------------------------------------------------------------------------

    def _remember_for_reminders(self, rm_id: int, customer_id: int, name: str) -> None:
        candidates = self.reminder_candidates.setdefault(rm_id, [])
        if len(candidates) < REMINDER_CANDIDATES:
            candidates.append((customer_id, name))

    def _write_reminders(self) -> int:
        """A few open follow-ups per RM: most due in the coming days, some already late."""
        rng = self.rng
        reminders: list[Reminder] = []
        for spec in _demo_rms():
            rm = self.org.users[spec.username]
            candidates = self.reminder_candidates.get(rm.pk, [])
            upcoming, overdue = (
                REMINDERS_PER_DEMO_RM if spec.username in DEMO_RMS else REMINDERS_PER_OTHER_RM
            )
            days = [rng.randint(1, 7) for _ in range(upcoming)]
            days += [-rng.randint(1, 3) for _ in range(overdue)]
            for (customer_id, name), in_days in zip(
                rng.sample(candidates, min(len(days), len(candidates))), days, strict=False
            ):
                due_day = self.today + dt.timedelta(days=in_days)
                reminders.append(
                    Reminder(
                        customer_id=customer_id,
                        assigned_to=rm,
                        title=rng.choice(REMINDER_TITLES).format(name=name),
                        due_at=dt.datetime.combine(
                            due_day, dt.time(rng.choice((10, 14, 16)), 0), tzinfo=self.tz
                        ),
                        status=ReminderStatus.OPEN,
                    )
                )
        Reminder.objects.bulk_create(reminders, batch_size=BATCH_SIZE)
        return len(reminders)


# =========================================================================================
# The 360° profile: dynamic facts, holdings, key contacts and credit lines
# =========================================================================================


def _cum(weights: Iterable[float]) -> list[float]:
    return list(accumulate(weights))


def _luhn_complete(body: str) -> str:
    """`body` with its Luhn check digit appended, as on a bank card."""
    backwards = body[::-1]  # the digit left of the check digit is doubled, and every second one
    doubled = backwards[0::2].translate(_LUHN_DOUBLED)
    total = sum(map(int, doubled)) + sum(map(int, backwards[1::2]))
    return body + str(-total % 10)


_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")  # 2 × digit, its digits summed


def _wealth_level(aum: float) -> int:
    """0: under 1M; 1: 1-3M; 2: 3-10M; 3: 10-100M; 4: over 100M (seed 001)."""
    return sum(aum >= floor for floor in WEALTH_LEVEL_FLOORS)


def _age(birth_date: dt.date, today: dt.date) -> int:
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


@dataclass
class _Facts:
    """What is drawn of one customer beside the row: for holdings, relations and extras."""

    profile: dict
    company_size: str = ""  # the true size, recorded in the profile or not
    collateral: str = ""


class ProfileDrawer:
    """Draws the dynamic profile, holdings and corporate extras of one customer at a time.

    It has its own random stream (a function of the seed), so the identities, balances and
    contacts drawn from the main stream are the same as before profiles existed.
    """

    def __init__(self, seed: int, today: dt.date, names: NamePools) -> None:
        self.rng = random.Random(f"{seed}:profile")
        self.today = today
        self.names = names
        self.account_counter = 0
        self.account_offset = self.rng.randrange(ACCOUNT_BODY_SPACE)
        self.knowledge_cum = {tier: _cum(w) for tier, w in KNOWLEDGE_WEIGHTS.items()}
        self.source_cum = [_cum(w) for w in WEALTH_SOURCE_WEIGHTS]
        self.risk_cum = [_cum(w) for w in RISK_WEIGHTS]
        self.life_stages = [(age, list(w), _cum(w.values())) for age, w in LIFE_STAGE_BY_AGE]
        self.preference = {
            kind: (list(weights), list(weights.values()))
            for kind, weights in CHANNEL_PREFERENCE.items()
        }
        self.ownerships = list(OWNERSHIP_WEIGHTS)
        self.ownership_cum = _cum(OWNERSHIP_WEIGHTS.values())
        self.ownership_small_cum = _cum(
            0 if kind == Ownership.LISTED else w for kind, w in OWNERSHIP_WEIGHTS.items()
        )
        self.ratings = list(CREDIT_RATING_WEIGHTS)
        self.rating_cum = _cum(CREDIT_RATING_WEIGHTS.values())
        self.industry_cum = _cum([1] * len(INDUSTRIES))

    # --- Dynamic profile --------------------------------------------------------------

    def knowledge(self, tier: str, assigned: bool) -> float:
        """The chance that any one dynamic fact of this customer has been recorded."""
        if not assigned:
            low, high = KNOWLEDGE_BANDS[-1]
        else:
            band = self.rng.choices(KNOWLEDGE_BANDS, cum_weights=self.knowledge_cum[tier])[0]
            low, high = band
        return self.rng.uniform(low, high)

    def individual(
        self,
        *,
        name: str,
        birth_date: dt.date,
        email: str,
        aum: float,
        loan: float,
        region: str,
        knowledge: float,
        contacts: int,
    ) -> _Facts:
        rng = self.rng
        draw = rng.random
        level = _wealth_level(aum)
        age = _age(birth_date, self.today)
        city = CITY_NAMES[region][0]
        source = WEALTH_SOURCES[
            rng.choices(range(len(WEALTH_SOURCES)), cum_weights=self.source_cum[level])[0]
        ]
        stage = self._life_stage(age)
        occupation, employer = self._occupation(source, stage, city, region)
        p = _blank_profile()
        if draw() < knowledge:
            p["occupation"], p["employer"] = occupation, employer
        if draw() < knowledge:
            low, high = INCOME_BAND_BY_LEVEL[level]
            if stage in (LifeStage.STUDENT, LifeStage.RETIRED):
                low, high = max(low - 1, 0), max(high - 1, 0)
            p["income_band"] = INCOME_BANDS[rng.randint(low, high)].value
        if draw() < knowledge:
            p["life_stage"] = stage.value
        if draw() < knowledge:
            p["family"] = rng.choice(FAMILY_TEXTS[stage]).format(kid=rng.randint(2, 12))
        if draw() < knowledge:
            p["interests"] = "、".join(rng.sample(INTERESTS, rng.randint(1, 3)))
        if draw() < knowledge:
            p["wealth_source"] = source.value
        risk = rng.choices(range(1, 6), cum_weights=self.risk_cum[level])[0]
        if age >= 65:
            risk = max(risk - 1, 1)  # older customers take less risk whatever their wealth
        if draw() < knowledge:
            p["risk_appetite"] = risk
        if draw() < knowledge:
            p["investment_experience"] = self._experience(risk, age)
        if draw() < knowledge:
            times = RETIRED_CONTACT_TIMES if stage == LifeStage.RETIRED else CONTACT_TIMES
            p["preferred_contact_time"] = rng.choice(times)
        if rng.random() < max(knowledge, 0.5):
            p["language"] = "en" if name.isascii() else "zh-hans"
        if rng.random() < max(knowledge, 0.4):
            p["address"] = self._home_address(region)
        self._consents(p, CustomerType.INDIVIDUAL, email, knowledge, contacts)
        if loan > 0:
            self._credit_history(p, rated_share=0.5)
        return _Facts(p)

    def corporate(
        self,
        *,
        name: str,
        email: str,
        aum: float,
        loan: float,
        region: str,
        customer_since: dt.date,
        tier: str,
        knowledge: float,
        contacts: int,
    ) -> _Facts:
        rng = self.rng
        draw = rng.random
        industry, tech_weights, outlooks = rng.choices(INDUSTRIES, cum_weights=self.industry_cum)[0]
        size = next(size for floor, size in COMPANY_SIZE_FLOORS if aum + loan >= floor)
        collateral = rng.choice(COLLATERALS) if loan > 0 or rng.random() < 0.3 else ""
        p = _blank_profile()
        # The licence gives industry and location even to an RM who has learnt nothing yet.
        if rng.random() < 0.5 + knowledge / 2:
            p["industry"] = industry
        if draw() < knowledge:
            p["company_size"] = size.value
        district = rng.choice(list(DISTRICTS[region]))
        if rng.random() < 0.5 + knowledge / 2:
            p["location"] = f"{CITY_NAMES[region][0]}市{district}"
        if draw() < knowledge:
            p["ownership"] = self._ownership(name, size).value
        if draw() < knowledge:
            p["technology_level"] = rng.choices(TECHNOLOGY_LEVELS, weights=tech_weights)[0].value
        if draw() < knowledge:
            approach = rng.choices(PURCHASING_APPROACHES, weights=PURCHASING_WEIGHTS[size])[0]
            p["purchasing_approach"] = approach.value
        if draw() < knowledge:
            p["relationship_stage"] = self._relationship_stage(customer_since, tier).value
        if collateral and draw() < knowledge:
            p["collateral"] = collateral
        if draw() < knowledge:
            p["industry_outlook"] = rng.choice(outlooks)
        if draw() < knowledge:
            p["preferred_contact_time"] = rng.choice(CORPORATE_CONTACT_TIMES)
        if rng.random() < max(knowledge, 0.5):
            p["language"] = "en" if name.isascii() else "zh-hans"
        if rng.random() < max(knowledge, 0.6):
            p["address"] = self._office_address(region, district)
        self._consents(p, CustomerType.CORPORATE, email, knowledge, contacts)
        if loan > 0:
            self._credit_history(p, rated_share=1.0)
        return _Facts(p, company_size=size, collateral=collateral)

    def _life_stage(self, age: int) -> LifeStage:
        for up_to, stages, cum in self.life_stages:
            if age < up_to:
                return self.rng.choices(stages, cum_weights=cum)[0]
        raise AssertionError("the last age band is open-ended")

    def _occupation(
        self, source: WealthSource, stage: LifeStage, city: str, region: str
    ) -> tuple[str, str]:
        rng = self.rng
        if stage == LifeStage.STUDENT:
            return "学生", rng.choice(EMPLOYERS["university"]).format(city=city)
        occupation, kind = rng.choice(OCCUPATIONS[source])
        if stage == LifeStage.RETIRED:
            return f"退休（原{occupation}）", ""
        if kind in ("company", "own"):
            return occupation, city + rng.choice(self.names.companies_zh)
        if kind:
            district = rng.choice(list(DISTRICTS[region]))
            return occupation, rng.choice(EMPLOYERS[kind]).format(city=city, district=district)
        return occupation, ""

    def _experience(self, risk: int, age: int) -> str:
        ladder = (
            InvestmentExperience.NONE,
            InvestmentExperience.UNDER_2Y,
            InvestmentExperience.FROM_2Y,
            InvestmentExperience.OVER_5Y,
        )
        step = min(max(risk - 2 + self.rng.randint(-1, 1) + (age >= 40), 0), 3)
        return ladder[step].value

    def _ownership(self, name: str, size: str) -> Ownership:
        if name.isascii():  # an English name: a foreign-invested company or a joint venture
            return Ownership.FOREIGN if self.rng.random() < 0.7 else Ownership.JOINT
        listed_ok = size in (CompanySize.MEDIUM, CompanySize.LARGE)
        cum = self.ownership_cum if listed_ok else self.ownership_small_cum
        return self.rng.choices(self.ownerships, cum_weights=cum)[0]

    def _relationship_stage(self, customer_since: dt.date, tier: str) -> RelationshipStage:
        years = (self.today - customer_since).days / 365.25
        initial, developing = RELATIONSHIP_STAGE_YEARS
        if tier == ValueTier.VALUE and self.rng.random() < 0.5:
            years += developing  # the best relationships mature faster
        if years < initial:
            return RelationshipStage.INITIAL
        if years < developing:
            return RelationshipStage.DEVELOPING
        return RelationshipStage.LONG_TERM

    def _consents(
        self, p: dict, customer_type: str, email: str, knowledge: float, contacts: int
    ) -> None:
        """Consent per channel, and the preferred channel among those consented to."""
        rng = self.rng
        shares = CONSENT_SHARES[customer_type]
        consented = []
        for channel, share in shares.items():
            given = rng.random() < share and (channel != ContactChannel.EMAIL or bool(email))
            p[CONSENT_FIELDS[channel]] = given
            if given:
                consented.append(channel)
        channels, weights = self.preference[customer_type]
        candidates = [(c, w) for c, w in zip(channels, weights, strict=True) if c in consented]
        learnt = contacts >= CONTACTS_TO_KNOW_CHANNEL or rng.random() < knowledge
        if candidates and learnt:
            choice = rng.choices([c for c, _w in candidates], weights=[w for _c, w in candidates])
            p["preferred_channel"] = choice[0].value

    def _credit_history(self, p: dict, *, rated_share: float) -> None:
        """A borrower's credit rating (most of them) and, rarely, a past overdue spell."""
        rng = self.rng
        if rng.random() < rated_share:
            p["credit_rating"] = rng.choices(self.ratings, cum_weights=self.rating_cum)[0].value
        if rng.random() < OVERDUE_SHARE:
            p["max_overdue_days"] = rng.randint(*OVERDUE_DAYS)

    def _home_address(self, region: str) -> str:
        rng = self.rng
        district = rng.choice(list(DISTRICTS[region]))
        road = rng.choice(DISTRICTS[region][district])
        return (
            f"{CITY_NAMES[region][0]}市{district}{road}{rng.randint(1, 999)}弄"
            f"{rng.randint(1, 40)}号{rng.randint(1, 30)}{rng.randint(1, 4):02d}室"
        )

    def _office_address(self, region: str, district: str) -> str:
        rng = self.rng
        road = rng.choice(DISTRICTS[region][district])
        return (
            f"{CITY_NAMES[region][0]}市{district}{road}{rng.randint(1, 2000)}号"
            f"{rng.randint(1, 45)}层"
        )

    # --- Holdings -----------------------------------------------------------------------

    def holdings(
        self,
        customer_id: int,
        *,
        customer_type: str,
        aum: str,
        loan: str,
        risk: int,
        customer_since: dt.date,
        into: list[tuple],
    ) -> None:
        """1-6 holdings: asset products summing to the AUM, loans summing to the balance."""
        rng = self.rng
        corporate = customer_type == CustomerType.CORPORATE
        aum_cents = int(aum.replace(".", ""))
        loan_cents = int(loan.replace(".", ""))
        assets = [ProductType.CURRENT_DEPOSIT]
        for product, minimum, share in (
            CORPORATE_ASSET_PRODUCTS if corporate else INDIVIDUAL_ASSET_PRODUCTS
        ):
            boost = 1.3 if product == ProductType.FUND and risk >= 3 else 1.0
            if aum_cents >= minimum * 100 and rng.random() < share * boost:
                assets.append(product)
        loans = []
        if loan_cents:
            loans = [ProductType.LOAN] * (rng.randint(1, 2) if corporate else 1)
        card = not corporate and rng.random() < CREDIT_CARD_SHARE
        while len(assets) + len(loans) + card > MAX_HOLDINGS:
            assets.pop()
        weights = [rng.uniform(0.05, 0.4)] + [rng.uniform(0.2, 1.0) for _ in assets[1:]]
        for product, cents in zip(assets, _split_cents(aum_cents, weights), strict=True):
            into.append(self._holding(customer_id, customer_type, product, cents, customer_since))
        splits = _split_cents(loan_cents, [rng.uniform(0.3, 1.0) for _ in loans])
        for product, cents in zip(loans, splits, strict=True):
            into.append(self._holding(customer_id, customer_type, product, cents, customer_since))
        if card:
            cents = round(rng.uniform(*CREDIT_CARD_SPEND) * 100)
            into.append(
                self._holding(
                    customer_id, customer_type, ProductType.CREDIT_CARD, cents, customer_since
                )
            )

    def _holding(
        self, customer_id: int, customer_type: str, product: str, cents: int, since: dt.date
    ) -> tuple:
        rng = self.rng
        names = PRODUCT_NAMES[(customer_type, product)]
        name = rng.choice(names)
        opened, matures = self._holding_dates(product, customer_type, since)
        if product == ProductType.TIME_DEPOSIT and matures is not None:
            name = f"{name}（{round((matures - opened).days / 365.25)}年）"
        elif product == ProductType.WEALTH_MANAGEMENT and matures is not None:
            name = f"{name}（{(matures - opened).days}天）"
        return (
            customer_id,
            self._account_number(product),
            product.value,
            name,
            f"{cents // 100}.{cents % 100:02d}",
            CURRENCY,
            opened,
            matures,
        )

    def _holding_dates(
        self, product: str, customer_type: str, since: dt.date
    ) -> tuple[dt.date, dt.date | None]:
        rng = self.rng
        today = self.today
        span = max((today - since).days, 1)

        def opened_within(days: int) -> dt.date:
            return today - dt.timedelta(days=rng.randint(1, max(min(days, span), 1)))

        if product == ProductType.CURRENT_DEPOSIT:
            return since, None
        if product == ProductType.TIME_DEPOSIT:
            years = rng.choice(TERM_YEARS)
            opened = opened_within(years * 365 - 1)
            return opened, _years_after(opened, years)
        if product == ProductType.WEALTH_MANAGEMENT:
            days = rng.choice(WEALTH_TERM_DAYS)
            opened = opened_within(days - 1)
            return opened, opened + dt.timedelta(days=days)
        if product == ProductType.LOAN:
            if customer_type == CustomerType.CORPORATE:
                years = rng.choice(CORPORATE_LOAN_YEARS)
                opened = opened_within(years * 365 - 1)
            else:
                years = rng.choice(MORTGAGE_YEARS)
                opened = opened_within(15 * 365)
            return opened, _years_after(opened, years)
        return opened_within(span), None  # funds, insurance, cards: open-ended

    def _account_number(self, product: str) -> str:
        """Nineteen digits, unique across the run: a one-to-one scramble of a counter."""
        self.account_counter += 1
        body = (self.account_counter * ACCOUNT_STRIDE + self.account_offset) % ACCOUNT_BODY_SPACE
        prefix = ACCOUNT_PREFIX.get(product, ACCOUNT_PREFIX_OTHER)
        return _luhn_complete(f"{prefix}{body:012d}")

    # --- Corporate extras ---------------------------------------------------------------

    def key_contacts(
        self, customer_id: int, *, facts: _Facts, company: str, into: list[tuple]
    ) -> None:
        """1-4 people at the company, the chairman first; more of them at bigger companies."""
        rng, names = self.rng, self.names
        weights = KEY_CONTACT_COUNTS[facts.company_size]
        count = rng.choices(range(1, 5), weights=weights)[0]
        english = company.isascii()
        roles = [KEY_CONTACT_ROLES[0], *rng.sample(KEY_CONTACT_ROLES[1:], count - 1)]
        for role, decision_maker in roles:
            male = rng.random() < 0.6
            if english and rng.random() < 0.5:
                first = rng.choice(names.en_first_male if male else names.en_first_female)
                name = f"{first} {rng.choice(names.en_last)}"
            else:
                given = rng.choice(names.given_male if male else names.given_female)
                name = rng.choice(names.surnames) + given
            email = ""
            if rng.random() < KEY_CONTACT_EMAIL_SHARE:
                email = f"{rng.choice(names.handles)}@{rng.choice(SAFE_EMAIL_DOMAINS)}"
            birthday = None
            if rng.random() < KEY_CONTACT_BIRTHDAY_SHARE:
                birthday = self.today - dt.timedelta(days=rng.randint(28 * 365, 65 * 365))
            into.append(
                (
                    customer_id,
                    name,
                    role,
                    decision_maker,
                    f"1{rng.randint(3, 9)}{rng.randrange(1_000_000_000):09d}",
                    email,
                    birthday,
                    rng.choice(KEY_CONTACT_NOTES),
                )
            )

    def credit_lines(
        self, customer_id: int, *, facts: _Facts, aum: float, loan: float, into: list[tuple]
    ) -> None:
        """About half the corporates: a line drawn to the loan balance, sometimes bills too."""
        rng = self.rng
        if rng.random() >= CREDIT_LINE_SHARE[loan > 0]:
            return
        collateral = facts.collateral or rng.choice(COLLATERALS)
        facility = rng.choice(CREDIT_LINE_FACILITIES)
        basis = loan if loan > 0 else aum
        limit = _round_up(basis * rng.uniform(*CREDIT_LINE_HEADROOM), 10_000)
        into.append(self._credit_line(customer_id, facility, limit, loan, collateral))
        if rng.random() < SECOND_CREDIT_LINE_SHARE:
            limit = _round_up(aum * rng.uniform(0.3, 1.0), 10_000)
            used = limit * rng.uniform(0, 0.9)
            into.append(self._credit_line(customer_id, SECOND_FACILITY, limit, used, collateral))

    def _credit_line(
        self, customer_id: int, facility: str, limit: float, used: float, collateral: str
    ) -> tuple:
        expires = self.today + dt.timedelta(days=self.rng.randint(*CREDIT_LINE_EXPIRY_DAYS))
        return (
            customer_id,
            facility,
            _money(limit),
            _money(min(used, limit)),
            CURRENCY,
            expires,
            collateral,
        )


def _blank_profile() -> dict:
    profile = dict.fromkeys(PROFILE_COLUMNS, "")
    profile.update(
        risk_appetite=None,
        max_overdue_days=0,
        profile_completeness=0,
        **{field: False for field in CONSENT_FIELDS.values()},
    )
    return profile


def _split_cents(total: int, weights: Sequence[float]) -> list[int]:
    """`total` cents in parts proportional to `weights`, none negative, summing exactly."""
    if not weights:
        return []
    scale = total / sum(weights)
    parts = [int(weight * scale) for weight in weights[1:]]
    return [total - sum(parts), *parts]


def _round_up(amount: float, step: int) -> float:
    return float(math.ceil(amount / step) * step)


# =========================================================================================
# Reset
# =========================================================================================

# Tables that hold nothing but customer data, dependents first: each is emptied outright.
DEMO_DATA_MODELS: tuple[type[models.Model], ...] = (
    Notification,
    Reminder,
    Interaction,
    BalanceSnapshot,
    Holding,
    KeyContact,
    CreditLine,
    RelatedParty,
    CustomerTeamMember,
    AuditEntry,
)


def demo_data_delete() -> None:
    """Delete every customer and whatever hangs off one; branches and users stay.

    Django's cascading delete would load every customer and query each dependent table with
    the full list of ids, which takes minutes on a big book. Here each table is emptied with
    one statement, after whatever else points at it has been deleted or nulled.
    """
    emptied = {*DEMO_DATA_MODELS, Customer}
    # A reset empties the audit trail too: a purge the append-only tables allow only to
    # the database owner, and only inside this block (migration customers 0004).
    with audit_purge_allowed():
        for model in (*DEMO_DATA_MODELS, Customer):
            _release_references_to(model, skip=emptied)
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - a model's own table name


def _release_references_to(model: type[models.Model], *, skip: set) -> None:
    """Apply each foreign key's `on_delete` to the rows of other models that point at `model`.

    These are models added by later issues (change requests, holdings, ...), found through
    the model graph so that a reset keeps working when they appear.
    """
    for relation in model._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and (relation.one_to_many or relation.one_to_one)):
            continue
        if relation.related_model in skip:
            continue
        fk_name = relation.field.name
        rows = relation.related_model._base_manager.filter(**{f"{fk_name}__isnull": False})
        if relation.on_delete is models.SET_NULL:
            rows.update(**{fk_name: None})
        elif relation.on_delete is models.SET_DEFAULT:
            rows.update(**{fk_name: relation.field.get_default()})
        else:  # CASCADE, PROTECT, RESTRICT, DO_NOTHING: the row cannot outlive its customer
            rows.delete()


# =========================================================================================
# The command
# =========================================================================================


class Command(BaseCommand):
    help = (
        "Seed a demo organisation, users and a book of customers with twelve months of "
        "balances and a contact history. Does nothing if customers exist, unless --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers",
            type=int,
            default=DEFAULT_CUSTOMERS,
            help=f"number of customers (default {DEFAULT_CUSTOMERS})",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"random seed; the same seed gives the same book (default {DEFAULT_SEED})",
        )
        parser.add_argument(
            "--reset", action="store_true", help="delete existing customers and their data first"
        )

    def handle(self, *args, customers: int, seed: int, reset: bool, **options) -> None:
        if customers < 0:
            raise CommandError("--customers must be zero or more")
        if Customer._base_manager.exists() and not reset:
            self.stdout.write("Demo data already present; nothing to do (use --reset to rebuild).")
            demo_authenticators_ensure()
            self._print_credentials()
            return
        started = time.monotonic()
        with transaction.atomic():
            if reset:
                demo_data_delete()
            org = organisation_ensure(reset_passwords=reset)
            writer = PostgresCopyWriter(timezone.now()) if _copy_supported() else BulkCreateWriter()
            # A synthetic demo book, not changes anyone made to customer data: its rows are not
            # recorded one by one by the direct-write audit (migration customers 0008).
            with audited_customer_writes():
                counts = BookGenerator(
                    seed=seed, count=customers, org=org, today=timezone.localdate(), writer=writer
                ).generate()
        self._print_summary(counts, time.monotonic() - started, writer)
        self._print_credentials()

    def _print_summary(self, counts: SeedCounts, seconds: float, writer: RowWriter) -> None:
        how = "COPY" if isinstance(writer, PostgresCopyWriter) else "bulk_create"
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {counts.customers:,} customers, {counts.snapshots:,} balance snapshots, "
                f"{counts.interactions:,} interactions and {counts.reminders:,} reminders "
                f"in {seconds:.1f}s ({how})."
            )
        )
        self.stdout.write(
            f"Profiles: {counts.holdings:,} holdings, {counts.key_contacts:,} key contacts, "
            f"{counts.credit_lines:,} credit lines, {counts.related_parties:,} related-party "
            f"links, {counts.team_members:,} secondary RMs."
        )

    def _print_credentials(self) -> None:
        branch_names = {spec.code: spec.name for spec in DEMO_BRANCHES}
        present = set(
            User.objects.filter(username__in=[spec.username for spec in DEMO_USERS]).values_list(
                "username", flat=True
            )
        )
        header = ("username", "role", "branch", "password", "name")
        rows = [
            (
                spec.username,
                str(Role(spec.role).label),
                branch_names[spec.branch],
                DEMO_PASSWORD if spec.username in present else "(missing: run --reset)",
                spec.last_name + spec.first_name,
            )
            for spec in DEMO_USERS
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
        self.stdout.write("\nDemo users:")
        for row in [header, *rows]:
            # The name goes last: Chinese characters are double-width and break alignment.
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  " + "  ".join([*cells, row[-1]]))
        self.stdout.write(
            "\nBranch heads and head office also enter a code from an authenticator app.\n"
            f"  Demo TOTP key: {DEMO_TOTP_SECRET}\n  or scan/open: {DEMO_TOTP_URI}\n"
            f"  or in a shell: oathtool --totp -b {DEMO_TOTP_SECRET}"
        )
