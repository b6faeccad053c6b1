"""Writes for agencies, groups and contracts: the CSV imports (all-or-nothing per file)."""

import hashlib
import operator
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from .importing import CONTRACT_COLUMNS, GROUP_COLUMNS, ImportFileError, RowError, parse
from .models import Agency, Contract, ContractChange, Group, ImportBatch

BATCH_SIZE = 2000


@dataclass
class ImportResult:
    ok: bool
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    batch: ImportBatch | None = None

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


class Phase(StrEnum):
    """Where an import is, for a progress report: reading the file, checking it, writing."""

    PARSE = "parse"
    CHECK = "check"
    WRITE = "write"


# progress(phase, done, total): called between steps, never inside the write transaction.
Progress = Callable[[Phase, int, int], None]


def _no_progress(phase: Phase, done: int, total: int) -> None:
    pass


@contextmanager
def write_transaction() -> Iterator[None]:
    """The import's transaction, waiting at most ``IMPORT_LOCK_TIMEOUT`` seconds for a lock.

    A lock held elsewhere (a clerk editing a contract, another import; on SQLite, any writer)
    then ends the import with ``OperationalError`` instead of holding it, and the locks it
    already has, indefinitely; the caller retries later (``keizoku.backoffice.tasks``).
    """
    milliseconds = int(settings.IMPORT_LOCK_TIMEOUT * 1000)
    if connection.vendor == "sqlite":
        # The transaction's BEGIN IMMEDIATE waits the connection's busy timeout for the lock.
        default = int(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5) * 1000)
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")
        try:
            with transaction.atomic():
                yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {default}")
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{milliseconds}ms"])
        yield


def _today() -> date:
    return timezone.localdate()


def _refused(error: ImportFileError) -> ImportResult:
    return ImportResult(ok=False, errors=[RowError(0, "file", str(error))])


def groups_import(
    *,
    data: bytes,
    source: str,
    imported_by: str = "",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import groups.csv: agencies created or renamed, groups created or updated by group_code.

    Groups are the insurer's to import (no scope argument: the back office lets only the
    insurer's roles upload this file). ``dry_run`` counts without writing, with plain reads.
    """
    report = progress or _no_progress
    try:
        parsed = parse(
            data,
            GROUP_COLUMNS,
            key="group_code",
            today=_today(),
            progress=lambda done, total: report(Phase.PARSE, done, total),
        )
    except ImportFileError as error:
        return _refused(error)
    if parsed.errors:
        return ImportResult(ok=False, errors=parsed.errors)

    if dry_run:
        groups = {group.code: group for group in Group.objects.select_related("agency")}
        result = ImportResult(ok=True)
        for _row_number, row in parsed.rows:
            group = groups.get(row["group_code"])
            if group is None:
                result.created += 1
            elif _group_differs(group, row):
                result.updated += 1
            else:
                result.unchanged += 1
        return result

    report(Phase.WRITE, 0, 1)
    result = ImportResult(ok=True)
    with write_transaction():
        agencies = {agency.code: agency for agency in Agency.objects.select_for_update()}
        groups = {
            group.code: group
            for group in Group.objects.select_related("agency").select_for_update()
        }
        for _row_number, row in parsed.rows:
            agency = agencies.get(row["agency_code"])
            if agency is None:
                agency = Agency.objects.create(code=row["agency_code"], name=row["agency_name"])
                agencies[agency.code] = agency
            elif agency.name != row["agency_name"]:
                agency.name = row["agency_name"]
                agency.save(update_fields=["name", "updated_at"])
            values = _group_values(row, agency)
            group = groups.get(row["group_code"])
            if group is None:
                Group.objects.create(code=row["group_code"], **values)
                result.created += 1
            elif _group_differs(group, row):
                for name, value in values.items():
                    setattr(group, name, value)
                group.save()
                result.updated += 1
            else:
                result.unchanged += 1
        result.batch = _record_batch(ImportBatch.Kind.GROUPS, data, source, imported_by, result)
    return result


_GROUP_FIELDS = {
    "name": "group_name",
    "group_discount_percent": "group_discount_percent",
    "collection_discount_percent": "collection_discount_percent",
    "renewal_window_days": "renewal_window_days",
    "retiree_keeps_discount": "retiree_keeps_discount",
}


def _group_values(row: dict[str, Any], agency: Agency) -> dict[str, Any]:
    return {"agency": agency, **{name: row[column] for name, column in _GROUP_FIELDS.items()}}


def _group_differs(group: Group, row: dict[str, Any]) -> bool:
    """Whether the row changes the stored group (its agency, by code, included)."""
    return group.agency.code != row["agency_code"] or any(
        getattr(group, name) != row[column] for name, column in _GROUP_FIELDS.items()
    )


# Fields compared and written for a contract; everything of the CSV but the group code.
CONTRACT_FIELDS = [name for name in CONTRACT_COLUMNS if name != "group_code"] + [
    "group_id",
    "policy_key",
    "address_key",
]


def _contract_values(row: dict[str, Any], group_id: int) -> dict[str, Any]:
    values = dict(row)  # policy_key and address_key come from the parser
    del values["group_code"]
    values["group_id"] = group_id
    return values


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def contracts_import(
    *,
    data: bytes,
    source: str,
    imported_by: str = "",
    dry_run: bool = False,
    allowed_groups: Collection[str] | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import contracts.csv: contracts created or updated by policy number, changes kept.

    ``allowed_groups``: the group codes the importing person may write (an agency clerk: the
    agency's groups); ``None`` for all (the insurer's operators, the command line). A row naming
    another group, or the policy number of a contract in another group, refuses the whole file.
    The check runs on the rows parsed here, and again on the locked rows just before writing.

    ``dry_run`` validates and counts without writing and without a write transaction: plain
    reads of the stored contracts, so a large preview never blocks the database.
    """
    report = progress or _no_progress
    try:
        parsed = parse(
            data,
            CONTRACT_COLUMNS,
            key="policy_number",
            today=_today(),
            cross_rules=True,
            progress=lambda done, total: report(Phase.PARSE, done, total),
        )
    except ImportFileError as error:
        return _refused(error)
    report(Phase.CHECK, 0, 1)
    group_ids = dict(Group.objects.values_list("code", "id"))
    allowed_ids = (
        None if allowed_groups is None else {group_ids.get(code) for code in allowed_groups}
    )
    errors = list(parsed.errors)
    incoming: dict[str, dict[str, Any]] = {}
    row_numbers: dict[str, int] = {}
    for row_number, row in parsed.rows:
        group_id = group_ids.get(row["group_code"])
        if group_id is None:
            errors.append(RowError(row_number, "group_code", "登録されていない団体コードです"))
        elif allowed_ids is not None and group_id not in allowed_ids:
            errors.append(RowError(row_number, "group_code", "他の代理店の団体です"))
        else:
            values = _contract_values(row, group_id)
            incoming[values["policy_key"]] = values
            row_numbers[values["policy_key"]] = row_number
    if errors and not dry_run:
        return _refused_rows(errors)

    if dry_run:
        existing = _contracts_fetch(list(incoming), lock=False)
        errors += _foreign_rows(existing, row_numbers, allowed_ids)
        if errors:
            return _refused_rows(errors)
        plan = _contracts_plan(incoming, existing, now=timezone.now())
        return ImportResult(
            ok=True, created=len(plan.create), updated=len(plan.update), unchanged=plan.unchanged
        )

    report(Phase.WRITE, 0, 1)
    with write_transaction():
        existing = _contracts_fetch(list(incoming), lock=True)
        errors = _foreign_rows(existing, row_numbers, allowed_ids)
        if errors:
            return _refused_rows(errors)  # nothing written yet; the locks go with the rollback
        now = timezone.now()
        plan = _contracts_plan(incoming, existing, now=now)
        result = ImportResult(
            ok=True, created=len(plan.create), updated=len(plan.update), unchanged=plan.unchanged
        )
        batch = _record_batch(ImportBatch.Kind.CONTRACTS, data, source, imported_by, result)
        for change in plan.changes:
            change.batch = batch
            change.source = source
        _contracts_insert(plan.create, batch=batch, now=now)
        Contract.objects.bulk_update(
            plan.update, [*CONTRACT_FIELDS, "version", "updated_at"], batch_size=500
        )
        Contract.objects.bulk_update(plan.refresh, ["address_key"], batch_size=500)
        ContractChange.objects.bulk_create(plan.changes, batch_size=BATCH_SIZE)
        result.batch = batch
    return result


def _refused_rows(errors: list[RowError]) -> ImportResult:
    return ImportResult(ok=False, errors=sorted(errors, key=lambda e: (e.row, e.column)))


def _foreign_rows(
    existing: list[Contract], row_numbers: dict[str, int], allowed_ids: set[int | None] | None
) -> list[RowError]:
    """Rows whose policy number is a stored contract outside the allowed groups."""
    if allowed_ids is None:
        return []
    return [
        RowError(row_numbers[contract.policy_key], "policy_number", "他の代理店の契約です")
        for contract in existing
        if contract.group_id not in allowed_ids
    ]


@dataclass
class _Plan:
    create: list[dict[str, Any]] = field(default_factory=list)
    update: list[Contract] = field(default_factory=list)
    refresh: list[Contract] = field(default_factory=list)
    changes: list[ContractChange] = field(default_factory=list)
    unchanged: int = 0


def _contracts_plan(
    incoming: dict[str, dict[str, Any]], existing: list[Contract], *, now: datetime
) -> _Plan:
    """What the import would do to the stored contracts (the contracts are changed in memory)."""
    stored = {contract.policy_key: contract for contract in existing}
    plan = _Plan()
    for key, values in incoming.items():
        contract = stored.get(key)
        if contract is None:
            plan.create.append(values)
            continue
        diff = {
            name: [_jsonable(getattr(contract, name)), _jsonable(value)]
            for name, value in values.items()
            if name not in ("policy_key", "address_key") and getattr(contract, name) != value
        }
        if not diff:
            plan.unchanged += 1
            if contract.address_key != values["address_key"]:
                # Only the matching key differs (ja.normalize_address improved since):
                # refresh it, without a version or a history entry.
                contract.address_key = values["address_key"]
                plan.refresh.append(contract)
            continue
        for name, value in values.items():
            setattr(contract, name, value)
        contract.version += 1
        contract.updated_at = now
        plan.update.append(contract)
        plan.changes.append(ContractChange(contract=contract, changes=diff, at=now))
    return plan


def _contracts_fetch(keys: list[str], *, lock: bool) -> list[Contract]:
    """The stored contracts with these policy keys; with ``lock``, locked until the end of the
    transaction (the caller's)."""
    contracts = Contract.objects.select_for_update() if lock else Contract.objects.all()
    if connection.vendor == "postgresql":
        # One array parameter rather than chunks of IN (%s, …): 10⁵ placeholders are slow to
        # build and to parse, on the client as on the server.
        table = connection.ops.quote_name(Contract._meta.db_table)
        # The table name comes from the model, the keys go as a parameter.
        query = f"SELECT id FROM {table} WHERE policy_key = ANY(%s)"  # noqa: S608
        ids = RawSQL(query, [keys])  # noqa: S611
        return list(contracts.filter(pk__in=ids))
    found: list[Contract] = []
    for start in range(0, len(keys), BATCH_SIZE):
        found += contracts.filter(policy_key__in=keys[start : start + BATCH_SIZE])
    return found


def _contracts_insert(rows: list[dict[str, Any]], *, batch: ImportBatch, now) -> None:
    """Insert new contracts: COPY on PostgreSQL (a season's file is 10⁵ rows), bulk_create elsewhere."""
    if not rows:
        return
    extra = {"created_batch_id": batch.pk, "created_at": now, "updated_at": now}
    if connection.vendor != "postgresql":
        Contract.objects.bulk_create(
            [Contract(**values, **extra) for values in rows], batch_size=BATCH_SIZE
        )
        return
    fields = [field for field in Contract._meta.concrete_fields if not field.primary_key]
    defaults = {field.attname: field.get_default() for field in fields}
    defaults.update(extra)
    pick = operator.itemgetter(*(field.attname for field in fields))
    quoted = []
    for concrete in fields:
        assert concrete.column is not None  # a concrete field always has its column
        quoted.append(connection.ops.quote_name(concrete.column))
    columns = ", ".join(quoted)
    table = connection.ops.quote_name(Contract._meta.db_table)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for values in rows:
                copy.write_row(pick({**defaults, **values}))


def _record_batch(
    kind: str, data: bytes, source: str, imported_by: str, result: ImportResult
) -> ImportBatch:
    return ImportBatch.objects.create(
        kind=kind,
        source=source[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        imported_by=imported_by,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
    )
