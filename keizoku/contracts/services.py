"""Writes for agencies, groups and contracts: the CSV imports (all-or-nothing per file)."""

import hashlib
import operator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

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


def _today() -> date:
    return timezone.localdate()


def _refused(error: ImportFileError) -> ImportResult:
    return ImportResult(ok=False, errors=[RowError(0, "file", str(error))])


def groups_import(
    *, data: bytes, source: str, imported_by: str = "", dry_run: bool = False
) -> ImportResult:
    """Import groups.csv: agencies created or renamed, groups created or updated by group_code."""
    try:
        parsed = parse(data, GROUP_COLUMNS, key="group_code", today=_today())
    except ImportFileError as error:
        return _refused(error)
    if parsed.errors:
        return ImportResult(ok=False, errors=parsed.errors)

    result = ImportResult(ok=True)
    with transaction.atomic():
        agencies = {agency.code: agency for agency in Agency.objects.select_for_update()}
        groups = {group.code: group for group in Group.objects.select_for_update()}
        for _row_number, row in parsed.rows:
            agency = agencies.get(row["agency_code"])
            if agency is None:
                agency = Agency.objects.create(code=row["agency_code"], name=row["agency_name"])
                agencies[agency.code] = agency
            elif agency.name != row["agency_name"]:
                agency.name = row["agency_name"]
                agency.save(update_fields=["name", "updated_at"])
            values = {
                "agency": agency,
                "name": row["group_name"],
                "group_discount_percent": row["group_discount_percent"],
                "collection_discount_percent": row["collection_discount_percent"],
                "renewal_window_days": row["renewal_window_days"],
                "retiree_keeps_discount": row["retiree_keeps_discount"],
            }
            group = groups.get(row["group_code"])
            if group is None:
                Group.objects.create(code=row["group_code"], **values)
                result.created += 1
            elif any(getattr(group, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(group, name, value)
                group.save()
                result.updated += 1
            else:
                result.unchanged += 1
        result.batch = _record_batch(ImportBatch.Kind.GROUPS, data, source, imported_by, result)
        if dry_run:
            transaction.set_rollback(True)
    return result


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
    *, data: bytes, source: str, imported_by: str = "", dry_run: bool = False
) -> ImportResult:
    """Import contracts.csv: contracts created or updated by policy number, changes kept."""
    try:
        parsed = parse(
            data,
            CONTRACT_COLUMNS,
            key="policy_number",
            today=_today(),
            cross_rules=True,
        )
    except ImportFileError as error:
        return _refused(error)
    group_ids = dict(Group.objects.values_list("code", "id"))
    errors = list(parsed.errors)
    for row_number, row in parsed.rows:
        if row["group_code"] not in group_ids:
            errors.append(RowError(row_number, "group_code", "登録されていない団体コードです"))
    if errors:
        return ImportResult(ok=False, errors=sorted(errors, key=lambda e: (e.row, e.column)))

    result = ImportResult(ok=True)
    with transaction.atomic():
        batch = _record_batch(ImportBatch.Kind.CONTRACTS, data, source, imported_by, result)
        incoming = {}
        for _row_number, row in parsed.rows:
            values = _contract_values(row, group_ids[row["group_code"]])
            incoming[values["policy_key"]] = values
        existing = {contract.policy_key: contract for contract in _contracts_locked(list(incoming))}

        now = timezone.now()
        to_create, to_update, to_refresh, changes = [], [], [], []
        for key, values in incoming.items():
            contract = existing.get(key)
            if contract is None:
                to_create.append(values)
                continue
            diff = {
                name: [_jsonable(getattr(contract, name)), _jsonable(value)]
                for name, value in values.items()
                if name not in ("policy_key", "address_key") and getattr(contract, name) != value
            }
            if not diff:
                result.unchanged += 1
                if contract.address_key != values["address_key"]:
                    # Only the matching key differs (ja.normalize_address improved since):
                    # refresh it, without a version or a history entry.
                    contract.address_key = values["address_key"]
                    to_refresh.append(contract)
                continue
            for name, value in values.items():
                setattr(contract, name, value)
            contract.version += 1
            contract.updated_at = now
            to_update.append(contract)
            changes.append(
                ContractChange(contract=contract, batch=batch, source=source, changes=diff, at=now)
            )
        _contracts_insert(to_create, batch=batch, now=now)
        Contract.objects.bulk_update(
            to_update, [*CONTRACT_FIELDS, "version", "updated_at"], batch_size=500
        )
        Contract.objects.bulk_update(to_refresh, ["address_key"], batch_size=500)
        ContractChange.objects.bulk_create(changes, batch_size=BATCH_SIZE)
        result.created, result.updated = len(to_create), len(to_update)
        batch.created, batch.updated, batch.unchanged = (
            result.created,
            result.updated,
            result.unchanged,
        )
        batch.save(update_fields=["created", "updated", "unchanged"])
        result.batch = batch
        if dry_run:
            transaction.set_rollback(True)
    return result


def _contracts_locked(keys: list[str]) -> list[Contract]:
    """The stored contracts with these policy keys, locked until the end of the transaction."""
    contracts = Contract.objects.select_for_update()
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
