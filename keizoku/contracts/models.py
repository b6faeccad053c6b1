"""Agencies, groups (団体) and the expiring contracts (契約) imported from the agency's CSV files."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Agency(models.Model):
    """An insurance agency (代理店) that administers group schemes; its site is /agency/<code>/."""

    code = models.CharField(_("代理店コード"), max_length=16, unique=True)
    name = models.CharField(_("代理店名"), max_length=100)
    contact_phone = models.CharField(_("お問い合わせ電話番号"), max_length=20, blank=True)
    contact_hours = models.CharField(_("受付時間"), max_length=100, blank=True)
    contact_email = models.EmailField(_("お問い合わせメールアドレス"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("代理店")
        verbose_name_plural = _("代理店")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Group(models.Model):
    """An employer group (団体) whose members hold group-type policies (団体扱)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="groups")
    code = models.CharField(_("団体コード"), max_length=16, unique=True)
    name = models.CharField(_("団体名"), max_length=100)
    group_discount_percent = models.DecimalField(  # 団体割引
        _("団体割引（%）"), max_digits=3, decimal_places=1
    )
    collection_discount_percent = models.DecimalField(  # 団体扱 集金割引
        _("団体扱割引（%）"), max_digits=3, decimal_places=1, default=0
    )
    renewal_window_days = models.PositiveSmallIntegerField(
        _("WEB更改受付開始（満期日の何日前）"), default=60
    )
    retiree_keeps_discount = models.BooleanField(_("退職者の団体割引継続"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("団体")
        verbose_name_plural = _("団体")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(group_discount_percent__gte=0, group_discount_percent__lte=50),
                name="group_discount_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    collection_discount_percent__gte=0, collection_discount_percent__lte=10
                ),
                name="group_collection_discount_range",
            ),
            models.CheckConstraint(
                condition=Q(renewal_window_days__gte=1, renewal_window_days__lte=120),
                name="group_renewal_window_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class MemberType(models.TextChoices):
    EMPLOYEE = "employee", _("従業員")
    RETIREE = "retiree", _("退職者")


class AgeCondition(models.TextChoices):  # 運転者年齢条件
    ALL = "all", _("全年齢補償")
    OVER_21 = "21", _("21歳以上補償")
    OVER_26 = "26", _("26歳以上補償")
    OVER_35 = "35", _("35歳以上補償")


class DriverScope(models.TextChoices):  # 運転者限定
    ANY = "any", _("限定なし")
    SELF_SPOUSE = "self_spouse", _("本人・配偶者限定")
    SELF = "self", _("本人限定")


class VehicleUsage(models.TextChoices):  # 使用目的
    LEISURE = "leisure", _("日常・レジャー")
    COMMUTE = "commute", _("通勤・通学")
    BUSINESS = "business", _("業務")


class VehicleUseClass(models.TextChoices):  # 用途・車種
    FUTSU = "futsu", _("自家用普通乗用車")
    KOGATA = "kogata", _("自家用小型乗用車")
    KEI = "kei", _("自家用軽四輪乗用車")


class VehicleCover(models.TextChoices):  # 車両保険
    NONE = "none", _("車両保険なし")
    GENERAL = "general", _("一般条件")
    ECONOMY = "economy", _("車対車＋A（エコノミー）")


class Deductible(models.TextChoices):  # 免責金額
    D0_10 = "0-10", _("1回目0万円・2回目以降10万円")
    D5_10 = "5-10", _("1回目5万円・2回目以降10万円")
    D10_10 = "10-10", _("1回目10万円・2回目以降10万円")


class PersonalInjury(models.TextChoices):  # 人身傷害
    M30 = "30000000", _("3,000万円")
    M50 = "50000000", _("5,000万円")
    M100 = "100000000", _("1億円")
    UNLIMITED = "unlimited", _("無制限")


class PropertyDamage(models.TextChoices):  # 対物賠償: the limits offered on the web
    UNLIMITED = "unlimited", _("無制限")
    M50 = "50000000", _("5,000万円")
    M30 = "30000000", _("3,000万円")


class Rider(models.TextChoices):  # 特約
    LEGAL = "legal", _("弁護士費用特約")
    LIABILITY = "liability", _("個人賠償責任特約")
    FAMILY_BIKE = "family_bike", _("ファミリーバイク特約")
    ROAD = "road", _("ロードアシスタンス特約")


class Contract(models.Model):
    """An expiring policy (one vehicle) as imported; a renewal never edits it in place."""

    policy_number = models.CharField(_("証券番号"), max_length=20)
    # The policy number without hyphens or spaces, upper case: what matching compares.
    policy_key = models.CharField(max_length=20, unique=True, editable=False)
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="contracts")

    holder_name = models.CharField(_("契約者氏名"), max_length=50)
    holder_kana = models.CharField(_("フリガナ"), max_length=50)
    birth_date = models.DateField(_("生年月日"))
    postal_code = models.CharField(_("郵便番号"), max_length=7)  # at contract time
    address = models.CharField(_("住所"), max_length=200)  # at contract time
    address_key = models.CharField(max_length=400, editable=False)  # ja.normalize_address
    phone = models.CharField(_("電話番号"), max_length=16)  # E.164, at contract time
    email = models.EmailField(_("メールアドレス"), blank=True)
    member_type = models.CharField(_("区分"), max_length=8, choices=MemberType)

    period_start = models.DateField(_("保険期間（始期）"))
    period_end = models.DateField(_("保険期間（満期）"))
    grade = models.PositiveSmallIntegerField(  # ノンフリート等級
        _("等級"), validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    coef_period = models.PositiveSmallIntegerField(  # 事故有係数適用期間
        _("事故有係数適用期間"), validators=[MaxValueValidator(6)]
    )
    claims_3down = models.PositiveSmallIntegerField(_("3等級ダウン事故件数"), default=0)
    claims_1down = models.PositiveSmallIntegerField(_("1等級ダウン事故件数"), default=0)
    claims_nocount = models.PositiveSmallIntegerField(_("ノーカウント事故件数"), default=0)
    open_claim = models.BooleanField(_("未解決の事故"), default=False)
    midterm_change_pending = models.BooleanField(_("中途変更手続き中"), default=False)

    age_condition = models.CharField(_("運転者年齢条件"), max_length=3, choices=AgeCondition)
    driver_scope = models.CharField(_("運転者限定"), max_length=12, choices=DriverScope)
    use = models.CharField(_("使用目的"), max_length=8, choices=VehicleUsage)
    gold_license = models.BooleanField(_("ゴールド免許"))
    vehicle_use_class = models.CharField(_("用途・車種"), max_length=6, choices=VehicleUseClass)
    vehicle_model = models.CharField(_("車名・型式"), max_length=50)
    vehicle_plate = models.CharField(_("登録番号"), max_length=30)
    first_registration = models.DateField(_("初度登録年月"))  # the 1st of the month
    model_launch = models.DateField(_("型式発売年月"))  # the 1st of the month
    asv = models.BooleanField(_("自動ブレーキ（AEB）"))
    class_bi = models.PositiveSmallIntegerField(_("料率クラス（対人）"))
    class_pd = models.PositiveSmallIntegerField(_("料率クラス（対物）"))
    class_pi = models.PositiveSmallIntegerField(_("料率クラス（人身傷害）"))
    class_vh = models.PositiveSmallIntegerField(_("料率クラス（車両）"))

    vehicle_cover = models.CharField(_("車両保険"), max_length=8, choices=VehicleCover)
    vehicle_value = models.PositiveIntegerField(_("車両保険金額"), default=0)
    deductible = models.CharField(_("免責金額"), max_length=5, choices=Deductible, blank=True)
    personal_injury = models.CharField(_("人身傷害"), max_length=10, choices=PersonalInjury)
    property_damage = models.CharField(_("対物賠償"), max_length=12)  # "unlimited" or yen
    riders = models.CharField(_("特約"), max_length=60, blank=True)  # codes joined by ";"
    paperless = models.BooleanField(_("Web証券"))
    annual_premium = models.PositiveIntegerField(_("年間保険料"))

    created_batch = models.ForeignKey(
        "ImportBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(
        default=1
    )  # bumped by every change; guards concurrent edits
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("契約")
        verbose_name_plural = _("契約")
        ordering = ["policy_number"]
        indexes = [models.Index(fields=["group", "period_end"])]
        constraints = [
            models.CheckConstraint(condition=Q(grade__gte=1, grade__lte=20), name="contract_grade"),
            models.CheckConstraint(condition=Q(coef_period__lte=6), name="contract_coef_period"),
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")), name="contract_period"
            ),
            models.CheckConstraint(
                condition=Q(vehicle_cover="none", vehicle_value=0, deductible="")
                | (~Q(vehicle_cover="none") & Q(vehicle_value__gt=0) & ~Q(deductible="")),
                name="contract_vehicle_cover",
            ),
        ]

    def __str__(self) -> str:
        return self.policy_number

    @property
    def rider_codes(self) -> list[str]:
        return [code for code in self.riders.split(";") if code]

    @property
    def rider_labels(self) -> list[str]:
        return [str(Rider(code).label) for code in self.rider_codes]


class ImportBatch(models.Model):
    """One run of an importer: which file, by whom, and what it changed."""

    class Kind(models.TextChoices):
        GROUPS = "groups", _("団体")
        CONTRACTS = "contracts", _("契約")

    kind = models.CharField(max_length=10, choices=Kind)
    source = models.CharField(_("ファイル名"), max_length=255)
    sha256 = models.CharField(max_length=64)
    imported_by = models.CharField(max_length=150, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("取込履歴")
        verbose_name_plural = _("取込履歴")


class ContractChange(models.Model):
    """A change of a contract by a later import (or by staff): field → [before, after]."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="changes")
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, null=True, blank=True)
    source = models.CharField(max_length=255)
    changes = models.JSONField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("契約変更履歴")
        verbose_name_plural = _("契約変更履歴")
        ordering = ["contract", "at", "pk"]
