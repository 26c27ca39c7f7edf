"""The simulator's cast and copy: reporters' profiles and county story titles (pure data).

Profiles depend only on the reporter's number, never on the seed, so a re-run with another
seed against the same Redis finds the same names behind the same ids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

NAMES = (
    "王磊",
    "李娜",
    "张伟",
    "刘洋",
    "陈静",
    "杨帆",
    "赵敏",
    "黄勇",
    "周婷",
    "吴昊",
    "彭亮",
    "曾敏",
    "谭军",
    "廖静",
    "贺勇",
    "邓超",
    "徐丽",
    "孙浩",
    "胡军",
    "朱琳",
    "高翔",
    "林芳",
    "何俊",
    "郭峰",
    "罗倩",
    "梁晨",
    "宋佳",
    "郑凯",
    "谢雨",
    "唐亮",
)
_SURNAMES = "王李张刘陈杨赵黄周吴彭曾谭廖贺邓徐孙胡朱"
_GIVEN = (
    "伟",
    "芳",
    "军",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "辉",
    "玲",
    "鹏",
    "华",
)
SKILLS = ("camera", "live", "drone", "video", "photo")

# Towns and subdistricts of Xiangxiang (湘乡市), where the stories happen.
TOWNS = (
    "东郊乡",
    "棋梓镇",
    "壶天镇",
    "月山镇",
    "山枣镇",
    "翻江镇",
    "金石镇",
    "白田镇",
    "毛田镇",
    "龙洞镇",
    "泉塘镇",
    "虞唐镇",
    "潭市镇",
    "中沙镇",
    "育塅乡",
    "梅桥镇",
    "金薮乡",
    "昆仑桥街道",
    "新湘路街道",
    "望春门街道",
    "东山街道",
)

# topic -> (desk, title templates); "{t}" is a town.
TOPICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "乡村振兴": (
        "rural",
        (
            "{t}乡村振兴示范片建设提速",
            "{t}发展特色产业 带动村民增收",
            "{t}人居环境整治见实效",
            "{t}村级集体经济收入再创新高",
        ),
    ),
    "防汛": (
        "emergency",
        (
            "{t}全力迎战新一轮强降雨",
            "涟水{t}段水位上涨 巡堤人员连夜值守",
            "{t}紧急转移受威胁群众",
            "{t}山塘水库汛前隐患排查完成",
        ),
    ),
    "招商引资": (
        "economy",
        (
            "{t}签约一批重点招商项目",
            "湘乡经开区新引进企业投产",
            "{t}优化营商环境 项目落地提速",
            "湘乡市重点项目集中开工",
        ),
    ),
    "教育": (
        "education",
        (
            "{t}新建学校秋季开学",
            "湘乡市中考各考点准备就绪",
            "{t}乡村教师培训启动",
            "{t}开展防溺水安全教育",
        ),
    ),
    "交通": (
        "transport",
        (
            "{t}至城区公路改造完工通车",
            "{t}路段施工 临时交通管制",
            "湘乡城区新增两条公交线路",
            "{t}农村公路安防工程完工",
        ),
    ),
    "医疗": ("health", ("{t}卫生院开展义诊进村", "湘乡市医保服务下沉到村", "{t}家庭医生签约提速")),
    "农业": (
        "agriculture",
        (
            "{t}早稻开镰 亩产预计增加",
            "{t}高标准农田建设收尾",
            "{t}湘莲进入采摘季",
            "{t}生猪生产保持稳定",
        ),
    ),
    "文旅": ("culture", ("东山书院研学游持续升温", "{t}举办农民丰收节", "{t}非遗花鼓戏进校园")),
    "安全生产": ("safety", ("{t}开展安全生产大检查", "{t}燃气安全隐患集中整治")),
    "环保": ("environment", ("涟水河湘乡段水质持续向好", "{t}秸秆综合利用率提升")),
}
_TOPIC_WEIGHTS = {
    "乡村振兴": 3,
    "防汛": 2,
    "招商引资": 2,
    "教育": 2,
    "交通": 2,
    "医疗": 1,
    "农业": 2,
    "文旅": 1,
    "安全生产": 1,
    "环保": 1,
}
# Breaking news in a county is mostly weather, roads and accidents.
BREAKING_TOPICS = ("防汛", "交通", "安全生产")


@dataclass(frozen=True)
class Profile:
    """A simulated reporter as registered: id, display name, skills and device ids."""

    reporter_id: str
    name: str
    skills: tuple[str, ...]
    devices: tuple[str, ...]


def reporter_id(n: int) -> str:
    return f"r-sim-{n:02d}"


def tracker_device(reporter: str) -> str | None:
    """Half the simulated reporters carry Traccar Client (their OsmAnd device id); the other
    half OwnTracks (None). So the demo exercises both trackers' formats."""
    n = int(reporter.rsplit("-", 1)[-1]) if reporter.startswith("r-sim-") else 1
    return f"osmand-sim-{n:02d}" if n % 2 == 0 else None


def profile(n: int) -> Profile:
    """The profile of simulated reporter number `n` (1-based); the same for every seed."""
    rng = random.Random(f"roster:{n}")
    if n <= len(NAMES):
        name = NAMES[n - 1]
    else:  # past the hand-picked names: surname + one or two given characters
        name = rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice((1, 2))))
    skills = tuple(sorted(rng.sample(SKILLS, rng.randint(1, 3))))
    devices = (f"osmand-sim-{n:02d}",)
    return Profile(reporter_id(n), name, skills, devices)


def story_title(rng: random.Random, breaking: bool) -> tuple[str, str]:
    """A (title, desk) pair for a new story."""
    if breaking:
        topic = rng.choice(BREAKING_TOPICS)
    else:
        topic = rng.choices(list(_TOPIC_WEIGHTS), weights=list(_TOPIC_WEIGHTS.values()))[0]
    desk, templates = TOPICS[topic]
    title = rng.choice(templates).format(t=rng.choice(TOWNS))
    return (("突发：" + title) if breaking else title), desk
