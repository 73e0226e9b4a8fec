"""Reference data of a realistic Jing'an district, and generators of names, titles and texts.

Shared by `seed_demo` (a small district run through the real workflow) and `seed_bench` (volume
data bulk-inserted). Everything here is plain data and pure functions of a `random.Random`, so a
seed gives the same district every time.
"""
from dataclasses import dataclass

from departments.models import Department, Street

from .models import Category

# DOMAIN.md, "Reference data that makes a demo real": 13 streets and 1 town.
STREETS = ["静安寺街道", "曹家渡街道", "江宁路街道", "石门二路街道", "南京西路街道", "天目西路街道", "北站街道",
           "宝山路街道", "芷江西路街道", "共和新路街道", "大宁路街道", "彭浦新村街道", "临汾路街道", "彭浦镇"]

# Government bodies (委办局) and the short name their reply letters are numbered with (静建管函〔2026〕12号).
BODIES = {
    "区建设管理委": "建管", "区公安分局": "公", "区民政局": "民", "区卫生健康委": "卫健", "区教育局": "教",
    "区规划资源局": "规资", "区房管局": "房管", "区绿化市容局": "绿容", "区生态环境局": "环", "区市场监管局": "市监",
    "区商务委": "商务", "区发展改革委": "发改", "区财政局": "财", "区人力资源社会保障局": "人社",
    "区文化旅游局": "文旅", "区体育局": "体", "区应急管理局": "应急", "区城管执法局": "城管",
    "区退役军人事务局": "退役", "区数据局": "数据",
}

CATEGORIES = ["美丽家园", "美丽城区", "交通出行", "养老医疗", "教育", "生态环境", "社区治理", "营商环境", "文化体育",
              "公共安全"]


def street_office(street):
    """The handling unit of a street or town: 南京西路街道办事处, 彭浦镇人民政府."""
    return f"{street}办事处" if street.endswith("街道") else f"{street}人民政府"


def reference_data():
    """The streets, departments and categories above, created where missing.

    Returns ({name: Street}, {name: Department}, {name: Category}); the bodies come first, then
    each street's office, as the district lists them.
    """
    streets = {name: Street.objects.get_or_create(name=name, defaults={"order": order})[0]
               for order, name in enumerate(STREETS, 1)}
    departments = {name: Department.objects.get_or_create(name=name, defaults={"kind": Department.Kind.BODY,
                                                                               "order": order})[0]
                   for order, name in enumerate(BODIES, 1)}
    for order, (name, street) in enumerate(streets.items(), 100):
        departments[street_office(name)] = Department.objects.get_or_create(
            name=street_office(name), defaults={"kind": Department.Kind.STREET, "street": street, "order": order})[0]
    categories = {name: Category.objects.get_or_create(name=name, defaults={"order": order})[0]
                  for order, name in enumerate(CATEGORIES, 1)}
    return streets, departments, categories


def letter_prefix(department_name):
    """The prefix of a department's reply letters: 静建管函, 静南京西路街道函."""
    short = BODIES.get(department_name) or department_name.removesuffix("办事处").removesuffix("人民政府")
    return f"静{short}函"


# Roads, estates and landmarks of each street: the places the titles are about.
PLACES = {
    "静安寺街道": {"road": ["愚园路", "华山路", "常德路", "延安中路", "铜仁路"],
               "estate": ["愚谷邨", "景华新村", "常德公寓", "华山路小区"],
               "landmark": ["静安寺地铁站", "静安公园", "静安体育中心"]},
    "曹家渡街道": {"road": ["长寿路", "万航渡路", "康定路", "武宁南路", "余姚路"],
               "estate": ["三和花园", "康定小区", "万航渡路小区", "曹家渡花园"],
               "landmark": ["曹家渡商圈", "长寿路地铁站", "曹家渡社区文化活动中心"]},
    "江宁路街道": {"road": ["江宁路", "昌平路", "武定路", "西康路", "海防路"],
               "estate": ["昌平路小区", "蒋家巷小区", "武定坊", "海防村"],
               "landmark": ["静安区中心医院", "江宁路菜场", "昌平路社区卫生服务中心"]},
    "石门二路街道": {"road": ["石门二路", "新闸路", "山海关路", "大田路", "成都北路"],
                "estate": ["斯文里", "新福康里", "山海关路小区", "卡德公寓"],
                "landmark": ["育才中学", "石门二路社区卫生服务中心", "新闸路地铁站"]},
    "南京西路街道": {"road": ["南京西路青海路口", "吴江路", "茂名北路", "威海路", "石门一路"],
                "estate": ["静安别墅", "华业公寓", "重华新村", "威海路小区"],
                "landmark": ["上海展览中心", "南京西路商圈", "张园"]},
    "天目西路街道": {"road": ["天目西路", "恒丰路", "大统路", "长安路", "共和路"],
                "estate": ["东安公寓小区", "长安路小区", "恒丰路小区", "梅园新村"],
                "landmark": ["上海火车站南广场", "不夜城绿地", "汉中路地铁站"]},
    "北站街道": {"road": ["海宁路", "浙江北路", "天潼路", "安庆路", "曲阜路"],
              "estate": ["安庆小区", "北站新城", "曲阜路小区", "浙北小区"],
              "landmark": ["苏河湾绿地", "七浦路服装市场", "曲阜路地铁站"]},
    "宝山路街道": {"road": ["宝山路", "宝昌路", "东宝兴路", "虬江路", "鸿兴路"],
               "estate": ["宝昌小区", "东宝兴路小区", "鸿兴里", "宝山二村"],
               "landmark": ["宝山路地铁站", "虬江路电子市场", "宝山路社区卫生服务中心"]},
    "芷江西路街道": {"road": ["芷江西路", "芷江中路", "中兴路", "光复路", "大统路"],
                "estate": ["蕃瓜弄小区", "中兴城", "芷江西路小区", "洪南山宅"],
                "landmark": ["上海市中医医院", "中兴路地铁站", "芷江西路街道社区食堂"]},
    "共和新路街道": {"road": ["共和新路", "洛川东路", "延长中路", "中山北路", "永和路"],
                "estate": ["洛川东路小区", "永和一村", "延长中路小区", "共和新村"],
                "landmark": ["上海大学延长校区", "延长路地铁站", "中山北路高架桥下空间"]},
    "大宁路街道": {"road": ["大宁路", "广中西路", "平型关路", "延长西路", "万荣路"],
               "estate": ["宁和小区", "大宁路小区", "万荣小区", "平型关路小区"],
               "landmark": ["大宁灵石公园", "大宁国际商业广场", "上海马戏城"]},
    "彭浦新村街道": {"road": ["闻喜路", "保德路", "灵石路", "彭浦路", "平顺路"],
                "estate": ["彭一小区", "彭三小区", "彭浦新村第四小区", "闻喜小区"],
                "landmark": ["彭浦新村地铁站", "彭浦新村街道社区卫生服务中心", "彭浦公园"]},
    "临汾路街道": {"road": ["临汾路", "汾西路", "阳曲路", "岭南路", "场中路"],
               "estate": ["阳曲小区", "汾西路小区", "临汾路380弄小区", "岭南小区"],
               "landmark": ["临汾路地铁站", "临汾路街道社区文化活动中心", "市北医院"]},
    "彭浦镇": {"road": ["沪太路", "江场路", "共康路", "三泉路", "平陆路"],
            "estate": ["三泉公寓", "共康雅苑", "永和家园", "江场三村"],
            "landmark": ["市北高新园区", "共康路地铁站", "彭浦镇社区卫生服务中心"]},
}

STREET = "STREET"  # in a matter's departments: the office of the street the suggestion is about


@dataclass(frozen=True)
class Matter:
    """A kind of matter deputies raise: its category, a title template and who handles it."""

    category: str
    title: str  # with one of {road} {estate} {landmark} {street}
    problem: str
    leads: tuple
    co: tuple = ()

    @property
    def slot(self):
        return next(s for s in ("road", "estate", "landmark", "street") if "{" + s + "}" in self.title)


M = Matter
MATTERS = [
    M("交通出行", "关于{road}出租车扬招点标识更新的建议", "出租车扬招点标识老旧、位置不醒目，乘客和驾驶员难以识别",
      ("区建设管理委",), ("区公安分局",)),
    M("交通出行", "关于整治{landmark}门口交通乱象的建议", "早晚高峰车辆违停、接送车辆占道，行人通行安全受到影响",
      ("区公安分局",), ("区建设管理委", STREET)),
    M("交通出行", "关于优化{road}公交站点设置的建议", "公交站点间距过大、候车设施简陋，老年乘客出行不便",
      ("区建设管理委",), ("区公安分局",)),
    M("交通出行", "关于在{road}增设非机动车停放点的建议", "共享单车和电动自行车乱停乱放，占用盲道和人行道",
      ("区建设管理委",), (STREET, "区城管执法局")),
    M("交通出行", "关于优化{road}路口信号灯配时的建议", "路口信号灯配时不合理，高峰时段车辆排队较长",
      ("区公安分局",), ("区建设管理委",)),
    M("交通出行", "关于缓解{estate}周边停车难问题的建议", "小区车位严重不足，夜间车辆沿街停放影响消防通道",
      ("区建设管理委",), (STREET, "区公安分局")),
    M("交通出行", "关于在{road}增设人行过街设施的建议", "路段较长且无人行横道，居民横穿马路现象较多",
      ("区建设管理委",), ("区公安分局",)),
    M("美丽家园", "关于推动{estate}外立面维修工程的建议", "外立面墙皮空鼓脱落，存在高空坠物隐患",
      ("区房管局",), (STREET,)),
    M("美丽家园", "关于加快{estate}加装电梯的建议", "多层住宅老年居民占比高，上下楼困难，加装意愿强烈",
      ("区房管局",), (STREET, "区建设管理委")),
    M("美丽家园", "关于实施{estate}雨污混接改造的建议", "雨污管道混接，雨天返水、气味明显",
      ("区建设管理委",), ("区房管局", "区生态环境局")),
    M("美丽家园", "关于推进{estate}屋面漏水综合修缮的建议", "顶层住户屋面渗漏多年，多次报修未能根治",
      ("区房管局",), (STREET,)),
    M("美丽家园", "关于实施{estate}二次供水设施改造的建议", "二次供水设施老化，水压不稳、水质有异味",
      ("区房管局",), ("区建设管理委",)),
    M("美丽城区", "关于{road}沿线整体绿化改造的建议", "沿线绿化品种单一、部分树木长势较差，景观效果不佳",
      ("区绿化市容局",), ("区建设管理委",)),
    M("美丽城区", "关于推进{road}架空线入地和合杆整治的建议", "架空线杂乱、杆件林立，影响街区风貌和安全",
      ("区建设管理委",), ("区绿化市容局",)),
    M("美丽城区", "关于提升{road}街面环境品质的建议", "沿街立面、店招和公共设施破旧，街面环境与区域定位不符",
      ("区绿化市容局",), (STREET, "区城管执法局")),
    M("美丽城区", "关于修复{road}人行道破损路面的建议", "人行道板松动破损，雨天积水，老人易绊倒",
      ("区建设管理委",), (STREET,)),
    M("养老医疗", "关于在{estate}周边增设社区长者食堂的建议", "周边老年人就餐需求大，现有助餐点供不应求",
      ("区民政局",), (STREET,)),
    M("养老医疗", "关于在{street}建设养老服务综合体的建议", "辖区老龄化程度高，日间照料和短期托养床位不足",
      ("区民政局",), ("区规划资源局", "区财政局")),
    M("养老医疗", "关于优化{landmark}周边就医停车秩序的建议", "就医车辆排队进场占用车道，周边交通拥堵",
      ("区卫生健康委",), ("区公安分局", "区建设管理委")),
    M("养老医疗", "关于扩大{street}家庭医生签约服务覆盖面的建议", "家庭医生签约后服务频次不足，居民获得感不强",
      ("区卫生健康委",), (STREET,)),
    M("养老医疗", "关于为{estate}独居老人安装智能水表和烟感的建议", "独居老人较多，突发情况难以及时发现",
      ("区民政局",), ("区应急管理局", STREET)),
    M("教育", "关于缓解{road}学校上下学时段交通拥堵的建议", "接送车辆集中停靠，学生上下学安全存在隐患",
      ("区教育局",), ("区公安分局",)),
    M("教育", "关于在{street}增设普惠性托育点的建议", "双职工家庭托育需求旺盛，普惠托位紧缺",
      ("区教育局",), ("区卫生健康委", STREET)),
    M("教育", "关于推动{street}中小学体育场地向社区开放的建议", "社区健身场地不足，学校场地节假日闲置",
      ("区教育局",), ("区体育局",)),
    M("生态环境", "关于治理{road}沿街餐饮油烟扰民的建议", "沿街餐饮店油烟直排，周边居民投诉较多",
      ("区生态环境局",), ("区市场监管局", STREET)),
    M("生态环境", "关于改造{estate}垃圾分类厢房的建议", "垃圾厢房破旧、无洗手设施，夏季异味明显",
      ("区绿化市容局",), (STREET,)),
    M("生态环境", "关于减少{road}夜间施工噪声扰民的建议", "工地夜间施工噪声大，影响周边居民休息",
      ("区建设管理委",), ("区生态环境局", "区城管执法局")),
    M("社区治理", "关于规范{estate}物业服务管理的建议", "物业服务质量下降，维修响应慢，业主意见较大",
      ("区房管局",), (STREET,)),
    M("社区治理", "关于整治{estate}群租问题的建议", "群租现象反弹，存在消防和治安隐患",
      (STREET,), ("区房管局", "区公安分局")),
    M("社区治理", "关于提升{street}“一网统管”处置效率的建议", "部分工单流转环节多、处置周期长",
      ("区数据局",), (STREET,)),
    M("营商环境", "关于优化{road}沿街店招店牌审批流程的建议", "店招审批材料多、周期长，小微商户反映不便",
      ("区绿化市容局",), ("区市场监管局",)),
    M("营商环境", "关于支持{landmark}周边小微企业发展的建议", "周边小微企业租金压力大，政策知晓度不高",
      ("区商务委",), ("区发展改革委", "区人力资源社会保障局")),
    M("营商环境", "关于提升{road}夜间经济活力的建议", "夜间消费场景较少，街区活力不足",
      ("区商务委",), ("区文化旅游局", "区公安分局")),
    M("营商环境", "关于在{street}设立就业服务驿站的建议", "灵活就业人员和高校毕业生就业指导需求较大",
      ("区人力资源社会保障局",), (STREET,)),
    M("文化体育", "关于在{street}增设市民健身步道的建议", "居民健身场所不足，现有步道长度短、设施少",
      ("区体育局",), ("区绿化市容局", STREET)),
    M("文化体育", "关于延长{landmark}周边公共文化场馆开放时间的建议", "场馆开放时间与上班族作息不匹配",
      ("区文化旅游局",), (STREET,)),
    M("文化体育", "关于利用{road}沿线闲置空间建设口袋公园的建议", "沿线存在闲置地块，居民缺少休憩空间",
      ("区绿化市容局",), ("区规划资源局",)),
    M("公共安全", "关于整治{estate}消防通道堵塞问题的建议", "消防通道长期被车辆和杂物占用",
      ("区应急管理局",), ("区公安分局", STREET)),
    M("公共安全", "关于加强{estate}电动自行车充电安全管理的建议", "居民飞线充电、楼道停放电动自行车现象突出",
      ("区应急管理局",), (STREET, "区房管局")),
    M("公共安全", "关于在{road}路段增设监控和照明设施的建议", "路段照明不足、监控盲区多，夜间出行不安全",
      ("区公安分局",), ("区建设管理委",)),
    M("公共安全", "关于排查{road}沿线老旧燃气管道安全隐患的建议", "燃气管道使用年限较长，存在泄漏隐患",
      ("区建设管理委",), ("区应急管理局",)),
    M("社区治理", "关于为{street}退役军人服务站配齐工作力量的建议", "服务站人员兼职较多，服务保障能力不足",
      ("区退役军人事务局",), (STREET,)),
    M("美丽城区", "关于整治{road}跨门经营和占道经营的建议", "沿街商铺跨门经营、占道堆物，影响市容和通行",
      ("区城管执法局",), (STREET, "区市场监管局")),
]
MATTERS_BY_TITLE = {m.title: m for m in MATTERS}

# The seed report's own examples, each with the place it names: they open the demo's lists.
SEED_TITLES = [
    ("关于{road}出租车扬招点标识更新的建议", "南京西路街道", "南京西路青海路口"),
    ("关于整治{landmark}门口交通乱象的建议", "芷江西路街道", "上海市中医医院"),
    ("关于推动{estate}外立面维修工程的建议", "天目西路街道", "东安公寓小区"),
    ("关于{road}沿线整体绿化改造的建议", "宝山路街道", "宝山路"),
]

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程苏魏吕丁"
            "任沈姚卢姜崔钟谭陆汪范金石廖贾夏顾钱严戴孔汤倪施")
GIVEN = ["建国", "丽华", "志强", "秀英", "海燕", "明", "静", "磊", "敏", "伟民", "晓东", "红梅", "国庆", "佳怡",
         "文杰", "俊", "雪琴", "志刚", "美玲", "宏伟", "卫东", "亚萍", "永明", "慧", "立新", "春华", "德华", "燕",
         "建平", "晓燕", "振华", "玉兰", "国平", "婷", "勇", "丽娟", "建英", "小军", "海峰", "雯", "一鸣", "思远",
         "欣怡", "浩然", "正平", "凤英", "家豪", "瑞华", "明辉", "秀珍"]


def person_names(rng, count, taken=()):
    """`count` distinct, plausible Chinese names, none of them in `taken`."""
    names, seen = [], set(taken)
    while len(names) < count:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def place_for(rng, matter, street):
    """A place of `street` fitting the matter's title."""
    if matter.slot == "street":
        return street
    return rng.choice(PLACES[street][matter.slot])


def title_for(matter, place):
    return matter.title.format(**{matter.slot: place})


def content_for(rng, matter, place):
    """The body of a suggestion: what is wrong there and what the deputy proposes."""
    asks = rng.sample([
        "请相关部门实地调研，摸清底数，形成问题清单",
        "制定切实可行的整改方案，明确责任主体和完成时限",
        "加强部门协同和街道联动，形成工作合力",
        "完善日常巡查和长效管理机制，防止问题反弹",
        "广泛听取居民意见，做好政策宣传和解释工作",
        "统筹安排专项资金，优先解决群众反映最集中的问题",
    ], 3)
    return (f"{place}{matter.problem}，周边居民多次通过代表联络站反映，希望尽快解决。\n"
            f"建议：一是{asks[0]}；二是{asks[1]}；三是{asks[2]}。")


PROGRESS_NOTES = [
    "已赴现场踏勘，会同街道梳理问题清单。",
    "已召开专题协调会，明确各相关单位职责分工。",
    "已委托设计单位编制实施方案，正在征求居民意见。",
    "施工单位已进场，工程按计划推进。",
    "已完成前期资金测算，正在履行立项程序。",
    "已与产权单位对接，落实后续管养责任。",
]
CONTACT_SUMMARIES = [
    "向代表介绍办理思路和初步方案，代表表示认可。",
    "与代表一同踏勘现场，听取代表和居民的具体诉求。",
    "电话沟通办理进展，代表希望加快推进。",
    "邀请代表参加协调会，共同研究解决方案。",
]
OPINION_TEXTS = [
    "原则同意主办单位的处置思路，我单位将在职责范围内配合做好相关工作。",
    "经研究，相关事项属我单位职责部分已纳入年度计划，请主办单位在答复中一并说明。",
    "我单位已安排专人对接，建议主办单位牵头召开现场协调会。",
]
REPLY_TEXTS = {
    "solved": "经实地调研并与代表充分沟通，我单位会同相关单位制定整改方案并已实施完毕，经回访，代表和居民反映良好。",
    "in_progress": "我单位已制定工作方案并启动实施，目前正在有序推进，将按期完成并及时向代表反馈进展。",
    "planned": "经研究，该事项已列入我单位下一年度工作计划，将按计划组织实施，并及时向代表通报进展。",
    "for_reference": "受规划条件、产权归属和资金等因素制约，该事项近期暂不具备实施条件。我单位将留作参考，"
                     "在今后工作中统筹考虑，并已向代表说明情况。",
}
DISSATISFIED_COMMENTS = [
    "答复内容针对性不强，问题至今没有实质改善，希望重新办理。",
    "办理进度太慢，居民意见仍然较大，请明确完成时限。",
    "承办部门未到现场了解情况，答复过于笼统。",
]
NOT_PUBLIC_REASONS = ["涉及个人隐私信息", "涉及在办行政执法案件", "涉及第三方商业秘密"]
SUPERVISING_LEADERS = ["区政府副区长 陈立新", "区政府副区长 顾明辉", "区政府常务副区长 沈振华"]
RETURN_REASONS = [
    "该事项属街道属地管理范围，建议改由街道办事处主办。",
    "该路段管养责任属于市级部门，不属我单位职责，申请退回重新交办。",
]
