"""The event types of seeds 000 and 002, in English and Chinese; head office can add more."""

from django.db import migrations

CAMPAIGN_TYPES = [
    # (code, English, Chinese, VIP)
    ("spring_reception", "Spring reception", "春茗", False),
    ("economic_seminar", "Economic outlook seminar", "经济形势报告会", False),
    ("thematic_lecture", "Thematic lecture", "专题讲座", False),
    ("customer_exchange", "Customer exchange meeting", "客户交流会", False),
    ("training", "Professional training", "专业培训", False),
    ("road_show", "Road show", "路演", False),
    ("banquet", "Banquet", "宴请", False),
    ("vip_salon", "VIP salon", "贵宾沙龙", True),
    ("wealth_salon", "Wealth management salon", "理财沙龙", True),
    ("wine_tasting", "Wine tasting", "品酒会", True),
    ("year_end_gala", "Year-end appreciation gala", "年终答谢会", True),
    ("art_appreciation", "Art appreciation", "艺术鉴赏", True),
    ("wellness", "Wellness and health", "养生保健", True),
    ("parenting_lecture", "Parenting lecture", "亲子教育讲座", True),
    ("qixi", "Qixi day event", "七夕活动", True),
    ("enterprise_tour", "University or enterprise tour", "名校名企游学", True),
]


def create_types(apps, schema_editor):
    CampaignType = apps.get_model("campaigns", "CampaignType")
    for code, name, name_zh, is_vip in CAMPAIGN_TYPES:
        CampaignType.objects.get_or_create(
            code=code, defaults={"name": name, "name_zh": name_zh, "is_vip": is_vip}
        )


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_pipeline_and_events")]

    operations = [migrations.RunPython(create_types, migrations.RunPython.noop)]
