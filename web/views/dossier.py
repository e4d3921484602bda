"""The case dossier PDF from the web: `/cases/<id>/dossier.pdf` (`?redact=1` for the copy shared outside the
commune). For the people who read whole case files (engine.access.can_download_dossier: not intake points),
within their scope; a case outside it is answered 404, like a missing one; the API gives the same answers.
`?level=` and `?recipients=` set the copy's confidentiality stamp (engine.stamp, Decree 56 Art. 24.3), printed on
every page. Every download is written to the audit trail with the redaction flag, the stamp and the language.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import access, audit, restriction, stamp
from engine.errors import EngineError, NotFound
from engine.models import Case
from web.extensions import db
from web.gate import gate
from web.pages import bad_request, int_arg, locale, refuse
from web.pdf import dossier
from web.pdf.toolkit import FontMissing

bp = Blueprint("dossier", __name__)
_FLAGS = {"": False, "0": False, "false": False, "1": True, "true": True}


@bp.route("/cases/<int:case_id>/dossier.pdf")
@login_required
@gate(access.can_download_dossiers)
def download(case_id: int):
    actor: access.Actor = current_user.actor
    case = db.session.get(Case, case_id) if int_arg(case_id) is not None else None
    if case is None or not access.can_download_dossier(actor, case):
        return refuse(NotFound("Không tìm thấy hồ sơ.", "No such case."))
    restricted = restriction.active(db.session, case.id)  # no copy leaves while processing is restricted
    if restricted is not None:
        return refuse(restriction.refusal(restricted))
    raw = request.args.get("redact", "").strip().lower()
    if raw not in _FLAGS:
        return bad_request(_("Tham số “redact” chỉ nhận 0 hoặc 1 (1: bản ẩn thông tin để cung cấp ra ngoài xã)."))
    redact, lang = _FLAGS[raw], locale()
    try:
        mark = stamp.choose("dossier_redacted" if redact else "dossier", request.args.get("level"),
                            request.args.get("recipients"), lang)
        pdf = dossier.build(db.session, case.id, dossier.Options(redact=redact, actor=actor, stamp=mark,
                                                                 generated_by=current_user.full_name), locale=lang)
    except FontMissing as exc:  # a server set-up fault: say which package is missing, no traceback
        return refuse(_Unavailable(str(exc)))
    except EngineError as exc:  # e.g. the case vanished between the check and the build
        return refuse(exc)
    # Audited after the PDF is made, so a failed build records nothing and holds no lock on the audit chain.
    audit.append(db.session, actor.username, "dossier_downloaded", case.id,
                 {"role": actor.role, "redact": redact, "lang": lang, "via": "web", "bytes": len(pdf), **mark.audit()})
    db.session.commit()
    name = f"{case.number}{'-an-danh' if redact else ''}.pdf"
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def dossier_urls(cases: Iterable[Case]) -> dict[int, str]:
    """Dossier links, shown exactly where `download` would answer the PDF (engine.access.can_download_dossier,
    and no restriction in force: that export answers 409). One restriction query for a whole list."""
    if not current_user.is_authenticated or not access.can_download_dossiers(current_user.actor):
        return {}
    readable = [c for c in cases if access.can_download_dossier(current_user.actor, c)]
    held = restriction.active_for(db.session, (c.id for c in readable))
    return {c.id: url_for("dossier.download", case_id=c.id) for c in readable if c.id not in held}


def dossier_url(case: Case) -> str | None:
    return dossier_urls([case]).get(case.id)


@bp.app_context_processor
def _links() -> dict[str, Any]:
    """The same links for the case page, the step page and the lists."""
    return {"dossier_urls": dossier_urls, "dossier_url": dossier_url}


class _Unavailable(EngineError):
    code, status = "unavailable", 503
