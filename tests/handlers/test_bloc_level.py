"""The bloc's level (issue 20): a cluster of provinces and a provincial bloc, each through
`/bloc level` and `/ballot defaults` to the votes, the memo (its «Kính gửi», its legal bases,
its «Nơi nhận») and the summary's award names; the settings in chat — the body the memo goes
to and the bloc's regulation, hostile text kept as typed, a too-long value refused with its
limit, a representative refused, the audit entry."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

from docx import Document
from teremok import MockMessageText

from bot.core.models import BlocLevel
from bot.services.app import Services
from bot.services.pdf import PdfConverter
from storage.uow import UnitOfWork
from tests.handlers.conftest import SECRETARY, Harness
from tests.handlers.support import (
    AN,
    BLOC_CODE,
    CUONG,
    DUNG,
    GIANG,
    NOT_SECRETARIAT,
    bloc_by_code,
    conference_setup,
    csv_bytes,
    dispatch,
    documents,
    hall_code,
    join,
    plain,
    voted,
)
from tests.handlers.test_minutes import lines_of
from tests.rendered import fonts, page_count, problems, soffice_path

S = SECRETARY.id
VOTERS = (AN, CUONG, DUNG, GIANG)  # the four units' representatives, in the units' order

CLUSTER = "Cụm thi đua các tỉnh biên giới phía Bắc"
CLUSTER_CODE = "CTĐBGPB"
PROVINCES = [
    ("Tỉnh Hà Giang", "HG"),
    ("Tỉnh Cao Bằng", "CB"),
    ("Tỉnh Lạng Sơn", "LS"),
    ("Tỉnh Lào Cai", "LC"),
]
REGULATION = (
    "Căn cứ Quy chế tổ chức và hoạt động của Cụm thi đua các tỉnh biên giới phía Bắc ban hành "
    "kèm theo Quyết định số 12/QĐ-CTĐ ngày 15/3/2024;"
)
NATIONAL_REPLY = (
    "✅ Đã lưu.\n"
    "<b>Cấp của khối:</b> Trung ương (cụm, khối các tỉnh, thành phố)\n"
    "Tờ trình đề nghị khen thưởng — Kính gửi: Hội đồng Thi đua - Khen thưởng Trung ương "
    "(theo cấp của khối)\n"
    "Nơi nhận: - Như trên; - Ban Thi đua - Khen thưởng Trung ương; - Lưu: VT.\n"
    "Các hình thức khen thưởng /ballot defaults tạo:\n"
    "1. Cờ thi đua của Chính phủ — tối đa 1 đơn vị\n"
    "2. Bằng khen của Thủ tướng Chính phủ — tối đa 1 đơn vị\n"
    "Quy chế của khối (căn cứ của tờ trình): chưa nhập\n"
    "\n"
    "Đổi: /bloc level trung ương | bộ | tỉnh | xã | không\n"
    "/bloc addressee Tên cơ quan nhận tờ trình (gõ «-» để theo cấp của khối)\n"
    "/bloc regulation Tên, số, ngày ban hành quy chế của khối (mỗi dòng một văn bản; gõ «-» "
    "để bỏ)"
)


async def _cluster_setup(tg: Harness) -> None:
    """A cluster of four provinces, each with its representative, its conference and every
    province checked in (no ballot yet)."""
    await tg.say(SECRETARY, f"/bloc new {CLUSTER}; Cụm; 2024; {CLUSTER_CODE}")
    units = csv_bytes([["Tên đơn vị", "Tên viết tắt"], *PROVINCES])
    await tg.send_file(SECRETARY, "units.csv", units, "/units import")
    for number, user in enumerate(VOTERS, start=1):
        await join(tg, user, str(number))
    await tg.say(
        SECRETARY,
        "/conference new 20/12/2024 08:00; Hội trường UBND tỉnh Lào Cai; LC; Hoàng Văn Minh; "
        "Lò Thị Hương; ; ; Lào Cai",
    )
    for user in VOTERS:
        await tg.say(user, f"/checkin {await hall_code(tg.services, CLUSTER_CODE)}")


async def _round(
    tg: Harness, services: Services, code: str, number: int, picks: dict[int, str]
) -> None:
    """Open ballot `number`; the voter at each index votes for the unit named (the report:
    approve; nobody named: blank); close it."""
    bloc = await bloc_by_code(services, code)
    async with services.db.uow() as uow:
        ballot = [b.ballot.id for b in await uow.votes.ballots(bloc.id)][number - 1]
    opened = await tg.say(SECRETARY, f"/ballot open {number}")
    assert opened[0].text.startswith("✅ Đã mở"), opened[0].text
    async with services.db.uow() as uow:
        info = await uow.votes.ballot(ballot)
        assert info is not None
        names = {u.id: u.name for u in await uow.blocs.units(bloc.id)}
    index = {names[o.unit_id]: o.index for o in info.ballot.options if o.unit_id}
    for i, user in enumerate(VOTERS):
        choice = 0 if number == 1 else index[picks[i]] if i in picks else None
        await voted(services, user, ballot, choice)
    closed = await tg.say(SECRETARY, f"/ballot close {number}")
    assert closed[0].text.startswith("📊"), closed[0].text


async def _memo(tg: Harness) -> list[str]:
    """The memo /minutes sends, a line per paragraph or table row (cells' paragraphs apart)."""
    sent = documents(await dispatch(tg, MockMessageText("/minutes", user=SECRETARY)))
    memo = next(d for d in sent if d.name == "to-trinh.docx")
    return lines_of(Document(io.BytesIO(memo.data)))


def _recipients(memo: list[str]) -> list[str]:
    """The «Nơi nhận» list, wherever the layout puts it (a cell's paragraphs are joined by
    « / »)."""
    parts = [p.strip() for line in memo for cell in line.split(" | ") for p in cell.split(" / ")]
    start = parts.index("Nơi nhận:")
    listed = []
    for part in parts[start + 1 :]:
        if not part.startswith("- "):
            break
        listed.append(part)
    return listed


async def _summary_awards(tg: Harness) -> str:
    article = (await tg.say(SECRETARY, "/summary"))[0].text
    return next(p for p in article.split("\n\n") if p.startswith("Hội nghị đã bình xét"))


async def test_a_cluster_of_provinces_proposes_the_governments_awards_to_the_centre(
    tg: Harness, services: Services, tmp_path: Path
) -> None:
    await _cluster_setup(tg)
    assert plain(await tg.say(SECRETARY, "/bloc level trung ương")) == [(S, NATIONAL_REPLY)]
    saved = await tg.say(SECRETARY, f"/bloc regulation {REGULATION}")
    assert saved[0].text.endswith(
        "Quy chế của khối (căn cứ của tờ trình):\n"
        "• Căn cứ Quy chế tổ chức và hoạt động của Cụm thi đua các tỉnh biên giới phía Bắc ban "
        "hành kèm theo Quyết định số 12/QĐ-CTĐ ngày 15/3/2024;\n"
        "\n"
        "Đổi: /bloc level trung ương | bộ | tỉnh | xã | không\n"
        "/bloc addressee Tên cơ quan nhận tờ trình (gõ «-» để theo cấp của khối)\n"
        "/bloc regulation Tên, số, ngày ban hành quy chế của khối (mỗi dòng một văn bản; gõ «-» "
        "để bỏ)"
    )

    created = (await tg.say(SECRETARY, "/ballot defaults"))[0].text
    assert "1. Thông qua dự thảo báo cáo tổng kết" in created
    assert "2. Đề nghị tặng Cờ thi đua của Chính phủ — " in created
    assert "3. Đề nghị tặng Bằng khen của Thủ tướng Chính phủ — " in created
    assert "4. Bầu Cụm trưởng năm sau" in created
    assert "UBND tỉnh" not in created  # no provincial award for a cluster of provinces

    await _round(tg, services, CLUSTER_CODE, 1, {})
    await _round(
        tg, services, CLUSTER_CODE, 2, {0: "Tỉnh Lào Cai", 1: "Tỉnh Lào Cai", 2: "Tỉnh Lào Cai"}
    )
    await _round(
        tg, services, CLUSTER_CODE, 3, {0: "Tỉnh Cao Bằng", 2: "Tỉnh Cao Bằng", 3: "Tỉnh Cao Bằng"}
    )

    memo = await _memo(tg)
    assert "Kính gửi: Hội đồng Thi đua - Khen thưởng Trung ương" in memo
    law = memo.index("Căn cứ Luật Thi đua, khen thưởng số 06/2022/QH15 ngày 15 tháng 6 năm 2022;")
    assert memo[law + 2] == (  # after the law and the decree, the cluster's own regulation
        "Căn cứ Quy chế tổ chức và hoạt động của Cụm thi đua các tỉnh biên giới phía Bắc ban "
        "hành kèm theo Quyết định số 12/QĐ-CTĐ ngày 15/3/2024;"
    )
    assert (
        f"{CLUSTER} kính đề nghị Hội đồng Thi đua - Khen thưởng Trung ương xem xét, trình cấp "
        "có thẩm quyền khen thưởng các đơn vị sau:"
    ) in memo
    assert "1. Cờ thi đua của Chính phủ: 01 đơn vị" in memo
    assert "2. Bằng khen của Thủ tướng Chính phủ: 01 đơn vị" in memo
    assert "Kính đề nghị Hội đồng Thi đua - Khen thưởng Trung ương xem xét, quyết định./." in memo
    assert _recipients(memo) == [
        "- Như trên;",
        "- Ban Thi đua - Khen thưởng Trung ương;",
        "- Lưu: VT.",
    ]
    assert not [line for line in memo if "tỉnh xem xét" in line or "UBND tỉnh" in line]

    assert await _summary_awards(tg) == (
        "Hội nghị đã bình xét, suy tôn, đề nghị 01 đơn vị được nhận Cờ thi đua của Chính phủ "
        "(Tỉnh Lào Cai); 01 đơn vị được tặng Bằng khen của Thủ tướng Chính phủ (Tỉnh Cao Bằng)."
    )

    # As the officer sees them (issue 20's acceptance, on a cluster of provinces): rendered by
    # LibreOffice, no blank or scrap page, page numbers, the text area kept, every signer's
    # name under room to sign, fonts embedded; the memo on one page.
    services.pdf = PdfConverter(soffice_path())
    sent = documents(await dispatch(tg, MockMessageText("/minutes", user=SECRETARY)))
    docx = {d.name: d.data for d in sent if d.name.endswith(".docx")}
    pdfs = {d.name: d.data for d in sent if d.name.endswith(".pdf")}
    assert sorted(pdfs) == ["bien-ban-hoi-nghi.pdf", "bien-ban-kiem-phieu.pdf", "to-trinh.pdf"]
    for name, data in pdfs.items():
        pdf = tmp_path / name
        pdf.write_bytes(data)
        assert problems(pdf, docx[name[:-4] + ".docx"], footer="Mã kiểm chứng nhật ký") == []
        assert [font for font, embedded in fonts(pdf) if not embedded] == [], name
    assert page_count(tmp_path / "to-trinh.pdf") == 1
    services.pdf = PdfConverter(None)

    # Addressed to the central board itself: the board is not copied a second time.
    await tg.say(SECRETARY, "/bloc addressee Ban Thi đua - Khen thưởng Trung ương")
    memo = await _memo(tg)
    assert "Kính gửi: Ban Thi đua - Khen thưởng Trung ương" in memo
    assert _recipients(memo) == ["- Như trên;", "- Lưu: VT."]


async def test_a_provincial_bloc_proposes_the_province_awards_to_the_provincial_council(
    tg: Harness, services: Services
) -> None:
    await conference_setup(tg, defaults=False)  # four provincial departments
    level = (await tg.say(SECRETARY, "/bloc cấp tỉnh"))[0].text
    assert level.startswith(
        "✅ Đã lưu.\n"
        "<b>Cấp của khối:</b> tỉnh, thành phố (khối, cụm thi đua của tỉnh)\n"
        "Tờ trình đề nghị khen thưởng — Kính gửi: Hội đồng Thi đua - Khen thưởng tỉnh "
        "(theo cấp của khối)\n"
        "Nơi nhận: - Như trên; - Ban Thi đua - Khen thưởng tỉnh; - Lưu: VT.\n"
        "Các hình thức khen thưởng /ballot defaults tạo:\n"
        "1. Cờ thi đua của Chính phủ — tối đa 1 đơn vị\n"
        "2. Cờ thi đua của UBND tỉnh — tối đa 1 đơn vị\n"
        "3. Bằng khen của Thủ tướng Chính phủ — tối đa 1 đơn vị\n"
        "4. Bằng khen của Chủ tịch UBND tỉnh — tối đa 3 đơn vị\n"
    )
    created = (await tg.say(SECRETARY, "/ballot defaults"))[0].text
    for line in (
        "2. Đề nghị tặng Cờ thi đua của Chính phủ — ",
        "3. Đề nghị tặng Cờ thi đua của UBND tỉnh — ",
        "4. Đề nghị tặng Bằng khen của Thủ tướng Chính phủ — ",
        "5. Đề nghị tặng Bằng khen của Chủ tịch UBND tỉnh (tối đa 3 đơn vị) — ",
        "6. Bầu Trưởng khối năm sau",
    ):
        assert line in created, line

    await _round(tg, services, BLOC_CODE, 1, {})
    gov = "Sở Giáo dục và Đào tạo"
    await _round(tg, services, BLOC_CODE, 2, {0: gov, 2: gov, 3: gov})
    flag = "Sở Thông tin và Truyền thông"
    await _round(tg, services, BLOC_CODE, 3, {0: flag, 1: flag, 2: flag})
    await _round(tg, services, BLOC_CODE, 4, {})  # the PM's certificate: nobody
    await _round(tg, services, BLOC_CODE, 5, {1: "Sở Y tế", 2: "Sở Y tế", 3: "Sở Y tế"})

    memo = await _memo(tg)
    assert "Kính gửi: Hội đồng Thi đua - Khen thưởng tỉnh" in memo
    assert [line for line in memo if line.startswith(("1. ", "2. ", "3. "))] == [
        "1. Cờ thi đua của Chính phủ: 01 đơn vị",
        "2. Cờ thi đua của UBND tỉnh: 01 đơn vị",
        "3. Bằng khen của Chủ tịch UBND tỉnh: 01 đơn vị",
    ]
    assert "Kính đề nghị Hội đồng Thi đua - Khen thưởng tỉnh xem xét, quyết định./." in memo
    assert _recipients(memo) == [
        "- Như trên;",
        "- Ban Thi đua - Khen thưởng tỉnh;",
        "- Lưu: VT.",
    ]
    assert not [line for line in memo if line.startswith("Căn cứ Quy chế")]  # none entered

    assert await _summary_awards(tg) == (
        "Hội nghị đã bình xét, suy tôn, đề nghị 01 đơn vị được nhận Cờ thi đua của Chính phủ "
        "(Sở Giáo dục và Đào tạo); 01 đơn vị được nhận Cờ thi đua của UBND tỉnh (Sở Thông tin "
        "và Truyền thông); 01 đơn vị được tặng Bằng khen của Chủ tịch UBND tỉnh (Sở Y tế)."
    )

    # The body the bloc reports to, set by name: the memo is addressed to it.
    await tg.say(SECRETARY, "/bloc addressee Hội đồng Thi đua - Khen thưởng tỉnh Điện Biên")
    memo = await _memo(tg)
    assert "Kính gửi: Hội đồng Thi đua - Khen thưởng tỉnh Điện Biên" in memo
    assert (
        "Kính đề nghị Hội đồng Thi đua - Khen thưởng tỉnh Điện Biên xem xét, quyết định./." in memo
    )
    assert _recipients(memo)[1] == "- Ban Thi đua - Khen thưởng tỉnh;"


async def _stored(services: Services) -> tuple[BlocLevel | None, str, str]:
    bloc = await bloc_by_code(services, BLOC_CODE)
    return bloc.level, bloc.reports_to, bloc.regulation


async def _audit_details(uow: UnitOfWork, bloc_id: int) -> list[dict[str, object]]:
    return [e.details for e in await uow.audit.recent(bloc_id, 50, action="bloc.level")]


async def test_the_level_settings_in_chat(tg: Harness, services: Services) -> None:
    await tg.admin_setup(units=[("Sở Y tế", "SYT"), ("Sở Tư pháp", "STP")])
    await join(tg, AN, "1")

    # A representative changes nothing.
    for command in ("/bloc level tỉnh", "/bloc addressee X", "/bloc regulation X", "/bloc level"):
        assert plain(await tg.say(AN, command)) == [(AN.id, NOT_SECRETARIAT)], command
    assert await _stored(services) == (None, "", "")

    shown = (await tg.say(SECRETARY, "/bloc level"))[0].text  # as it is: nothing saved
    assert shown.startswith("<b>Cấp của khối:</b> chưa chọn\n")
    assert "Kính gửi: Hội đồng Thi đua - Khen thưởng tỉnh (theo cấp của khối)\n" in shown

    assert plain(await tg.say(SECRETARY, "/bloc level đảo")) == [
        (
            S,
            "«đảo» không phải một cấp của khối. Gõ một trong: trung ương (cụm, khối các tỉnh), "
            "bộ (khối của một bộ, ngành), tỉnh, xã (khối của xã, phường), hoặc «không» để bỏ "
            "chọn.",
        )
    ]
    assert (await tg.say(SECRETARY, "/bloc level bo"))[0].text.startswith(
        "✅ Đã lưu.\n<b>Cấp của khối:</b> bộ, ngành"
    )
    assert (await _stored(services))[0] is BlocLevel.MINISTRY

    # Markup and decomposed letters: stored composed, shown as text.
    hostile = "Hội đồng Thi đua - Khen thưởng <b>Bộ</b> & Ngành"
    typed = unicodedata.normalize("NFD", hostile)
    reply = (await tg.say(SECRETARY, f"/bloc addressee {typed}"))[0].text
    assert "Kính gửi: Hội đồng Thi đua - Khen thưởng &lt;b&gt;Bộ&lt;/b&gt; &amp; Ngành\n" in reply
    assert await _stored(services) == (BlocLevel.MINISTRY, hostile, "")

    # Too long: refused with the limit, nothing saved.
    too_long = "Hội đồng " + "x" * 292
    assert len(too_long) == 301
    assert plain(await tg.say(SECRETARY, f"/bloc addressee {too_long}")) == [
        (
            S,
            "Cơ quan nhận tờ trình (Kính gửi) quá dài: 301 ký tự, tối đa 300 ký tự. Chưa có gì "
            "được lưu: hãy rút gọn rồi gửi lại.",
        )
    ]
    rules = "Quy chế " + "y" * 993
    assert plain(await tg.say(SECRETARY, f"/bloc regulation {rules}")) == [
        (
            S,
            "Quy chế của khối quá dài: 1.001 ký tự, tối đa 1.000 ký tự. Chưa có gì được lưu: "
            "hãy rút gọn rồi gửi lại.",
        )
    ]
    assert await _stored(services) == (BlocLevel.MINISTRY, hostile, "")

    # Two documents on two lines (the command's first line may hold nothing else).
    regulation = unicodedata.normalize(
        "NFD", "Quy chế <i>của Khối</i>\n\n  Hướng dẫn số 01/HD-K  "
    )
    reply = (await tg.say(SECRETARY, f"/bloc quy_chế\n{regulation}"))[0].text
    assert "• Căn cứ Quy chế &lt;i&gt;của Khối&lt;/i&gt;;\n• Căn cứ Hướng dẫn số 01/HD-K;" in reply
    assert await _stored(services) == (
        BlocLevel.MINISTRY,
        hostile,
        "Quy chế <i>của Khối</i>\nHướng dẫn số 01/HD-K",
    )

    # «-» goes back to the level's body, and removes the regulation; «không» the level.
    await tg.say(SECRETARY, "/bloc kinhgui -")
    await tg.say(SECRETARY, "/bloc regulation -")
    cleared = (await tg.say(SECRETARY, "/bloc level không"))[0].text
    assert "Kính gửi: Hội đồng Thi đua - Khen thưởng tỉnh (theo cấp của khối)" in cleared
    assert await _stored(services) == (None, "", "")

    # Shown to every member with the bloc, once set.
    await tg.say(SECRETARY, "/bloc level tinh")
    assert (
        "\nCấp của khối: tỉnh, thành phố (khối, cụm thi đua của tỉnh)\n"
        in (await tg.say(AN, "/bloc"))[0].text
    )

    bloc = await bloc_by_code(services, BLOC_CODE)
    async with services.db.uow() as uow:
        entries = await _audit_details(uow, bloc.id)
    # Newest first: one entry per change, none for the refusals.
    assert [e["changed"] for e in entries] == [
        ["level"],
        ["level"],
        ["regulation"],
        ["reports_to"],
        ["regulation"],
        ["reports_to"],
        ["level"],
    ]
    assert entries[3]["reports_to"] == ""
    assert entries[4]["regulation"] == "Quy chế <i>của Khối</i>\nHướng dẫn số 01/HD-K"
    assert entries[-1]["level"] == "ministry"
