"""/api/v1/docs: the OpenAPI document rendered as a plain local page (no CDN, no script).

Drawn from the same spec dict that /api/v1/openapi.json serves, so the page cannot drift from the API.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, url_for
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from engine.models import OrgUnit
from forms.kit import fields
from web.api import errors
from web.extensions import db

bp = Blueprint("api_docs", __name__)
METHODS = ("get", "post", "put", "patch", "delete")


# What the server enforces beyond the marshmallow schemas, declared in the document (schema and server agree):
# every text query parameter refuses control and hidden characters as one-line form fields do
# (web/api/__init__.py), If-Match is a case version
# (web/api/tasks.py), periods and dates have their shapes (engine/statistics.py), unit codes name units of
# this installation, and form data carries no NUL anywhere (web/security.py).
IF_MATCH = '^[ \\t]*(\\*|(W/)?"?[0-9]{1,9}"?)[ \\t]*$'
PERIOD = "^[0-9]{4}-(H1|H2|Y|Q[1-4])$"
UNIT_CODE = "^[A-Z0-9][A-Z0-9-]{1,31}$"
DAY = "^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4})$"
JSON_VALUE = {
    "description": "Một giá trị JSON không chứa ký tự NUL / any JSON value without a NUL character",
    "anyOf": [
        {"type": "string", "pattern": "^[^\\u0000]*$"},
        {"type": ["number", "boolean", "null"]},
        {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
        {"type": "object", "propertyNames": {"pattern": "^[^\\u0000]*$"},
         "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}},
    ],
}


def _unit_codes() -> dict[str, list[str]]:
    try:
        rows = db.session.execute(select(OrgUnit.kind, OrgUnit.code).order_by(OrgUnit.code)).all()
    except SQLAlchemyError:  # a database not set up yet: the document still describes the API (codes by shape)
        db.session.rollback()
        rows = []
    return {kind: [code for k, code in rows if k == kind] for kind in ("province", "commune")}


def _parameter(param: dict[str, Any], codes: dict[str, list[str]]) -> None:
    schema = param.setdefault("schema", {})
    name, where = param.get("name"), param.get("in")
    if where == "header" and name == "If-Match":
        schema["pattern"] = IF_MATCH
    elif where == "query" and name in codes:
        if codes[name]:
            schema["enum"] = codes[name]
        else:  # no unit yet: the shape every unit code has (web/views/admin.py)
            schema["pattern"] = UNIT_CODE
        schema["description"] = "Mã đơn vị của hệ thống này / a unit code of this installation"
    elif where == "query" and name == "period":
        schema["pattern"] = PERIOD
    elif where == "query" and name in ("from", "to"):
        schema["pattern"] = DAY
    elif schema.get("type") == "string" and not {"enum", "pattern", "format"} & set(schema):
        schema["pattern"] = fields.json_pattern(multiline=False, required=False)


def document(api: Any) -> dict[str, Any]:
    """The OpenAPI document as served: the registered spec with what depends on this installation (unit codes)
    and the server's checks that marshmallow does not express, filled in."""
    spec = copy.deepcopy(api.spec.to_dict())
    codes = _unit_codes()
    for item in spec.get("paths", {}).values():
        for param in item.get("parameters", []):
            _parameter(param, codes)
        for method in METHODS:
            for param in item.get(method, {}).get("parameters", []):
                _parameter(param, codes)
    schemas = spec.get("components", {}).get("schemas", {})
    schemas["JsonValue"] = JSON_VALUE
    if "ReportCreate" in schemas:
        commune = schemas["ReportCreate"]["properties"]["commune"]
        if codes["commune"]:
            commune["enum"] = codes["commune"]
        else:
            commune["pattern"] = UNIT_CODE
    for name in ("TaskData",):
        if name in schemas:
            data = schemas[name]["properties"]["data"]
            data.update({"propertyNames": {"pattern": "^[^\\u0000]*$"},
                         "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}})
    return spec


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _resolve(spec: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """A response/parameter that is a $ref to components, followed once."""
    ref = item.get("$ref")
    if not ref:
        return item
    node: Any = spec
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def type_of(schema: dict[str, Any] | None) -> str:
    """A short human reading of a schema: `CaseSummary`, `array of TaskSummary`, `string (date-time) | null`."""
    if not schema:
        return ""
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    if "type" not in schema:  # a choice or a combination: read its members (if/then rules stay in the JSON)
        for key in ("oneOf", "anyOf", "allOf"):
            if key in schema:
                return " | ".join(dict.fromkeys(type_of(s) for s in schema[key] if s)) or "any"
        return "any"
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    words = []
    for kind in kinds:
        if kind == "array":
            words.append(f"array of {type_of(schema.get('items')) or 'any'}")
        elif kind != "null" and schema.get("format"):
            words.append(f"{kind} ({schema['format']})")
        else:
            words.append(kind)
    if "enum" in schema:
        words[0] += " {" + ", ".join(str(v) for v in schema["enum"]) + "}"
    return " | ".join(words)


def _constraints(schema: dict[str, Any]) -> str:
    out = []
    for key in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "default"):
        if key in schema:
            out.append(f"{key}={schema[key]}")
    return ", ".join(out)


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    ops = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            params = [_resolve(spec, p) for p in item.get("parameters", []) + op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            responses = []
            for code, resp in sorted(op.get("responses", {}).items(), key=lambda kv: (kv[0] == "default", kv[0])):
                resp = _resolve(spec, resp)
                content = resp.get("content", {})
                media, schema = next(iter(content.items()), ("", {}))
                responses.append({"code": code, "description": resp.get("description", ""), "media": media,
                                  "type": type_of(schema.get("schema")),
                                  "headers": sorted(resp.get("headers", {}))})
            summary, _sep, description = (op.get("summary", "") + "\n" + op.get("description", "")).partition("\n")
            ops.append({
                "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", "").replace(".", "-"),
                "method": method.upper(), "path": path, "summary": summary.strip(),
                "description": description.strip(), "tags": op.get("tags", []),
                "params": [{"name": p.get("name"), "in": p.get("in"), "required": p.get("required", False),
                            "type": type_of(p.get("schema")), "constraints": _constraints(p.get("schema", {})),
                            "description": p.get("description", "")} for p in params],
                "body": type_of(body.get("schema")) if body else "",
                "example": json.dumps(body["example"], ensure_ascii=False, indent=2) if "example" in body else "",
                "responses": responses,
            })
    return ops


def components(spec: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        out.append({
            "name": name, "title": schema.get("title", ""), "description": schema.get("description", ""),
            "fields": [{"name": field, "type": type_of(prop), "required": field in required,
                        "constraints": _constraints(prop),
                        "description": prop.get("title") or prop.get("description", "")}
                       for field, prop in schema.get("properties", {}).items()],
        })
    return out


@bp.route("/api/v1/docs", methods=["GET"])
def page() -> str:
    api = current_app.extensions["case56_api"]
    spec = document(api)
    return render_template("api/docs.html", info=spec.get("info", {}), version=spec.get("openapi"),
                           operations=operations(spec), schemas=components(spec),
                           spec_url=url_for("api-docs.openapi_json"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


errors.register_handlers(bp)
