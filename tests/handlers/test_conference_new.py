"""/conference new (issue 17, item 10): a «;» too many is refused naming every field as read,
never shifted into the locality; the reply echoes every field (guests and the minutes' date
line included); without arguments the conference is set up step by step."""

from __future__ import annotations

from bot.services.app import Services
from storage.vote_repos import Conference
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import AN, UNITS, join, plain

S = SECRETARY.id
GUESTS = "đồng chí Giàng Thị Hoa, Phó Chủ tịch HĐND tỉnh; lãnh đạo Ban Thi đua - Khen thưởng tỉnh"
HEAD = (
    "<b>Hội nghị tổng kết năm 2024</b> — Khối thi đua Văn hóa - Xã hội\n"
    "Thời gian: 08:00 20/12/2024; địa điểm: Hội trường Sở Y tế\n"
    "Đơn vị chủ trì: Sở Y tế\n"
    "Chủ tọa: Nguyễn Văn Thành\n"
    "Thư ký: Lò Thị Hương\n"
)


async def conference(services: Services) -> Conference | None:
    async with services.db.uow() as uow:
        bloc = (await uow.blocs.all())[0]
        return await uow.votes.conference(bloc.id, 2024)


async def test_a_semicolon_too_many_is_refused_naming_the_fields(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    # The guest list holds a «;» as Vietnamese lists do: nine fields for eight.
    command = (
        "/conference new 20/12/2024 08:00; Hội trường Sở Y tế; SYT; Nguyễn Văn Thành; "
        f"Lò Thị Hương; Quàng Thị Mai, Trần Đức Long; {GUESTS}; Điện Biên"
    )
    assert plain(await tg.say(SECRETARY, command)) == [
        (
            S,
            "Lệnh có 9 trường cách nhau bởi dấu «;» nhưng /conference new nhận tối đa 8. "
            "Chưa có gì được lưu. Bot đã đọc:\n"
            "1. Thời gian: «20/12/2024 08:00»\n"
            "2. Địa điểm: «Hội trường Sở Y tế»\n"
            "3. Đơn vị chủ trì: «SYT»\n"
            "4. Chủ tọa: «Nguyễn Văn Thành»\n"
            "5. Thư ký: «Lò Thị Hương»\n"
            "6. Ban kiểm phiếu: «Quàng Thị Mai, Trần Đức Long»\n"
            "7. Khách mời: «đồng chí Giàng Thị Hoa, Phó Chủ tịch HĐND tỉnh»\n"
            "8. Địa danh: «lãnh đạo Ban Thi đua - Khen thưởng tỉnh»\n"
            "9. (thừa): «Điện Biên»\n"
            "Thứ tự các trường: Thời gian; Địa điểm; Đơn vị chủ trì; Chủ tọa; Thư ký; "
            "Ban kiểm phiếu; Khách mời; Địa danh.\n"
            "Danh sách khách mời có dấu «;»? Gõ <code>/conference new</code> (không kèm nội "
            "dung) để nhập từng bước, hoặc dùng dấu phẩy.",
        )
    ]
    assert await conference(services) is None

    # Eight fields: saved, and every one of them echoed, the minutes' date line included.
    replies = await tg.say(
        SECRETARY,
        command.replace("; Điện Biên", "").replace("HĐND tỉnh; lãnh đạo", "HĐND tỉnh, lãnh đạo")
        + "; Điện Biên",
    )
    assert replies[0].text.startswith(
        HEAD + "Ban kiểm phiếu: Quàng Thị Mai, Trần Đức Long\n"
        "Khách mời: đồng chí Giàng Thị Hoa, Phó Chủ tịch HĐND tỉnh, lãnh đạo Ban Thi đua - "
        "Khen thưởng tỉnh\n"
        "Dòng địa danh, ngày tháng của biên bản: «Điện Biên, ngày 20 tháng 12 năm 2024»\n"
    )


async def test_conference_new_alone_walks_step_by_step(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=UNITS)
    assert plain(await tg.say(SECRETARY, "/conference new")) == [
        (
            S,
            "Thiết lập hội nghị tổng kết (gõ một lệnh bất kỳ để hủy).\n"
            "Bước 1/11. Hội nghị họp lúc nào (giờ của khối)?\n"
            "Ví dụ: 20/12/2024 08:00",
        )
    ]
    assert plain(await tg.say(SECRETARY, "32/12/2024")) == [
        (S, "Không hiểu thời hạn «32/12/2024». Nhập theo dạng 15/12/2022 17:00.")
    ]
    assert plain(await tg.say(SECRETARY, "20/12/2024 08:00")) == [
        (S, "Bước 2/11. Địa điểm họp?\nVí dụ: Hội trường Sở Y tế")
    ]
    assert plain(await tg.say(SECRETARY, "-")) == [(S, "Địa điểm không được để trống.")]
    assert plain(await tg.say(SECRETARY, "Hội trường Sở Y tế")) == [
        (
            S,
            "Bước 3/11. Đơn vị chủ trì (số thứ tự trong /units, tên viết tắt hoặc tên đơn vị)? "
            "Gõ «-» để bỏ qua.\nVí dụ: SYT",
        )
    ]
    assert plain(await tg.say(SECRETARY, "XYZ")) == [
        (S, "Không tìm thấy đơn vị «XYZ» trong khối. Xem danh sách: /units")
    ]
    for answer in ("SYT", "Nguyễn Văn Thành, Giám đốc Sở Y tế", "Lò Thị Hương", "-"):
        replies = await tg.say(SECRETARY, answer)
    assert plain(replies) == [
        (
            S,
            "Bước 7/11. Khách mời (một tin nhắn; có thể dùng dấu «;»)? Gõ «-» để bỏ qua.\n"
            f"Ví dụ: {GUESTS}",
        )
    ]
    await tg.say(SECRETARY, GUESTS)  # the «;» stays inside the guests
    assert await conference(services) is None
    assert plain(await tg.say(SECRETARY, "Điện Biên")) == [
        (
            S,
            "Bước 9/11. Người ký tờ trình thay mặt khối (thủ trưởng đơn vị trưởng khối): họ "
            "tên và chức vụ, cách nhau bởi dấu phẩy? Bỏ qua: chủ tọa ký. Gõ «-» để bỏ qua.\n"
            "Ví dụ: Nguyễn Văn Thành, Giám đốc Sở Y tế",
        )
    ]
    await tg.say(SECRETARY, "-")  # the chair signs the memo
    await tg.say(SECRETARY, "Lê Văn Hùng, Phó Giám đốc Sở Giáo dục và Đào tạo")  # the deputy's
    # Delegations one a line (a message may hold several lines here).
    replies = await tg.say(SECRETARY, "Lãnh đạo Văn phòng UBND các huyện\nPhòng Nội vụ các huyện")
    head = HEAD.replace("Nguyễn Văn Thành", "Nguyễn Văn Thành, Giám đốc Sở Y tế")
    assert replies[0].text.startswith(
        head + f"Khách mời: {GUESTS}\n"
        "Thành phần đại biểu: Lãnh đạo Văn phòng UBND các huyện; Phòng Nội vụ các huyện\n"
        "Đại diện đơn vị phó khối: Lê Văn Hùng, Phó Giám đốc Sở Giáo dục và Đào tạo\n"
        "Dòng địa danh, ngày tháng của biên bản: «Điện Biên, ngày 20 tháng 12 năm 2024»\n"
    )
    saved = await conference(services)
    assert saved is not None
    assert (saved.place, saved.counting_board, saved.guests, saved.locality) == (
        "Hội trường Sở Y tế",
        (),
        GUESTS,
        "Điện Biên",
    )
    # The chair is a person: the name and the title, split at the first comma.
    assert (saved.chair, saved.chair_title, saved.signer) == (
        "Nguyễn Văn Thành",
        "Giám đốc Sở Y tế",
        "",
    )
    assert (saved.deputy, saved.deputy_title) == (
        "Lê Văn Hùng",
        "Phó Giám đốc Sở Giáo dục và Đào tạo",
    )
    assert saved.delegations == "Lãnh đạo Văn phòng UBND các huyện; Phòng Nội vụ các huyện"
    # The walk is over: plain text is no longer taken as an answer.
    assert plain(await tg.say(SECRETARY, "Hà Nội"))[0][1].startswith("Bot chưa hiểu")


async def test_the_walk_is_for_the_secretariat_and_a_command_cancels_it(
    tg: Harness, services: Services
) -> None:
    await tg.admin_setup(units=UNITS)
    await join(tg, AN, "1")
    assert plain(await tg.say(AN, "/conference new")) == [
        (AN.id, "Chỉ thường trực khối mới dùng được lệnh này.")
    ]
    await tg.say(SECRETARY, "/conference new")
    await tg.say(SECRETARY, "20/12/2024 08:00")
    assert plain(await tg.say(SECRETARY, "/huy")) == [(S, "Đã hủy thao tác đang làm.")]
    assert await conference(services) is None
