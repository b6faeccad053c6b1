"""manage.py seed_demo: the demo agency DEMO, two groups and a dozen contracts, via the importers."""

import csv
import io
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from keizoku.contracts.importing import CONTRACT_COLUMNS, GROUP_COLUMNS
from keizoku.contracts.models import Agency, Contract
from keizoku.contracts.services import contracts_import, groups_import
from keizoku.core.ja import format_phone, format_postal_code
from keizoku.core.links import absolute_url

GROUPS = [
    {
        "agency_code": "DEMO",
        "agency_name": "デモ保険サービス",
        "group_code": "DEMO-A",
        "group_name": "株式会社デモ製作所",
        "group_discount_percent": "20",
        "collection_discount_percent": "5",
        "renewal_window_days": "60",
        "retiree_keeps_discount": "yes",
    },
    {
        "agency_code": "DEMO",
        "agency_name": "デモ保険サービス",
        "group_code": "DEMO-B",
        "group_name": "デモ電機健康保険組合",
        "group_discount_percent": "15",
        "collection_discount_percent": "3",
        "renewal_window_days": "45",
        "retiree_keeps_discount": "no",
    },
]

# (policy, group, name, kana, birth, postal, address, phone, member type, days to expiry,
#  grade, coef period, 3-down, 1-down, no-count, open claim, vehicle class, cover)
CONTRACTS = [
    (
        "DM-0001",
        "DEMO-A",
        "継続 太郎",
        "ケイゾク タロウ",
        "1980-04-01",
        "100-0005",
        "東京都千代田区丸の内一丁目2番3号",
        "03-1234-5678",
        "employee",
        20,
        13,
        0,
        1,
        1,
        1,
        False,
        "futsu",
        "general",
    ),
    (
        "DM-0002",
        "DEMO-A",
        "更新 花子",
        "コウシン ハナコ",
        "1975-11-23",
        "160-0023",
        "東京都新宿区西新宿2-8-1",
        "03-5321-1111",
        "employee",
        35,
        20,
        0,
        0,
        0,
        0,
        False,
        "kogata",
        "general",
    ),
    (
        "DM-0003",
        "DEMO-A",
        "山田 一郎",
        "ヤマダ イチロウ",
        "1990-07-15",
        "530-0001",
        "大阪府大阪市北区梅田3丁目1-1",
        "06-6345-1234",
        "employee",
        50,
        7,
        2,
        0,
        0,
        0,
        False,
        "kei",
        "economy",
    ),
    (
        "DM-0004",
        "DEMO-A",
        "佐藤 次郎",
        "サトウ ジロウ",
        "1955-02-10",
        "231-0023",
        "神奈川県横浜市中区山下町1",
        "045-201-1234",
        "retiree",
        28,
        16,
        0,
        0,
        0,
        0,
        False,
        "futsu",
        "none",
    ),
    (
        "DM-0005",
        "DEMO-A",
        "鈴木 三郎",
        "スズキ サブロウ",
        "1985-09-30",
        "460-0008",
        "愛知県名古屋市中区栄三丁目5番12号",
        "052-261-1234",
        "employee",
        10,
        9,
        0,
        0,
        0,
        0,
        True,
        "futsu",
        "general",
    ),
    (
        "DM-0006",
        "DEMO-A",
        "高橋 四郎",
        "タカハシ シロウ",
        "1995-01-20",
        "060-0001",
        "北海道札幌市中央区北一条西2丁目",
        "011-231-1234",
        "employee",
        90,
        6,
        0,
        0,
        0,
        0,
        False,
        "kei",
        "none",
    ),
    (
        "DM-0007",
        "DEMO-B",
        "田中 五月",
        "タナカ サツキ",
        "1978-05-05",
        "812-0011",
        "福岡県福岡市博多区博多駅前2-1-1",
        "092-431-1234",
        "employee",
        15,
        11,
        1,
        0,
        0,
        0,
        False,
        "kogata",
        "general",
    ),
    (
        "DM-0008",
        "DEMO-B",
        "伊藤 六美",
        "イトウ ムツミ",
        "1948-06-06",
        "980-0021",
        "宮城県仙台市青葉区中央1-1-1",
        "022-261-1234",
        "retiree",
        40,
        18,
        0,
        0,
        0,
        0,
        False,
        "futsu",
        "economy",
    ),
    (
        "DM-0009",
        "DEMO-B",
        "渡辺 七海",
        "ワタナベ ナナミ",
        "1988-07-07",
        "730-0011",
        "広島県広島市中区基町10-52",
        "082-228-1234",
        "employee",
        60,
        14,
        0,
        0,
        1,
        0,
        False,
        "futsu",
        "general",
    ),
    (
        "DM-0010",
        "DEMO-B",
        "中村 八重",
        "ナカムラ ヤエ",
        "1970-08-08",
        "900-0006",
        "沖縄県那覇市おもろまち2丁目1番1号",
        "098-866-1234",
        "employee",
        120,
        12,
        0,
        0,
        0,
        2,
        False,
        "kei",
        "economy",
    ),
    (
        "DM-0011",
        "DEMO-A",
        "小林 九",
        "コバヤシ キュウ",
        "1982-09-09",
        "100-0005",
        "東京都千代田区丸の内2-7-3",
        "090-1234-5678",
        "employee",
        -3,
        10,
        0,
        0,
        0,
        0,
        False,
        "futsu",
        "general",
    ),
    (
        "DM-0012",
        "DEMO-A",
        "加藤 十和",
        "カトウ トワ",
        "1992-10-10",
        "160-0023",
        "東京都新宿区西新宿1丁目1番3号",
        "080-2345-6789",
        "employee",
        5,
        2,
        3,
        1,
        0,
        0,
        False,
        "kogata",
        "general",
    ),
]


def _csv(columns: list[str], rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def contract_rows(today: date) -> list[dict]:
    rows = []
    for index, (
        policy,
        group,
        name,
        kana,
        birth,
        postal,
        address,
        phone,
        member_type,
        days,
        grade,
        coef,
        n3,
        n1,
        n0,
        open_claim,
        use_class,
        cover,
    ) in enumerate(CONTRACTS):
        end = today + timedelta(days=days)
        start = end.replace(year=end.year - 1)
        top_class = 7 if use_class == "kei" else 17
        rows.append(
            {
                "policy_number": policy,
                "group_code": group,
                "holder_name": name,
                "holder_kana": kana,
                "birth_date": birth,
                "postal_code": postal,
                "address": address,
                "phone": phone,
                "email": f"holder{index + 1:02d}@example.jp",
                "member_type": member_type,
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "grade": grade,
                "coef_period": coef,
                "claims_3down": n3,
                "claims_1down": n1,
                "claims_nocount": n0,
                "open_claim": "yes" if open_claim else "no",
                "age_condition": ["35", "26", "21", "all"][index % 4],
                "driver_scope": ["self_spouse", "any", "self"][index % 3],
                "use": ["commute", "leisure", "business"][index % 3],
                "gold_license": "yes" if index % 2 == 0 else "no",
                "vehicle_use_class": use_class,
                "vehicle_model": [
                    "トヨタ プリウス ZVW60",
                    "ホンダ フィット GR3",
                    "スズキ ハスラー MR92S",
                    "マツダ CX-5 KF2P",
                ][index % 4],
                "vehicle_plate": f"品川 300 あ {1000 + index * 111}",
                "first_registration": f"{today.year - 1 - index % 6}-{(index % 12) + 1:02d}",
                "model_launch": f"{today.year - 2 - index % 6}-{(index % 12) + 1:02d}",
                "asv": "yes" if index % 3 != 2 else "no",
                "class_bi": min(4 + index % 5, top_class),
                "class_pd": min(5 + index % 4, top_class),
                "class_pi": min(3 + index % 6, top_class),
                "class_vh": min(6 + index % 5, top_class),
                "vehicle_cover": cover,
                "vehicle_value": 0 if cover == "none" else 1_500_000 + index * 100_000,
                "deductible": "" if cover == "none" else ["5-10", "0-10", "10-10"][index % 3],
                "personal_injury": ["50000000", "30000000", "100000000", "unlimited"][index % 4],
                "property_damage": "unlimited",
                "riders": ["legal;liability", "", "legal", "road;family_bike"][index % 4],
                "paperless": "yes" if index % 2 else "no",
                "annual_premium": 48_000 + index * 3_170,
            }
        )
    return rows


class Command(BaseCommand):
    help = "Load the demo agency (DEMO), its groups, contracts and a ready member."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="make run's mode: load nothing, with a one-line message, when the database "
            "already holds an agency or when DEBUG is off (a production-like run)",
        )
        parser.add_argument("--force", action="store_true", help="allow with DEBUG off")

    def handle(self, *args, if_empty: bool, force: bool, **options):
        if not (settings.DEBUG or force) and if_empty:
            self.stdout.write("DEBUG is off: demo data not loaded (seed_demo --force loads it).")
            return
        if not (settings.DEBUG or force):
            raise CommandError("seed_demo loads demo data: run it with DEBUG on, or --force.")
        if if_empty and Agency.objects.exists():
            self.stdout.write("The database already holds data: demo data not loaded.")
            return
        today = timezone.localdate()
        for label, importer, columns, rows in [
            ("groups", groups_import, list(GROUP_COLUMNS), GROUPS),
            ("contracts", contracts_import, list(CONTRACT_COLUMNS), contract_rows(today)),
        ]:
            result = importer(
                data=_csv(columns, rows), source=f"seed_demo {label}", imported_by="seed_demo"
            )
            if not result.ok:
                raise CommandError("\n".join(str(error) for error in result.errors))
        Agency.objects.filter(code="DEMO").update(
            contact_phone="0120-000-000", contact_hours="平日 9:00〜17:00"
        )
        self._print_summary()
        self._demo_member()
        self._demo_clerk()

    def _demo_member(self) -> None:
        """A member registered already, with DM-0001 linked, to try the renewal straight away."""
        from allauth.account.models import EmailAddress

        from keizoku.accounts.models import PolicyLink, User

        contract = Contract.objects.get(policy_number="DM-0001")
        password = secrets.token_urlsafe(12)
        with transaction.atomic():
            user = User.objects.create_user(
                email="member@demo.example.jp",
                password=password,
                name=contract.holder_name,
                kana=contract.holder_kana,
            )
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
            PolicyLink.objects.create(member=user, contract=contract)
        self.stdout.write(f"  Ready member (DM-0001 linked): {user.email}  password: {password}")

    def _demo_clerk(self) -> None:
        from keizoku.backoffice.services import StaffError, staff_create

        try:
            user, password = staff_create(
                email="clerk@demo.example.jp",
                role="agency_staff",
                agency=Agency.objects.get(code="DEMO"),
            )
        except StaffError:
            self.stdout.write("  Back office: the demo clerk clerk@demo.example.jp exists already.")
            return
        self.stdout.write(f"  Back office:  {absolute_url('backoffice:login')}")
        self.stdout.write(f"    demo clerk (DEMO): {user.email}  password: {password}")
        self.stdout.write("    two-step login (an authenticator app) is set up at the first login.")

    def _print_summary(self) -> None:
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(f"  Agency site:  {absolute_url('agency:home', 'DEMO')}")
        self.stdout.write(f"  MyPage login: {absolute_url('account_login')}")
        self.stdout.write(
            "  Contracts to try registration with (旧証券番号 / 住所 / 電話番号, as at contract time):"
        )
        for contract in Contract.objects.filter(group__agency__code="DEMO").select_related("group"):
            self.stdout.write(
                f"    {contract.policy_number}  満期 {contract.period_end}  {contract.holder_name}  "
                f"〒{format_postal_code(contract.postal_code)} {contract.address}  "
                f"{format_phone(contract.phone)}  ({contract.group.code}, {contract.grade}等級)"
            )
