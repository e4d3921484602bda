"""The registry of legal forms: form name (+ version) -> schema, and the public API.

Every version ever registered stays registered: a case stores the version its data was validated
with, and that data must still validate, describe and render under that version after a corrected
layout (a new version) is published. ``get(name)`` gives the newest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from forms.kit import messages
from forms.kit.description import describe_schema, instance, render_data
from forms.kit.fields import VN_TZ, validating_at
from forms.kit.json_schema import schema_to_json_schema
from forms.kit.schema import FormSchema


class UnknownForm(KeyError):
    """No form (or no such version of it) is registered under this name."""

    def __init__(self, name: str, version: int | None = None) -> None:
        self.name = name
        self.version = version
        super().__init__(name if version is None else f"{name} v{version}")

    def __str__(self) -> str:
        which = repr(self.name) if self.version is None else f"{self.name!r} version {self.version}"
        return f"unknown form {which}"


class FormError(Exception):
    """The submitted data is not valid for the form.

    ``errors``: messages in the requested language keyed by field, nested for groups of fields and
    list items (list indexes as strings, so it is JSON); form-level messages under ``"_schema"``.
    ``codes``: the same tree with stable message codes (``"required"``, ``"too_long|max=255"``)."""

    def __init__(self, errors: dict[str, Any], *, codes: dict[str, Any] | None = None,
                 form: str | None = None, version: int | None = None, locale: str = "vi") -> None:
        self.errors = errors
        self.codes = codes if codes is not None else {}
        self.form = form
        self.version = version
        self.locale = locale
        # Field names only, never values: this text may reach logs and must carry no child data.
        super().__init__(f"form {form} v{version}: invalid fields: {', '.join(_paths(errors)) or '-'}")


def _paths(tree: Any, prefix: str = "") -> list[str]:
    if not isinstance(tree, dict):
        return [prefix]
    paths: list[str] = []
    for key, value in tree.items():
        paths.extend(_paths(value, f"{prefix}.{key}" if prefix else str(key)))
    return paths


@dataclass(frozen=True)
class FormSpec:
    name: str
    version: int
    title_vi: str
    title_en: str
    article: str
    provisional: bool
    schema: type[FormSchema]

    def title(self, locale: str = "vi") -> str:
        return self.title_en if messages.normalize_locale(locale) == "en" else self.title_vi


_forms: dict[str, dict[int, FormSpec]] = {}


def register(schema: type[FormSchema], *, replace: bool = False) -> type[FormSchema]:
    """Register a form schema (usable as a class decorator). Its ``Meta`` gives name and version."""
    opts = schema.opts
    if not opts.name or not isinstance(opts.version, int) or opts.version < 1:
        raise ValueError(f"{schema.__name__}: Meta needs a name and a version >= 1")
    versions = _forms.setdefault(opts.name, {})
    if opts.version in versions and not replace:
        raise ValueError(f"form {opts.name} v{opts.version} is already registered")
    versions[opts.version] = FormSpec(
        name=opts.name, version=opts.version, title_vi=opts.title_vi, title_en=opts.title_en,
        article=opts.article, provisional=bool(opts.provisional), schema=schema,
    )
    return schema


def unregister(name: str, version: int) -> None:
    """Remove one version (for tests; production keeps every version so old data renders)."""
    versions = _forms.get(name, {})
    versions.pop(version, None)
    if not versions:
        _forms.pop(name, None)


def names() -> list[str]:
    return sorted(_forms)


def versions(name: str) -> list[int]:
    if name not in _forms:
        raise UnknownForm(name)
    return sorted(_forms[name])


def get(name: str, version: int | None = None) -> FormSpec:
    try:
        by_version = _forms[name]
    except (KeyError, TypeError):
        raise UnknownForm(str(name)) from None
    if version is None:
        return by_version[max(by_version)]
    try:
        return by_version[version]
    except (KeyError, TypeError):
        raise UnknownForm(name, version) from None


def validate(name: str, data: dict[str, Any], *, version: int | None = None, locale: str = "vi",
             now: dt.datetime | None = None) -> dict[str, Any]:
    """Validate ``data`` against the form; return the clean, JSON-native data or raise ``FormError``.

    ``now`` (aware) is the moment "no date in the future" compares with; default: the real now."""
    spec = get(name, version)
    schema = instance(spec.schema)
    with validating_at(now if now is not None else dt.datetime.now(VN_TZ)):
        try:
            loaded = schema.load(data)
        except ValidationError as error:
            tree = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
            raise FormError(
                messages.translate_tree(tree, locale), codes=messages.codes_tree(tree),
                form=spec.name, version=spec.version, locale=messages.normalize_locale(locale),
            ) from None
    return schema.dump(loaded)


def describe(name: str, version: int | None = None, locale: str = "vi") -> dict[str, Any]:
    """The form and its ordered fields (labels, help, types, choices …) for the web renderer."""
    spec = get(name, version)
    return {
        "name": spec.name,
        "version": spec.version,
        "title": spec.title(locale),
        "article": spec.article,
        "provisional": spec.provisional,
        "fields": describe_schema(spec.schema, locale),
    }


def json_schema(name: str, version: int | None = None, locale: str = "vi") -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the clean data of the form, for the API."""
    spec = get(name, version)
    return schema_to_json_schema(spec, locale)


def render(name: str, data: dict[str, Any], version: int | None = None,
           locale: str = "vi") -> dict[str, Any]:
    """Stored data paired with the labels of the version it was stored under, for display and the
    dossier: ``describe()`` whose fields carry ``value`` and ``display`` (dates as dd/mm/yyyy, codes
    as labels). Never raises on odd stored data; keys the form does not know go to ``extra``."""
    result = describe(name, version, locale)
    fields, extra = render_data(get(name, version).schema, data, locale)
    result["fields"] = fields
    result["extra"] = extra
    return result
