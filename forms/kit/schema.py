"""Base schemas: ``Part`` (a group of fields) and ``FormSchema`` (a legal form with its metadata)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, SchemaOpts, ValidationError, post_load, pre_load, validates_schema

from forms.kit.messages import code


class FormOpts(SchemaOpts):
    """``class Meta`` of a form: name, version, titles, article and whether the layout is provisional
    (built from the articles because the official appendix layout was not read)."""

    def __init__(self, meta: type) -> None:
        super().__init__(meta)
        self.name: str | None = getattr(meta, "name", None)
        self.version: int = getattr(meta, "version", 1)
        self.title_vi: str = getattr(meta, "title_vi", "")
        self.title_en: str = getattr(meta, "title_en", "")
        self.article: str = getattr(meta, "article", "")
        self.provisional: bool = getattr(meta, "provisional", False)


def blank(value: Any) -> bool:
    return value is None or value == [] or value == ""


class Errors:
    """Collects cross-field errors as a tree keyed by field, then raises them all at once."""

    def __init__(self) -> None:
        self.tree: dict[Any, Any] = {}

    def add(self, path: str | tuple[str | int, ...], message_code: str) -> None:
        keys = (path,) if isinstance(path, str) else path
        node = self.tree
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node.setdefault(keys[-1], []).append(message_code)

    def raise_if_any(self) -> None:
        if self.tree:
            raise ValidationError(self.tree)


class Part(Schema):
    """A group of fields. Unknown keys are errors (never silently kept); values of ``computed``
    fields are ignored on input and recomputed; ``required_if``/``only_if`` conditions declared on the
    fields are enforced here so that the renderer and the JSON Schema can publish the same rule."""

    OPTIONS_CLASS = FormOpts
    opts: FormOpts
    error_messages = {"type": code("not_object"), "unknown": code("unknown_field")}

    class Meta:
        unknown = RAISE
        register = False

    @pre_load
    def _drop_computed(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        computed = {name for name, field in self.fields.items() if field.metadata.get("computed")}
        return {key: value for key, value in data.items() if key not in computed}

    # Runs even when some fields failed, so the user sees every problem at once; a field that
    # failed is absent from ``data`` and its rules are skipped.
    @validates_schema(skip_on_field_errors=False)
    def _conditions(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = Errors()
        for name, field in self.fields.items():
            if name not in data:
                continue
            meta = field.metadata
            required_if = meta.get("required_if")
            if required_if and blank(data[name]) and _holds(required_if, data):
                errors.add(name, code(meta.get("required_if_message", "required")))
            only_if = meta.get("only_if")
            if (only_if and not blank(data[name]) and all(key in data for key in only_if)
                    and not _holds(only_if, data)):
                errors.add(name, code(meta.get("only_if_message", "invalid")))
        errors.raise_if_any()

    @post_load
    def _compute(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self.compute(data)

    def compute(self, data: dict[str, Any]) -> dict[str, Any]:
        """Fill computed fields (override)."""
        return data


def _holds(condition: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    return all(data.get(key) == value for key, value in condition.items())


class FormSchema(Part):
    """A legal form. Subclasses declare ``class Meta`` with ``name``, ``version``, ``title_vi``,
    ``title_en``, ``article``, ``provisional``."""
