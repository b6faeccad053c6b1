"""People who log in: members (会員) of MyPage and staff of agencies and the insurer."""

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from keizoku.core import ja


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """Staff created by ``create_staff`` or ``createsuperuser`` get the spelling members get
        (``ja.normalize_email``); raises ``ja.JaInputError`` (a ``ValueError``) on a bad one."""
        return ja.normalize_email(email or "")

    def _create_user(self, email: str, password: str | None, **extra: Any) -> "User":
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.update(is_staff=True, is_superuser=True, kind=User.Kind.STAFF)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """Logs in with the email address (the MyPage ID); no user name."""

    class Kind(models.TextChoices):
        MEMBER = "member", _("会員")
        STAFF = "staff", _("スタッフ")

    # Removing an inherited field is Django's documented way (None in the subclass); the stubs
    # type these fields as str on AbstractUser and cannot express the removal.
    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("メールアドレス"), unique=True)
    kind = models.CharField(_("種別"), max_length=8, choices=Kind, default=Kind.MEMBER)
    name = models.CharField(_("氏名"), max_length=50, blank=True)
    kana = models.CharField(_("フリガナ"), max_length=50, blank=True)
    # The member's language (「English / 日本語」): their pages, and their mails and PDF whoever
    # sends them (the worker, the reminders). Set at registration, changed by the switch.
    language = models.CharField(
        _("表示言語"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # Our manager takes the email, not a user name; the stubs declare AbstractUser.objects as
    # Django's UserManager (create_user(username, ...)), which this model cannot honour.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("利用者")
        verbose_name_plural = _("利用者")

    def __str__(self) -> str:
        return self.email


class PendingRegistration(models.Model):
    """A registration confirmed at step 3 (仮登録) and waiting for the link of the mail (本登録).

    Keeps the password hash chosen at step 2 and a hash of the one-time token; the member and
    the policy links are created only by the POST that completes it. Expired ones are purged.
    """

    email = models.EmailField()
    password_hash = models.CharField(max_length=255)
    name = models.CharField(max_length=50)
    kana = models.CharField(max_length=50)
    birth_date = models.DateField()
    postal_code = models.CharField(max_length=7)
    address = models.CharField(max_length=200)
    phone = models.CharField(max_length=16)
    contract_ids = models.JSONField(default=list)
    survey = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=8, default=settings.LANGUAGE_CODE)  # of the member
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"pending {self.email}"


class PolicyLink(models.Model):
    """A contract linked to a member's MyPage (at most 5 per member; one member per contract)."""

    member = models.ForeignKey(User, on_delete=models.CASCADE, related_name="policy_links")
    contract = models.OneToOneField(
        "contracts.Contract", on_delete=models.PROTECT, related_name="policy_link"
    )
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("契約の登録")
        verbose_name_plural = _("契約の登録")
        ordering = ["linked_at", "pk"]

    def __str__(self) -> str:
        return f"{self.member_id} → {self.contract_id}"


class KnownBrowser(models.Model):
    """A browser a member has logged in from (a signed cookie); a new one triggers a notice mail."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="known_browsers")
    browser_id = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=300, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "browser_id"], name="known_browser_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.browser_id[:8]}"
