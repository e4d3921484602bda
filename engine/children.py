"""Finding a child: by name (without diacritics or case, or part of it), personal ID, informant's phone or case
number; the child's name and age on work lists; other cases about the same child when a report comes in.

The case row keeps no name (`Case.child_key` counts children). Mẫu 01 is the one place a name is written, and
`record` keeps a `case_child` row (the name as written and folded: NFD, marks dropped, đ→d, lower case,
punctuation as spaces) and exact `case_search_key` rows whenever a case opens (a report, a reopening); a
transfer keeps the case, so its row. Folding happens here, in Python, on both databases: SQLite and
PostgreSQL match exactly the same names. On PostgreSQL a trigram index (pg_trgm, migration 0020) answers the
part-of-name search; `unaccent` is not needed since the stored column is folded already (and the query is
folded the same way).

Who sees what follows the sensitivity classes of the form data (engine.access.visible_classes): the name and age
are private (Decree 56 Art. 33), so a partner never sees them; the informant's phone is the informant class.
Results are limited to the cases the actor reads (`access.case_filter`). A search is audited (`case_search`:
who, which kind of query, how many cases) without the query text: a child's name or phone in the audit log
would copy private data into a record every auditor reads and that a destruction past retention cannot reach.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.orm import Session

from engine import access, audit, clock, worklists
from engine.errors import FieldErrors
from engine.models import Case, CaseChild, CaseSearchKey
from forms.kit import sensitivity

_NOT_WORD = re.compile(r"[^0-9a-z]+")
_DIGITS = re.compile(r"[^0-9]")
_PERSONAL_ID = re.compile(r"[0-9]{12}")
_PHONE = re.compile(r"\+?[0-9][0-9 .()\-]{7,19}")
MIN_NAME = 2  # shortest name query: a two-letter given name ("An", "Vy") is matched as a whole word
NAME_LIMIT = 200
# Duplicate candidates: at most this many, most recent first (a page, not a list of the commune's children).
CANDIDATE_LIMIT = 10


def fold(text: str | None) -> str:
    """A name as it is searched: NFD with its marks dropped, đ→d, lower case, anything but letters and digits a
    single space ("Nguyễn Thị  Hồng-Nhung" → "nguyen thi hong nhung")."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return _NOT_WORD.sub(" ", bare).strip()


def phone_key(text: str | None) -> str:
    """A Vietnamese phone number as compared: digits only, the country code +84/84 as the leading 0 ("+84
    912-345-678" → "0912345678"); "" for what is not one."""
    digits = _DIGITS.sub("", text or "")
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits if digits.startswith("0") and 10 <= len(digits) <= 11 else ""  # mobiles 10, landlines 11


def _birth(child: Mapping[str, Any], received: datetime) -> tuple[date | None, int | None]:
    born = child.get("date_of_birth")
    if born:
        day = born if isinstance(born, date) else date.fromisoformat(str(born)[:10])
        return day, day.year
    age = child.get("estimated_age")
    if isinstance(age, int):
        return None, clock.local(received).year - age
    return None, None


def row_values(mau_01: Mapping[str, Any], received: datetime) -> dict[str, Any]:
    """The `case_child` columns for a report (also used by migration 0020's backfill)."""
    child = mau_01.get("child") or {}
    name = unicodedata.normalize("NFC", str(child.get("full_name") or "")).strip()[:NAME_LIMIT]
    born, year = _birth(child, received)
    parents = [fold((child.get(who) or {}).get("name")) for who in ("father", "mother")]
    return {"full_name": name, "name_search": fold(name)[:NAME_LIMIT], "birth_date": born, "birth_year": year,
            "parents_search": "|".join(p for p in parents if p)[:500]}


def key_values(mau_01: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The exact keys of a report: (kind, value)."""
    keys = []
    child = mau_01.get("child") or {}
    if child.get("personal_id"):
        keys.append(("personal_id", str(child["personal_id"])))
    phone = phone_key((mau_01.get("informant") or {}).get("phone"))
    if phone:
        keys.append(("informant_phone", phone))
    return keys


def record(session: Session, case: Case, mau_01: Mapping[str, Any]) -> None:
    """Keep the search rows of `case` from its report (in the caller's transaction)."""
    values = {**row_values(mau_01, case.received_at), "commune_id": case.commune_id,
              "province_id": case.province_id, "received_at": case.received_at}
    row = session.get(CaseChild, case.id)
    if row is None:
        session.add(CaseChild(case_id=case.id, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.execute(delete(CaseSearchKey).where(CaseSearchKey.case_id == case.id))
    session.add_all(CaseSearchKey(case_id=case.id, kind=kind, value=value) for kind, value in key_values(mau_01))


def moved(session: Session, case: Case) -> None:
    """A transfer moved the case (engine.transfers): its search row follows, in the same transaction."""
    session.execute(update(CaseChild).where(CaseChild.case_id == case.id)
                    .values(commune_id=case.commune_id, province_id=case.province_id))


def forget(session: Session, case_id: int) -> None:
    """Destruction past retention (engine.retention): the name and keys go with the file's content."""
    session.execute(delete(CaseSearchKey).where(CaseSearchKey.case_id == case_id))
    session.execute(delete(CaseChild).where(CaseChild.case_id == case_id))


# -- the child on a work list --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChildLabel:
    name: str
    age: int | None  # completed years today (from the birth date), or the estimate at receipt carried forward
    estimated: bool  # the age rests on an estimate, not a date of birth



def current_age(case: Case, born: date | None, today: date | None = None) -> tuple[int | None, bool]:
    today = today or clock.local(clock.now()).date()
    if born is not None:
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day)), False
    if case.child_age is None:
        return None, True
    received = clock.local(case.received_at).date()
    years = today.year - received.year - ((today.month, today.day) < (received.month, received.day))
    return case.child_age + max(0, years), True


def may_see_child(actor: access.Actor | None) -> bool:
    """The name and age are the child's private items (Decree 56 Art. 33)."""
    return access.can_see_class(actor, sensitivity.PRIVATE)


def labels(session: Session, actor: access.Actor, cases: Iterable[Case]) -> dict[int, ChildLabel]:
    """The child of each listed case as `actor` may see it, by case id: one primary-key read for the page's
    cases (the list itself stays in its index order); empty for roles that may not see a child's name."""
    by_id = {case.id: case for case in cases}
    if not by_id or not may_see_child(actor):
        return {}
    rows = session.execute(select(CaseChild.case_id, CaseChild.full_name, CaseChild.birth_date)
                           .where(CaseChild.case_id.in_(by_id))).all()
    result = {}
    for case_id, name, born in rows:
        age, estimated = current_age(by_id[case_id], born)
        if name or age is not None:
            result[case_id] = ChildLabel(name, age, estimated)
    return result


# -- search ------------------------------------------------------------------------------------------------------

KINDS = ("name", "personal_id", "phone", "number")


def kind_of(query: str) -> str:
    """What a typed query is: a 12-digit personal ID, a phone number, a case number, else (part of) a name."""
    text = query.strip()
    compact = re.sub(r"[\s.]", "", text)
    if _PERSONAL_ID.fullmatch(compact):
        return "personal_id"
    if _PHONE.fullmatch(text) and phone_key(text):
        return "phone"
    if any(ch.isdigit() for ch in text) or not fold(text):  # names hold no digits; case numbers do ("0001")
        return "number"
    return "name"


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def name_condition(folded: str, column: Any = None) -> ColumnElement[bool]:
    """Every word of the query in the name, in any order; a word of two letters as a whole word (a trigram index
    finds nothing shorter than three letters inside a word), longer words anywhere ("nhung" in "hong nhung").
    `column`: what the name is read from (default the indexed column)."""
    name = CaseChild.name_search if column is None else column
    conditions = []
    for word in folded.split():
        if len(word) < 3:
            conditions.append(or_(name.like(f"% {_like(word)} %", escape="\\"),
                                  name.like(f"{_like(word)} %", escape="\\"),
                                  name.like(f"% {_like(word)}", escape="\\"), name == word))
        else:
            conditions.append(name.like(f"%{_like(word)}%", escape="\\"))
    return and_(*conditions)


def query_error(query: str) -> tuple[str, str] | None:
    """Why a query cannot be searched, (Vietnamese, English), or None."""
    if kind_of(query) == "name" and len(fold(query).replace(" ", "")) < MIN_NAME:
        return ("Nhập ít nhất 2 chữ cái của tên trẻ, hoặc số định danh, số điện thoại, số hồ sơ.",
                "Type at least 2 letters of the child's name, or a personal ID, a phone number, a case number.")
    return None


def search_query(actor: access.Actor, query: str) -> tuple[str, Any]:
    """(kind, the Case select matching `query` within the actor's cases): the conditions only; the caller
    adds its filters and order. A kind the actor may not search by (a partner's name search, a supervisor's
    search by informant phone) matches nothing."""
    kind = kind_of(query)
    base = select(Case).where(access.case_filter(actor))
    if kind == "number":
        return kind, base.where(Case.number.ilike(f"%{_like(query.strip())}%", escape="\\"))
    if kind == "personal_id":
        value = re.sub(r"[\s.]", "", query)
        if not may_see_child(actor):
            return kind, base.where(Case.id.is_(None))
        keys = select(CaseSearchKey.case_id).where(CaseSearchKey.kind == "personal_id", CaseSearchKey.value == value)
        return kind, base.where(Case.id.in_(keys))
    if kind == "phone":
        if not access.can_see_class(actor, sensitivity.INFORMANT):
            return kind, base.where(Case.id.is_(None))
        keys = select(CaseSearchKey.case_id).where(CaseSearchKey.kind == "informant_phone",
                                                   CaseSearchKey.value == phone_key(query))
        return kind, base.where(Case.id.in_(keys))
    return kind, select(Case).join(CaseChild, CaseChild.case_id == Case.id).where(*_name_where(actor, query))


def _name_where(actor: access.Actor, query: str) -> list[ColumnElement[bool]]:
    """A name search's conditions, all on the search row (intake points: and their own reports)."""
    folded = fold(query)[:NAME_LIMIT]
    if not may_see_child(actor) or not folded:
        return [CaseChild.case_id.is_(None)]
    # A commune holds hundreds of cases: reading them along its index and testing each name is cheaper than the
    # country's trigram matches for a common syllable, which PostgreSQL would otherwise combine with it. The
    # name is then read through an expression no index matches (`|| ''`); a province's or the country's search
    # keeps the trigram index. The scope is the search row's copy (access.case_child_filter): one table to read.
    column = CaseChild.name_search.concat("") if actor.commune_id is not None else None
    return [access.case_child_filter(actor), name_condition(folded, column)]


def record_search(session: Session, actor: access.Actor, kind: str, found: int, exact: bool, via: str) -> None:
    """The audit row of a search: who, the kind of query, how many cases it found — never the query itself
    (see the module docstring). Committed."""
    audit.append(session, actor.username, "case_search", None,
                 {"kind": kind, "found": found, "more": not exact, "role": actor.role, "via": via})
    session.commit()


def search(session: Session, actor: access.Actor, query: str, *, status: str = "", commune_id: int | None = None,
           page: int = 1, size: int = worklists.PAGE_SIZE, via: str = "web") -> tuple[str, worklists.Page]:
    """The cases of `actor` matching `query` (see `kind_of`), newest first, one page; audited.
    Raises FieldErrors for a query too short to search."""
    problem = query_error(query)
    if problem:
        raise FieldErrors({"q": problem})
    kind, select_ = search_query(actor, query)
    if status:
        select_ = select_.where(Case.status == status)
    if commune_id:
        select_ = select_.where(Case.commune_id == commune_id)
    # A name search is ordered by the search row's copy of the receipt (its own indexes), the others by the case's.
    order = ((CaseChild.received_at.desc(), CaseChild.case_id.desc()) if kind == "name"
             else (Case.received_at.desc(), Case.id.desc()))
    count = select_.with_only_columns(Case.id)
    if kind == "name" and actor.role in access.FILE_READERS and not status:
        # Counted on the search row alone (its scope is the case's copy): no case row read per match.
        count = select(CaseChild.case_id).where(*_name_where(actor, query))
        if commune_id:
            count = count.where(CaseChild.commune_id == commune_id)
    result = worklists.paged(session, select_.order_by(*order), count, page, size)
    record_search(session, actor, kind, result.total, result.exact, via)
    return kind, result


# -- possible duplicates at intake ---------------------------------------------------------------------------------

REASONS = ("birth", "parent", "commune")  # what besides the name matches (labels: web.labels.duplicate_reason)


@dataclass(frozen=True)
class Candidate:
    """An existing case about a child whose folded name matches the new report's, and what else matches."""

    case: Case
    reasons: tuple[str, ...]


def _report_communes(session: Session, mau_01: Mapping[str, Any], commune_id: int) -> set[int]:
    from engine.models import OrgUnit

    codes = [c for c in (mau_01.get("incident_commune"), mau_01.get("residence_commune")) if c]
    ids = {commune_id}
    if codes:
        ids |= set(session.scalars(select(OrgUnit.id).where(OrgUnit.code.in_(codes), OrgUnit.kind == "commune")))
    return ids


def candidates(session: Session, actor: access.Actor, mau_01: Mapping[str, Any], commune_id: int,
               received: datetime | None = None) -> list[Candidate]:
    """Cases that may be about the new report's child: the same name once folded, and the birth year within one
    year (a date of birth or an estimated age), a parent's name, or the commune. Looked for among the cases the
    actor reads and those of the report's communes (where the intake point records reports: it must see that the
    commune already has the child), most recent first; only a case's number, status, commune and date are shown."""
    values = row_values(mau_01, received or clock.now())
    if not values["name_search"]:
        return []  # an unnamed child cannot be matched
    communes = _report_communes(session, mau_01, commune_id)
    scope = or_(access.case_filter(actor), Case.commune_id.in_(communes), Case.incident_commune_id.in_(communes),
                Case.residence_commune_id.in_(communes))
    rows = session.execute(
        select(Case, CaseChild).join(CaseChild, CaseChild.case_id == Case.id)
        .where(CaseChild.name_search == values["name_search"], scope)
        .order_by(Case.received_at.desc(), Case.id.desc()).limit(CANDIDATE_LIMIT * 5)).all()
    parents = {p for p in values["parents_search"].split("|") if p}
    found = []
    for case, child in rows:
        reasons = []
        if values["birth_year"] is not None and child.birth_year is not None \
                and abs(values["birth_year"] - child.birth_year) <= 1:
            reasons.append("birth")
        if parents & {p for p in child.parents_search.split("|") if p}:
            reasons.append("parent")
        if {case.commune_id, case.incident_commune_id, case.residence_commune_id} & communes:
            reasons.append("commune")
        if reasons and not (values["birth_year"] is not None and child.birth_year is not None
                            and "birth" not in reasons and "parent" not in reasons):
            found.append(Candidate(case, tuple(reasons)))  # a birth year two or more apart: another child
    return found[:CANDIDATE_LIMIT]


def same_child(session: Session, actor: access.Actor, mau_01: Mapping[str, Any], commune_id: int,
               case_id: int) -> Case:
    """The case a new report is linked to as the same child: one of its candidates, or refused field by field."""
    for candidate in candidates(session, actor, mau_01, commune_id):
        if candidate.case.id == case_id:
            return candidate.case
    raise FieldErrors({"same_child_of": (
        "Hồ sơ này không phải là hồ sơ có thể cùng trẻ với báo cáo mới (tên, năm sinh, cha mẹ hoặc xã/phường "
        "không khớp).",
        "This case is not one the new report's child may be the same child of (name, birth year, parents or "
        "commune do not match).")})
