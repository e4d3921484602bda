"""Legal forms of Decree 56/2017/NĐ-CP as versioned, bilingual marshmallow schemas.

Each legal form is the module named after it, ``forms/<name>.py`` (``forms/mau_01.py`` is the form
``mau_01``); what they are built from, and the registry, is the toolkit in ``forms/kit/``.

Public API (see ``forms.kit.registry``): ``names``, ``get``, ``validate``, ``describe``, ``json_schema``,
``render``, ``FormError``, ``UnknownForm``, ``FormSpec``.
"""

from forms.kit.registry import (
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

# Importing a form module registers its form.
from forms import (  # noqa: E402, F401  isort: skip
    activity_report,
    adjustment_approval,
    breach_closure,
    breach_notification,
    breach_report,
    court_decision,
    court_request,
    data_request,
    data_request_ack,
    data_request_handle,
    emergency_decision,
    emergency_measures,
    escalation_ack,
    legal_representative,
    mau_01,
    mau_02,
    mau_03,
    mau_04,
    mau_05,
    mau_06,
    mau_07,
    needs_meeting,
    needs_meeting_signoff,
    no_basis_signoff,
    plan_adjustment,
    plan_approval,
    plan_end,
    police_outcome,
    police_referral,
    reopen,
    separation_request,
    separation_review,
    transfer,
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
