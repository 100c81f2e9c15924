"""The browser's session cookie: collected after a sign-in, cleared when signing out.

``GET /api/v1/session/begin?ticket=…&next=…`` redeems the one-minute sign-in ticket the login
page handed the browser, sets the HttpOnly, SameSite=Strict session cookie (Secure over
HTTPS) and redirects to ``next`` (a path on this site). ``GET /api/v1/session/end`` ends the
session named by the cookie, clears the cookie and redirects to the login page. Neither is
part of the published API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from console.api.deps import CookieGrant, cookie_session, served_securely, sign_in_grant
from console.api.routing import secured_router
from console.core.db import session_scope
from console.iam import service
from console.iam.cookie_service import (
    BEGIN_PATH,
    END_PATH,
    SESSION_COOKIE,
    cookie_attributes,
)
from console.iam.paths import LOGIN_ROUTE, login_url, safe_next

router = secured_router(tags=["session"])
SIGNED_OUT = "您已安全退出"


def _no_store(response: RedirectResponse) -> RedirectResponse:
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(BEGIN_PATH, include_in_schema=False)
def begin(
    grant: Annotated[CookieGrant, Depends(sign_in_grant)], next: str = "/"
) -> RedirectResponse:
    """Set the session cookie from a sign-in ticket and go on to ``next``."""
    target = safe_next(next)
    if not grant.token:
        return _no_store(RedirectResponse(login_url(target, reason=grant.refused), 303))
    response = RedirectResponse(target, 303)
    response.set_cookie(SESSION_COOKIE, grant.token, **cookie_attributes(secure=grant.secure))
    return _no_store(response)


@router.get(END_PATH, include_in_schema=False)
def end(request: Request, token: Annotated[str, Depends(cookie_session)]) -> RedirectResponse:
    """End the cookie's session, clear the cookie, show the login page.

    Without the cookie (SameSite=Strict keeps it off a request another site starts) nothing is
    ended and nothing is cleared, so a link elsewhere cannot sign anybody out.
    """
    response = RedirectResponse(f"{LOGIN_ROUTE}?reason={SIGNED_OUT}", 303)
    if token:
        with session_scope() as session:
            service.end_session(session=session, token=token)
        response.delete_cookie(SESSION_COOKIE, **cookie_attributes(secure=served_securely(request)))
    return _no_store(response)
