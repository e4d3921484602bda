"""Legal forms of Decree 56/2017/NĐ-CP as versioned, bilingual marshmallow schemas.

Public API (see ``forms.registry``): ``names``, ``get``, ``validate``, ``describe``, ``json_schema``,
``render``, ``FormError``, ``UnknownForm``, ``FormSpec``.
"""

from forms.registry import (
    FormError,
    FormSpec,
    UnknownForm,
    describe,
    get,
    json_schema,
    names,
    register,
    render,
    unregister,
    validate,
    versions,
)

# Importing a form module registers its forms.
from forms import (  # noqa: E402, F401  isort: skip
    activity_report,
    case_links,
    decisions,
    escalation,
    mau_01,
    mau_02,
    mau_03,
    mau_04,
    mau_05,
    mau_06,
    meeting,
    police,
    verification,
)

__all__ = [
    "FormError",
    "FormSpec",
    "UnknownForm",
    "describe",
    "get",
    "json_schema",
    "names",
    "register",
    "render",
    "unregister",
    "validate",
    "versions",
]
