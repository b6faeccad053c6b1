"""Test data shared by every app's tests: factories with sensible defaults (no mocks of our own code).

Test support, not part of the application: it lives beside the tests, so ``keizoku`` does not ship
it (issue 13). Processes a test starts (worker, servers): ``tests.processes``.
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from keizoku.contracts.models import Agency, Contract, Group
from keizoku.core import ja


def make_agency(**fields: Any) -> Agency:
    values = {
        "code": "TEST",
        "name": "テスト保険サービス",
        "contact_phone": "0120-111-222",
        "contact_hours": "平日 9:00〜17:00",
    }
    values.update(fields)
    return Agency.objects.create(**values)


def make_group(agency: Agency | None = None, **fields: Any) -> Group:
    values = {
        "code": "GRP-1",
        "name": "株式会社テスト",
        "group_discount_percent": Decimal("20"),
        "collection_discount_percent": Decimal("5"),
        "renewal_window_days": 60,
        "retiree_keeps_discount": True,
    }
    values.update(fields)
    return Group.objects.create(agency=agency or make_agency(), **values)


def contract_values(**overrides: Any) -> dict[str, Any]:
    """Every field of a valid contract, expiring 30 days from today (JST)."""
    end = timezone.localdate() + timedelta(days=30)
    values: dict[str, Any] = {
        "policy_number": "P-0001",
        "holder_name": "継続 太郎",
        "holder_kana": "ケイゾク タロウ",
        "birth_date": date(1980, 4, 1),
        "postal_code": "1000005",
        "address": "東京都千代田区丸の内一丁目2番3号",
        "phone": "+81312345678",
        "email": "taro@example.jp",
        "member_type": "employee",
        "period_start": end.replace(year=end.year - 1),
        "period_end": end,
        "grade": 13,
        "coef_period": 0,
        "claims_3down": 0,
        "claims_1down": 0,
        "claims_nocount": 0,
        "open_claim": False,
        "age_condition": "35",
        "driver_scope": "self_spouse",
        "use": "commute",
        "gold_license": True,
        "vehicle_use_class": "futsu",
        "vehicle_model": "トヨタ プリウス ZVW60",
        "vehicle_plate": "品川 300 あ 1234",
        "first_registration": date(2022, 4, 1),
        "model_launch": date(2021, 1, 1),
        "asv": True,
        "class_bi": 5,
        "class_pd": 6,
        "class_pi": 4,
        "class_vh": 7,
        "vehicle_cover": "general",
        "vehicle_value": 2_000_000,
        "deductible": "5-10",
        "personal_injury": "50000000",
        "property_damage": "unlimited",
        "riders": "legal;liability",
        "paperless": False,
        "annual_premium": 71_720,
    }
    values.update(overrides)
    return values


def make_contract(group: Group | None = None, **overrides: Any) -> Contract:
    values = contract_values(**overrides)
    values["policy_key"] = ja.normalize_policy_number(values["policy_number"])
    values["address_key"] = ja.normalize_address(values["address"])
    return Contract.objects.create(group=group or make_group(), **values)


def make_member(
    email: str = "member@example.jp",
    password: str = "x9Lq2!zz",
    **fields: Any,
):
    """A registered MyPage member (verified address, as registration leaves it), no policy yet."""
    from allauth.account.models import EmailAddress

    from keizoku.accounts.models import User

    fields.setdefault("name", "継続 太郎")
    user = User.objects.create_user(email=email, password=password, **fields)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user
