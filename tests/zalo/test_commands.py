"""What typed Zalo messages mean: the command words with or without slash and diacritics,
joined or underscored, English or Vietnamese; numbers; prose that is not a command."""

from __future__ import annotations

import pytest

from handlers.zalo.commands import (
    Command,
    is_blank,
    is_confirm,
    is_no,
    is_yes,
    parse_command,
    parse_numbers,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("bỏ phiếu", Command("vote", "", slash=False)),
        ("Bo Phieu 6 2", Command("vote", "6 2", slash=False)),
        ("/bo_phieu 6 trắng", Command("vote", "6 trắng", slash=True)),
        ("bophieu 5 1,3", Command("vote", "5 1,3", slash=False)),
        ("/vote@thidua_bot", Command("vote", "", slash=True)),
        ("Biểu quyết", Command("vote", "", slash=False)),
        ("kiểm tra phiếu ABCD-EFGH-JKMN", Command("check", "ABCD-EFGH-JKMN", slash=False)),
        ("  xếp   hạng ", Command("standings", "", slash=False)),
        ("/tro_giup", Command("help", "", slash=True)),
        ("Đã nhận", Command("ack", "", slash=False)),
        ("liên kết ab12-cd34", Command("link", "ab12-cd34", slash=False)),
        ("ngôn ngữ en", Command("lang", "en", slash=False)),
        ("/ballot open 1", Command("telegram_only", "ballot", slash=True)),
        ("/me extra", Command("me", "extra", slash=True)),
        ("tiêu chí", Command("criteria", "", slash=False)),
        ("/criteria", Command("criteria", "", slash=True)),
        ("/criteria import", Command("telegram_only", "criteria import", slash=True)),
        ("/covenant set 17:00 20/12; Cam kết", Command("telegram_only", "covenant set", True)),
        ("giao ước đặt Cam kết", Command("telegram_only", "covenant set", slash=False)),
        ("hạn chót thêm Nộp; 17:00 19/12", Command("telegram_only", "deadlines add", False)),
        ("/deadlines add Nộp; 17:00 19/12", Command("telegram_only", "deadlines add", True)),
        ("giao uoc ky", Command("covenant", "ky", slash=False)),
    ],
)
def test_commands_as_people_type_them(typed: str, expected: Command) -> None:
    assert parse_command(typed) == expected


@pytest.mark.parametrize(
    "typed", ["tôi đồng ý với dự thảo", "xin chào", "", "   ", "2", "ballot open 1", "toi la Hoa"]
)
def test_prose_and_numbers_are_not_commands(typed: str) -> None:
    assert parse_command(typed) is None


def test_numbers_yes_no_blank() -> None:
    assert parse_numbers("2") == [2]
    assert parse_numbers(" 1, 3 ") == [1, 3]
    assert parse_numbers("1 3;4") == [1, 3, 4]
    assert parse_numbers("1,") is None
    assert parse_numbers("một") is None
    assert parse_numbers("9" * 6) is None
    assert all(is_yes(w) for w in ("1", "có", "OK", "Xác nhận", "đồng ý!", "ký"))
    assert all(is_no(w) for w in ("2", "không", "Chọn lại", "lại"))
    assert all(is_blank(w) for w in ("0", "trắng", "Phiếu trắng", "blank"))
    assert not is_yes("3")
    # A vote is confirmed by a word, never by a number a ballot could offer.
    assert all(is_confirm(w) for w in ("Xác nhận", "xac nhan", "Đồng ý.", "dong y", "OK"))
    assert not any(is_confirm(w) for w in ("1", "2", "0", "không", "đồng ý với dự thảo"))


def test_khoi_chooses_a_bloc() -> None:
    assert parse_command("khối KTĐVHXH") == Command("bloc", "KTĐVHXH", slash=False)
    assert parse_command("/bloc use KTĐ") == Command("bloc", "KTĐ", slash=True)
    assert parse_command("/bloc new x") == Command("telegram_only", "bloc", slash=True)
