"""The English catalogue is complete and consistent: makemessages finds nothing untranslated,
fuzzy or stale; the placeholders match; the help site quotes the screens' own English labels;
the wizard's labels rebuilt from codes are the rating engine's own words in Japanese."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from keizoku.core.management.commands.messages import makemessages
from keizoku.help.content import faq_entries, help_pages

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
QUOTED = re.compile(r"[「【]([^」】]+)[」】]")


def _msgattrib(po: Path, *options: str) -> str:
    return subprocess.run(
        ["msgattrib", *options, str(po)], capture_output=True, text=True, check=True
    ).stdout


def test_makemessages_leaves_no_untranslated_fuzzy_or_stale_entry(tmp_path, settings):
    """Run on a copy of the sources, so the committed catalogue is compared, never changed."""
    tree = tmp_path / "tree"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "static", "*.png", "*.toml")
    for part in ("keizoku", "config"):
        shutil.copytree(Path(settings.BASE_DIR) / part, tree / part, ignore=skip)
    shutil.copytree(CATALOGUE.parents[2], tree / "locale")
    settings.LOCALE_PATHS = [tree / "locale"]
    makemessages(root=tree, verbosity=0)
    po = tree / "locale" / "en" / "LC_MESSAGES" / "django.po"
    untranslated = _msgattrib(po, "--untranslated", "--no-obsolete")
    fuzzy = _msgattrib(po, "--only-fuzzy", "--no-obsolete")
    stale = _msgattrib(po, "--only-obsolete")
    advice = "run `make messages`, then write the English of each entry in " + str(CATALOGUE)
    assert not untranslated, f"strings without English ({advice}):\n{untranslated}"
    assert not fuzzy, f"fuzzy entries: check their English and drop the flag ({advice}):\n{fuzzy}"
    assert not stale, f"entries no code uses any more ({advice}):\n{stale}"


def test_every_english_entry_keeps_the_placeholders_of_its_japanese():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(CATALOGUE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


def _quoted_labels_missing(japanese: str, english: str) -> list[tuple[str, str]]:
    """「ラベル」 quoted in a Japanese help text whose English label the English text lacks."""
    missing = []
    with translation.override("en"):
        for label in QUOTED.findall(japanese):
            shown = gettext(label)
            if shown != label and shown.strip().lower() not in english.lower():
                missing.append((label, shown))
    return missing


def test_the_english_faq_quotes_the_labels_of_the_english_screens():
    problems = {}
    for entry in faq_entries():
        missing = _quoted_labels_missing(entry.question, entry.question_en)
        missing += _quoted_labels_missing(entry.answer, entry.answer_en)
        if missing:
            problems[entry.id] = missing
    assert not problems, problems


def test_the_english_help_pages_quote_the_labels_of_the_english_screens():
    problems = {}
    for page in help_pages():
        for step in page.steps:
            japanese = f"{step.heading}\n{step.text}\n{step.alt}"
            english = f"{step.heading_en}\n{step.text_en}\n{step.alt_en}"
            missing = _quoted_labels_missing(japanese, english)
            if missing:
                problems[f"{page.slug} {step.label}"] = missing
    assert not problems, problems


@pytest.mark.django_db
def test_the_labels_shown_in_japanese_are_the_engines_own_words():
    """A stored quote keeps the engine's Japanese labels; the pages rebuild them from codes."""
    from keizoku.renewals import labels, pricing
    from tests.factories import make_contract, make_group

    group = make_group()
    contracts = [
        make_contract(group=group, policy_number="P-1"),
        make_contract(
            group=group,
            policy_number="P-2",
            vehicle_cover="economy",
            deductible="10-10",
            personal_injury="100000000",
            property_damage="30000000",
            riders="family_bike;road",
            paperless=True,
        ),
        make_contract(
            group=group,
            policy_number="P-3",
            vehicle_cover="none",
            vehicle_value=0,
            deductible="",
            riders="",
        ),
    ]
    with translation.override("ja"):
        for contract in contracts:
            for plan in ("same", "recommended"):
                quote = pricing.contract_quote(contract, plan=plan)
                shown = labels.quote_shown(quote, vehicle_value=contract.vehicle_value)
                assert shown["plan_label"] == quote["plan_label"]
                assert shown["payment_label"] == quote["payment_label"]
                for stored, rebuilt in zip(quote["lines"], shown["lines"], strict=True):
                    assert (rebuilt["label"], rebuilt["limit_label"]) == (
                        stored["label"],
                        stored["limit_label"],
                    )
                stored_parts = [part["label"] for part in quote["explanation"]["parts"]]
                shown_parts = [part["label"] for part in shown["explanation"]["parts"]]
                assert shown_parts == stored_parts


def test_the_engines_reasons_and_refusals_are_the_pages_words_in_japanese():
    from keizoku.rating import eligibility, plans
    from keizoku.renewals import labels

    with translation.override("ja"):
        for code, text in eligibility.TEXTS.items():
            expected = text.format(limit=eligibility.RETIREE_AGE_LIMIT)
            assert labels.reason_text({"code": code}) == expected
        for code, text in plans.ERRORS.items():
            assert labels.plan_error(code) == text


def test_the_english_reasons_and_refusals_are_english():
    from keizoku.rating import eligibility, plans
    from keizoku.renewals import labels

    with translation.override("en"):
        for code in eligibility.TEXTS:
            assert re.fullmatch(r"[ -~]+", labels.reason_text({"code": code})), code
        for code in plans.ERRORS:
            assert re.fullmatch(r"[ -~]+", labels.plan_error(code)), code
