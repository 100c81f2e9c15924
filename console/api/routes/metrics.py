"""``GET /metrics``: Prometheus text for this host's processes, to a monitoring server only.

Allowed with ``Authorization: Bearer <BDC_METRICS_TOKEN>`` or from an address in
``BDC_METRICS_ALLOW`` (the real client: ``X-Forwarded-For`` counts only from a trusted
proxy); anything else is 403 and goes to the operation log like every refused API call.
Multiprocess figures are per host, so each node is scraped directly, not through nginx.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request, Response
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from console.api.deps import client_address
from console.api.gateway import GatewayRefusal, bearer
from console.api.gauges import ConsoleGauges
from console.api.routing import public_router
from console.audit.service import record_anonymous_denial
from console.core import metrics
from console.core.net import in_networks, parse_networks
from console.core.settings import get_settings

router = public_router(tags=["metrics"])
PATH = "/metrics"
WRONG_TOKEN = "监控令牌不正确"
NOT_ALLOWED = (
    "该地址无权读取监控指标：请携带监控令牌（BDC_METRICS_TOKEN），或将地址加入 BDC_METRICS_ALLOW"
)


def _token_matches(presented: str) -> bool:
    """Constant-time comparison with the configured token (never true without one)."""
    token = get_settings().metrics_token
    if token is None or not presented:
        return False
    return hmac.compare_digest(presented.encode(), token.get_secret_value().encode())


def scraper(request: Request) -> str:
    """The scraping client's address once it is allowed; 403 (logged) otherwise."""
    address = client_address(request)
    presented = bearer(request)
    if _token_matches(presented):
        return address
    if in_networks(address, parse_networks(get_settings().metrics_allow)):
        return address
    reason = WRONG_TOKEN if presented else NOT_ALLOWED
    record_anonymous_denial(reason=reason, client_ip=address, target=PATH)
    raise GatewayRefusal(403, reason)


@router.get(PATH, include_in_schema=False)
def scrape(_scraper: Annotated[str, Depends(scraper)]) -> Response:
    """Every process's counters and histograms summed, plus the gauges read now."""
    return Response(
        metrics.exposition([ConsoleGauges()]),
        media_type=CONTENT_TYPE_PLAIN_0_0_4,
        headers={"Cache-Control": "no-store"},
    )
