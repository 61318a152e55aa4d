"""The covenant: the secretariat sets next year's text and date, representatives read and
sign it (once per unit, final, the text's hash recorded), the secretariat sees who has
signed, and units that have not are reminded like any deadline."""

from __future__ import annotations

from bot.fakes.clock import FakeClock
from bot.services.app import Services
from bot.services.covenant import text_hash
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BINH,
    BLOC,
    CUONG,
    NOT_SECRETARIAT,
    audit_trail,
    report_setup,
)
from tests.scheduler.test_reminders import Recording, local, ticker

TEXT = "Các đơn vị cam kết thực hiện tốt các phong trào thi đua năm 2025."
SET = f"/covenant set 20/12/2024 17:00; {TEXT}"


async def covenant_id(services: Services) -> int:
    async with services.db.uow() as uow:
        bloc = (await uow.blocs.all())[0]
        found = await uow.covenants.of_year(bloc.id, 2025)
    assert found is not None
    return found.id


async def test_representatives_read_and_sign_once_and_laggards_are_reminded(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    clock.set(local(10, 9))
    assert (await tg.say(AN, "/covenant"))[-1].text == ("Khối chưa có giao ước thi đua năm 2025.")
    done = await tg.say(SECRETARY, SET)
    assert done[0].text == (
        "✅ Đã lưu giao ước thi đua năm 2025, hạn ký 17:00 thứ Sáu, 20/12/2024. Đã báo cho "
        "đại diện 3 người; xem và theo dõi: /covenant"
    )
    c = await covenant_id(services)
    assert [(r.chat_id, r.buttons, r.callback_data) for r in done[1:]] == [
        (u.id, [["📜 Đọc và ký giao ước"]], [[f"cv:{c}:show"]]) for u in (AN, BINH, CUONG)
    ]
    assert done[1].text.startswith("📜 <b>Giao ước thi đua năm 2025</b> — ")

    shown = (await tg.tap(AN, f"cv:{c}:show"))[-1]
    assert shown.text == (
        f"📜 <b>Giao ước thi đua năm 2025</b> — {BLOC}\n\n{TEXT}\n\n"
        "Hạn ký: 17:00 thứ Sáu, 20/12/2024.\n"
        "Sở Y tế chưa ký. Đọc kỹ nội dung rồi bấm «Ký giao ước»; chữ ký là cuối cùng, không "
        "sửa được."
    )
    seen = text_hash(TEXT)[:16]
    assert shown.callback_data == [[f"cv:{c}:sign:{seen}"]]
    confirm = (await tg.tap(AN, f"cv:{c}:sign:{seen}"))[-1]
    assert confirm.buttons == [["✅ Xác nhận ký", "✖ Hủy"]]
    assert (await tg.tap(AN, f"cv:{c}:ok:{seen}"))[-1].text == (
        "✅ Sở Y tế đã ký giao ước thi đua năm 2025 (Trần Văn An, 09:00 10/12/2024)."
    )
    clock.set(local(10, 10))
    assert (await tg.tap(BINH, f"cv:{c}:ok:{seen}"))[-1].text == (
        "Sở Y tế đã ký giao ước trước đó (Trần Văn An, 09:00 10/12/2024); chữ ký không thay đổi."
    )
    signed = [d for a, d in await audit_trail(services) if a == "covenant.signed"]
    assert signed == [{"covenant": c, "text_sha256": text_hash(TEXT)}]
    assert (await tg.say(BINH, "/covenant"))[-1].text.endswith(
        "✅ Sở Y tế đã ký (Trần Văn An, 09:00 10/12/2024)."
    )
    assert (await tg.say(SECRETARY, "/covenant"))[-1].text.endswith(
        "Đã ký: 1/3 đơn vị; chưa ký: Sở Giáo dục và Đào tạo, Sở Văn hóa, Thể thao và Du lịch."
    )
    status = (await tg.say(SECRETARY, "/status"))[0].text
    assert status.endswith(
        "\nGiao ước thi đua năm 2025: 1/3 đơn vị đã ký; chưa ký: Sở Giáo dục và Đào tạo, "
        "Sở Văn hóa, Thể thao và Du lịch."
    )
    # Signed once: the text is final now.
    assert (await tg.say(SECRETARY, SET + " Sửa."))[-1].text == (
        "Đã có đơn vị ký giao ước năm 2025: nội dung không sửa được nữa."
    )

    # One day before the date: only the unit that has not signed (and has a representative).
    sent = Recording()
    clock.set(local(19, 17))
    await ticker(services, sent).tick()
    reminders = [m for m in sent.sent if "Giao ước" in m.text and int(m.chat_id) != SECRETARY.id]
    assert [(int(m.chat_id), m.text) for m in reminders] == [
        (
            CUONG.id,
            "⏰ <b>Nhắc hạn</b> — Sở Giáo dục và Đào tạo\n"
            "Giao ước thi đua năm 2025: đơn vị chưa ký.\n"
            "Hạn chót: 17:00 thứ Sáu, 20/12/2024 (còn 1 ngày).",
        )
    ]
    assert [[b.callback_data for b in row] for row in reminders[0].buttons] == [[f"cv:{c}:show"]]


async def test_a_text_changed_after_reading_must_be_read_again(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    clock.set(local(10, 9))
    await tg.say(SECRETARY, SET)
    c = await covenant_id(services)
    old = text_hash(TEXT)[:16]
    await tg.say(SECRETARY, "/covenant set 20/12/2024 17:00; Nội dung đã sửa.")
    assert (await tg.tap(AN, f"cv:{c}:ok:{old}"))[-1].text == (
        "Nội dung giao ước đã được thường trực sửa sau khi bạn đọc. Gõ /covenant để đọc lại "
        "rồi ký."
    )
    assert (await tg.tap(AN, f"cv:{c}:no"))[-1].text == "Chưa ký. Gõ /covenant khi sẵn sàng."
    async with services.db.uow() as uow:
        assert await uow.covenants.signatures(c) == {}


async def test_setting_and_signing_refuse_what_they_must(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    await report_setup(tg)
    clock.set(local(10, 9))
    assert (await tg.say(AN, SET))[-1].text == NOT_SECRETARIAT
    assert (await tg.say(SECRETARY, "/covenant set 20/12/2024 17:00;  "))[-1].text.startswith(
        "Thiếu nội dung giao ước."
    )
    assert (await tg.say(SECRETARY, "/covenant set 1/12/2024 17:00; Nội dung"))[-1].text == (
        "Thời hạn «1/12/2024 17:00» đã qua hoặc không muộn hơn hạn hiện tại."
    )
    assert (await tg.say(SECRETARY, "/covenant set " + "x" * 3600))[-1].text == (
        "Nội dung giao ước quá dài: tối đa 3500 ký tự."
    )
    assert (await tg.say(SECRETARY, "/covenant xem"))[-1].text.startswith("Cách dùng:")
    # Without a date: no reminders, signing still works.
    assert (await tg.say(SECRETARY, "/covenant set Nội dung giao ước"))[0].text.startswith(
        "✅ Đã lưu giao ước thi đua năm 2025. Đã báo"
    )
    c = await covenant_id(services)
    seen = text_hash("Nội dung giao ước")[:16]
    # The secretariat does not sign for a unit; a forged button from a stranger neither.
    await tg.tap(SECRETARY, f"cv:{c}:ok:{seen}")
    assert (await tg.tap(SECRETARY, f"cv:{c}:ok:{seen}"))[-1].text.startswith("Chỉ đại diện")
    async with services.db.uow() as uow:
        assert await uow.covenants.signatures(c) == {}


async def test_the_covenant_from_a_word_or_text_file(
    tg: Harness, services: Services, clock: FakeClock
) -> None:
    import io

    from docx import Document

    await report_setup(tg)
    clock.set(local(10, 9))
    doc = Document()
    doc.add_paragraph("GIAO ƯỚC THI ĐUA NĂM 2025")
    doc.add_paragraph("1. Thực hiện tốt các phong trào thi đua <b>yêu nước</b> & cải cách.")
    buffer = io.BytesIO()
    doc.save(buffer)
    done = await tg.send_file(
        SECRETARY, "giao-uoc.docx", buffer.getvalue(), "/covenant set 20/12/2024 17:00"
    )
    assert done[0].text.startswith("✅ Đã lưu giao ước thi đua năm 2025, hạn ký 17:00 thứ Sáu")
    async with services.db.uow() as uow:
        stored = await uow.covenants.get(await covenant_id(services))
    assert stored is not None
    assert stored.text == (
        "GIAO ƯỚC THI ĐUA NĂM 2025\n"
        "1. Thực hiện tốt các phong trào thi đua <b>yêu nước</b> & cải cách."
    )
    # Plain text with a BOM, decomposed diacritics composed; no date: none set.
    text = "\ufeffCác đơn vị cam kê\u0301t thi đua.".encode()
    await tg.send_file(SECRETARY, "giao-uoc.txt", text, "/covenant set")
    async with services.db.uow() as uow:
        stored = await uow.covenants.get(await covenant_id(services))
    assert stored is not None
    assert (stored.text, stored.due_at) == ("Các đơn vị cam kết thi đua.", None)
    # What it cannot read is refused, in the user's language, and nothing changes.
    refused = await tg.send_file(SECRETARY, "giao-uoc.pdf", b"%PDF-1.7", "/covenant set")
    assert refused[-1].text.startswith("Giao ước nhận từ tệp .txt, .docx (văn bản hoặc Word).")
    broken = await tg.send_file(SECRETARY, "giao-uoc.docx", b"not a zip", "/covenant set")
    assert broken[-1].text == (
        "Nội dung tệp không phải là DOCX; đổi tên tệp không làm đổi loại tệp. "
        "Hãy kiểm tra và gửi lại."
    )
    latin = await tg.send_file(SECRETARY, "giao-uoc.txt", b"Cam k\xe9t", "/covenant set")
    assert latin[-1].text.startswith("Không đọc được nội dung giao ước từ tệp này")
    async with services.db.uow() as uow:
        stored = await uow.covenants.get(await covenant_id(services))
    assert stored is not None
    assert stored.text == "Các đơn vị cam kết thi đua."
    not_allowed = await tg.send_file(AN, "giao-uoc.txt", b"x", "/covenant set")
    assert not_allowed[-1].text == NOT_SECRETARIAT
