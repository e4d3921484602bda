"""Shared by the privacy tests: a case to make requests about, times in Vietnam, the process of the engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import time_machine

from engine import data_requests
from engine.clock import LOCAL_TZ
from engine.models import Case
from web import demo


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


def open_case(case_engine, session, people, received: datetime | None = None) -> Case:
    received = received or vn(2026, 4, 1, 9, 0)
    data = demo.sample("mau_01", received)
    data["received_at"] = received.isoformat()
    with time_machine.travel(received, tick=False):
        return case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", data)


def request_data(case: Case, received: datetime, **override: Any) -> dict[str, Any]:
    return {"case_number": case.number, "received_at": received.isoformat(), "requester_kind": "child",
            "requester_name": "Nguyễn Văn An", "request_type": "view",
            "identity_document": "Thẻ căn cước 001206012345", "channel": "Trực tiếp",
            "details": "Xin xem dữ liệu của em trong hồ sơ.", **override}


def representative_data(**override: Any) -> dict[str, Any]:
    return {"full_name": "Trần Thị Bình", "relation": "mother", "contact": "0912 345 678",
            "id_number": "001186001234", "alleged_abuser": False, **override}


def process(case_engine) -> data_requests.DataRequests:
    return data_requests.of(case_engine)
