"""What the phone's offline queue needs from the server (static/sw.js sends the scans it saved
while offline again when it is back): the answer to a scan applied before ("Already saved", never
applied twice: app.client_actions), and a fresh CSRF token for a saved scan whose token expired."""
from __future__ import annotations

from flask import Blueprint, jsonify, make_response, render_template
from flask_wtf.csrf import generate_csrf

from app.client_actions import AlreadyApplied
from app.errors_web import wants_json
from app.models import Role
from app.security import requires
from app.timeutil import isoformat

bp = Blueprint("offline", __name__, url_prefix="/offline")

ALREADY_APPLIED_HEADER = "X-Already-Applied"  # 1 on the answer to a scan applied before (sw.js reads it)


@bp.app_errorhandler(AlreadyApplied)
def already_applied(error: AlreadyApplied):
    """A scan sent again: 200 with "Already saved" in words (nothing was applied now)."""
    headers = {ALREADY_APPLIED_HEADER: "1", "Cache-Control": "no-store"}
    if wants_json():
        body = {"status": "already_applied", "message": error.message, "client_id": error.client_id,
                "action": error.action, "applied_at": isoformat(error.applied_at)}
        return jsonify(body), 200, headers
    # Only a script sends an id (the scanner's, or the service worker replaying it): a fragment for #flash.
    html = render_template("partials/flash.html", kind="ok", message=error.message)
    return make_response(html, 200, {**headers, "HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})


@bp.get("/csrf-token")
@requires(Role.PICKER)
def csrf_token():
    """A CSRF token for this session, for a scan saved offline whose own token has expired."""
    return jsonify(csrf_token=generate_csrf()), 200, {"Cache-Control": "no-store"}
