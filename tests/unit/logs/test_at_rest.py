"""Sealed files hold personal data only as ciphertext, keyed digests and masked text."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from console.core.crypto import DecryptionFailed
from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs.at_rest import at_rest, lines_as_sent, lines_file, number_digest
from console.logs.chain import verify
from console.logs.ingest import ingest_batch
from console.logs.search import LogQuery, search_logs
from tests.support.world import World
from tests.unit.logs.test_seal import NOW, PROVINCE, _push, _seal

ID_NUMBER = "330106199001011234"
PHONE = "13898765432"
NAME = "欧阳小明"


def _line(event_id: str, ts: str) -> dict:
    return {
        "event_id": event_id, "ts": ts, "tenant": "330106", "case_no": f"AR-{event_id}",
        "business_code": "2000402", "registration_type": "200", "channel": "window",
        "step": "accept", "operator": NAME, "applicant": "李四",
        "applicant_id": ID_NUMBER, "contact": f"电话{PHONE}",
    }  # fmt: skip


@pytest.fixture
def sealed_line(world: World) -> dict:
    line = _line("pii-1", "2026-11-26T09:00:00+08:00")
    with session_scope() as session:
        report = _push(session, line, _line("pii-today", "2026-11-27T09:00:00+08:00"))
    assert report["accepted"] == 2
    _seal()
    return line


def _sealed_frame() -> pl.DataFrame:
    lake = get_settings().lake_dir
    return pl.read_parquet(lake / "case_event" / "date=2026-11-26" / "part-0000.parquet")


def test_no_plain_personal_data_is_in_a_sealed_file(sealed_line: dict) -> None:
    frame = _sealed_frame()
    texts = frame.select(pl.col(pl.String)).rows()
    for secret in (ID_NUMBER, PHONE, NAME, "李四"):
        assert not any(secret in (value or "") for row in texts for value in row), secret
    assert frame.get_column("operator").item() == "欧**明"
    assert "330106********1234" in frame.get_column("raw").item()
    assert len(frame.get_column("pii").item().split()) == 2  # the ID number and the phone number
    part = get_settings().lake_dir / "case_event" / "date=2026-11-26" / "part-0000.parquet"
    assert [json.loads(line) for line in lines_as_sent(part)] == [sealed_line]
    kept = lines_file(part).read_bytes()
    assert not any(secret.encode() in kept for secret in (ID_NUMBER, PHONE, "330106"))


def test_the_lines_as_sent_are_on_the_chain(sealed_line: dict) -> None:
    part = get_settings().lake_dir / "case_event" / "date=2026-11-26" / "part-0000.parquet"
    blob = bytearray(lines_file(part).read_bytes())
    blob[-1] ^= 1
    lines_file(part).write_bytes(bytes(blob))
    reasons = {b.reason for b in verify(get_settings().lake_dir)}
    assert "原始记录密文与封存时的 SM3 摘要不一致" in reasons
    with pytest.raises(DecryptionFailed):
        lines_as_sent(part)


def test_names_escaped_in_json_are_masked_too(world: World) -> None:
    escaped = json.dumps(_line("pii-esc", "2026-11-26T09:00:00+08:00"))  # ASCII-only JSON
    assert "\\u" in escaped and NAME not in escaped
    with session_scope() as session:
        report = ingest_batch(session=session, stream="case_event", body=escaped.encode(),
                              sender=PROVINCE, now=NOW)  # fmt: skip
    assert report.accepted == 1
    _seal()
    raw = _sealed_frame().get_column("raw").item()
    assert "欧*明" in raw and "李*" in raw and "\\u" not in raw


@pytest.mark.parametrize(
    ("text", "found"),
    [(ID_NUMBER, 2), (PHONE, 2), ("19900101", 0), ("9876", 0), ("330106********1234", 2)],
    ids=["whole ID number", "whole phone", "hidden ID digits", "hidden phone digits", "masked"],
)
def test_search_finds_a_whole_number_by_digest_but_never_reveals_hidden_digits(
    sealed_line: dict, world: World, text: str, found: int
) -> None:
    query = LogQuery(stream="case_event", start=date(2026, 11, 26), end=date(2026, 11, 27),
                     text=text)  # fmt: skip
    with session_scope() as session:
        page = search_logs(session=session, actor=world.actor("audit_admin"), query=query)
    assert page.total == found  # one sealed, one still pending: both found alike


def test_every_number_of_a_line_gets_its_digest_even_side_by_side(world: World) -> None:
    frame = pl.DataFrame({"raw": ['{"contact":"13912345678,13898765432;330106199001011234"}']})
    digests = at_rest(frame).get_column("pii").item().split()
    numbers = ("13912345678", "13898765432", "330106199001011234")
    assert sorted(digests) == sorted(number_digest(n) for n in numbers)
