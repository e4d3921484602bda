"""Sensitivity classes of form fields (Law 91/2025/QH15, Decree 356/2025/NĐ-CP; Decree 56/2017 Art. 24, 33).

Every field of every form has a class, and redaction, API field filtering, exports and the dossier are driven by
the classes — never by lists of field names:

basic      what the case is and where it stands: codes, dates, ratings, yes/no answers (every reader of the file)
private    the child's private items of Decree 56 Art. 33: name, age, address, school, family, phone …
sensitive  sensitive data of Decree 356 Art. 4 (private and family life, health, crime); EVERY FREE TEXT by
           default, since anything can be typed in it — an officer may mark one text releasable (engine.releases)
informant  who reported (Decree 56 Art. 24.1, 25): only those handling or inspecting the report

Declare a class with ``sensitivity=`` on a field (``f.string(..., sensitivity=PRIVATE)``) or on a group of
fields (``f.obj(Child, ..., sensitivity=PRIVATE)``): the classes of a group apply to everything in it. Without a
declaration a free-text field (a string with no fixed format) is SENSITIVE, a phone number PRIVATE, anything
else BASIC. A field's classes are a set: a free text about the child ({sensitive, private}) is shown only to
those who may see both. Who may see which class is decided in engine/access.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema
from marshmallow import fields as ma_fields

from forms.kit.description import instance, nested_schema
from forms.kit.fields import ObjectList, String

BASIC, PRIVATE, SENSITIVE, INFORMANT = "basic", "private", "sensitive", "informant"
CLASSES = (BASIC, PRIVATE, SENSITIVE, INFORMANT)
# What a withheld value is replaced with, in API answers, pages and every copy of the dossier.
WITHHELD = "[đã ẩn]"

Path = tuple[str | int, ...]


def path_text(path: Path) -> str:
    """``("activities", 0, "content")`` → ``"activities.0.content"`` (how a release names its field)."""
    return ".".join(str(part) for part in path)


def declared(fld: ma_fields.Field) -> frozenset[str] | None:
    value = fld.metadata.get("sensitivity")
    if value is None:
        return None
    return frozenset((value,) if isinstance(value, str) else value)


def is_free_text(fld: ma_fields.Field) -> bool:
    """A string with no fixed format: anything can be typed in it (names of the informant included)."""
    return isinstance(fld, String) and fld.pattern is None


def own_classes(fld: ma_fields.Field) -> frozenset[str]:
    explicit = declared(fld)
    if explicit is not None:
        return explicit - {BASIC}
    if fld.metadata.get("format") == "phone":
        return frozenset({PRIVATE})
    if is_free_text(fld):
        return frozenset({SENSITIVE})
    return frozenset()


def classes_of(fld: ma_fields.Field, inherited: AbstractSet[str] = frozenset()) -> frozenset[str]:
    """The classes of a value field inside groups whose classes are `inherited` (never empty: BASIC at least)."""
    return frozenset(own_classes(fld) | inherited) or frozenset({BASIC})


def check_declaration(value: Any) -> Any:
    """Refuse unknown class names when a form is declared (a typo must not make a field basic)."""
    names = (value,) if isinstance(value, str) else tuple(value)
    unknown = [name for name in names if name not in CLASSES]
    if unknown or not names:
        raise ValueError(f"unknown sensitivity class {unknown or value!r}; choose from {CLASSES}")
    return value if isinstance(value, str) else tuple(names)


@dataclass(frozen=True)
class Leaf:
    """A value field of a form: its path (list levels as "*"), the field and its classes."""

    path: tuple[str, ...]
    field: ma_fields.Field
    classes: frozenset[str]

    @property
    def free_text(self) -> bool:
        return is_free_text(self.field)


def leaves(schema: type[Schema], prefix: tuple[str, ...] = (),
           inherited: frozenset[str] = frozenset()) -> Iterator[Leaf]:
    """Every value field of a form, groups and lists walked (a list's items under "*")."""
    for name, fld in instance(schema).fields.items():
        nested = nested_schema(fld)
        if nested is not None:
            group = inherited | own_classes(fld)
            step = (name, "*") if isinstance(fld, ObjectList) else (name,)
            yield from leaves(nested, prefix + step, group)
        else:
            yield Leaf(prefix + (name,), fld, classes_of(fld, inherited))


def resolve(schema: type[Schema], path: Path) -> Leaf | None:
    """The value field a concrete path (list indexes as numbers) names, or None."""
    pattern = tuple("*" if isinstance(part, int) or str(part).isdigit() else str(part) for part in path)
    return next((leaf for leaf in leaves(schema) if leaf.path == pattern), None)


def digest(value: Any) -> str:
    """What a release is bound to: the SHA-256 of the text as stored."""
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


@dataclass
class Filtered:
    """Form data as one reader may see it: `data`, and the paths withheld and shown by a release."""

    data: dict[str, Any]
    withheld: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)


def filter_data(schema: type[Schema] | None, data: Mapping[str, Any], visible: AbstractSet[str],
                released: Callable[[str, Any], bool] = lambda path, value: False) -> Filtered:
    """`data` with every non-empty value whose classes are not all in `visible` replaced by WITHHELD.

    A free text withheld only for being SENSITIVE is shown when `released(path, value)` says an officer marked
    that very text releasable. Keys the form (version) does not know are treated as free text. Empty values stay
    as they are: they tell nothing."""
    out = Filtered({})
    out.data = _walk(schema, data, visible, released, (), frozenset(), out)
    return out


def _walk(schema: type[Schema] | None, data: Mapping[str, Any], visible: AbstractSet[str],
          released: Callable[[str, Any], bool], prefix: Path, inherited: frozenset[str],
          out: Filtered) -> dict[str, Any]:
    fields = instance(schema).fields if schema is not None else {}
    result: dict[str, Any] = {}
    for key, value in data.items():
        path = prefix + (key,)
        fld = fields.get(key)
        nested = nested_schema(fld) if fld is not None else None
        if fld is not None and nested is not None:
            group = inherited | own_classes(fld)
            if isinstance(fld, ObjectList) and isinstance(value, list):
                result[key] = [_walk(nested, item, visible, released, path + (i,), group, out)
                               if isinstance(item, Mapping) else _leaf(None, item, path + (i,), group, visible,
                                                                        released, out)
                               for i, item in enumerate(value)]
                continue
            if isinstance(value, Mapping):
                result[key] = _walk(nested, value, visible, released, path, group, out)
                continue
            fld = None  # odd stored shape: judged as free text
        result[key] = _leaf(fld, value, path, inherited, visible, released, out)
    return result


def _leaf(fld: ma_fields.Field | None, value: Any, path: Path, inherited: frozenset[str],
          visible: AbstractSet[str], released: Callable[[str, Any], bool], out: Filtered) -> Any:
    classes = classes_of(fld, inherited) if fld is not None else frozenset(inherited | {SENSITIVE})
    if _blank(value) or classes <= visible:
        return value
    name = path_text(path)
    if (SENSITIVE in classes and (classes - {SENSITIVE}) <= visible | {BASIC} and isinstance(value, str)
            and released(name, value)):
        out.released.append(name)
        return value
    out.withheld.append(name)
    return WITHHELD
