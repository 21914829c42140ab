"""The demo town's meeting materials (資料): a 計画案, a 地図 and a 予算表 drawn as small PDFs
with reportlab, and a CSV list, uploaded through ``materials`` as a secretary would.

Every file is made the same on every load (reportlab's ``invariant`` mode leaves out the
creation time and the random document id), so the demo's hashes and store are repeatable,
and small enough that loading stays quick.
"""

import io
from collections.abc import Callable

from flask import current_app
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.orm import Session

from renkei.models import AgendaItem, Material, MeetingSession, Person, Visibility
from renkei.services import materials
from renkei.services.material_store import store_of
from renkei.services.pdf_tools import A4, FONT

Draw = Callable[[Canvas], None]


def pdf(*pages: Draw) -> bytes:
    """A4 pages drawn by ``pages``, in the CID font viewers carry (nothing embedded)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    for draw in pages:
        draw(canvas)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _heading(canvas: Canvas, title: str, subtitle: str = "") -> None:
    canvas.setFont(FONT, 18)
    canvas.drawCentredString(A4[0] / 2, A4[1] - 90, title)
    if subtitle:
        canvas.setFont(FONT, 11)
        canvas.drawCentredString(A4[0] / 2, A4[1] - 115, subtitle)


def _lines(canvas: Canvas, lines: list[str], top: float = 160, size: float = 11) -> None:
    canvas.setFont(FONT, size)
    for number, line in enumerate(lines):
        canvas.drawString(72, A4[1] - top - number * size * 1.9, line)


def plan(revised: bool = False) -> bytes:
    """The 計画案 of the 通いの場 (two pages; the revised one moves the start)."""
    start = "令和9年1月" if revised else "令和8年12月"

    def outline(canvas: Canvas) -> None:
        _heading(
            canvas,
            "通いの場 立ち上げ計画（案）",
            "第1層協議体 事務局" + ("（修正版）" if revised else ""),
        )
        _lines(
            canvas,
            [
                "1. 目的　高齢者が歩いて通える集いの場を東地区に設ける。",
                f"2. 開始　{start}から、月2回（第1・第3火曜日 10時〜11時30分）。",
                "3. 会場　東地区公民館 和室（自治会の協力により無償で借用）。",
                "4. 内容　いきいき体操、茶話会、保健師による健康相談（年4回）。",
                "5. 担い手　地区の住民ボランティア6名、社会福祉協議会が支援する。",
            ],
        )

    def schedule(canvas: Canvas) -> None:
        _heading(canvas, "立ち上げまでの段取り")
        _lines(
            canvas,
            [
                "・担い手向けの体操講習会（2回）",
                "・回覧板とチラシによる参加者の募集",
                "・送迎が必要な方の把握（民生委員の協力）",
                "・初回の後、参加者の声を協議体に報告する。",
            ],
        )

    return pdf(outline, schedule)


def area_map() -> bytes:
    """The 地図: roads and the stops of the mobile shop, as a sketch map."""

    def draw(canvas: Canvas) -> None:
        _heading(canvas, "買い物支援マップ（東地区）", "移動販売の停留所")
        canvas.setLineWidth(6)
        canvas.setStrokeGray(0.75)
        canvas.line(60, 500, 540, 500)  # the main road
        canvas.line(300, 200, 300, 680)  # the prefectural road
        canvas.line(120, 300, 480, 640)
        canvas.setLineWidth(1)
        canvas.setStrokeGray(0)
        for x, y, name in [
            (160, 500, "① 東地区公民館前"),
            (300, 620, "② 北団地集会所"),
            (300, 300, "③ みどり町保健センター"),
            (430, 590, "④ 旧駄菓子店前"),
        ]:
            canvas.circle(x, y, 7, stroke=1, fill=1)
            canvas.setFont(FONT, 10)
            canvas.drawString(x + 12, y + 8, name)
        canvas.setFont(FONT, 9)
        canvas.drawString(72, 150, "停留所は毎週水曜日 10時〜12時。地図は略図です。")

    return pdf(draw)


BUDGET = [
    ("体操講習会の講師謝礼", "2回", "20,000"),
    ("チラシ印刷", "500部", "8,000"),
    ("会場の保険", "1年", "6,000"),
    ("茶話会の消耗品", "24回", "12,000"),
]


def budget() -> bytes:
    """The 予算表: a small table of the first year's costs."""

    def draw(canvas: Canvas) -> None:
        _heading(canvas, "通いの場 初年度予算表", "（単位：円）")
        top, rows = A4[1] - 170, [("費目", "数量", "金額"), *BUDGET, ("合計", "", "46,000")]
        canvas.setFont(FONT, 11)
        for number, (item, amount, cost) in enumerate(rows):
            y = top - number * 26
            canvas.rect(72, y - 8, 450, 26, stroke=1, fill=0)
            canvas.drawString(82, y, item)
            canvas.drawString(330, y, amount)
            canvas.drawRightString(510, y, cost)

    return pdf(draw)


def case_summary() -> bytes:
    """A closed paper of the 支援会議: named by the case, never by the person."""

    def draw(canvas: Canvas) -> None:
        _heading(canvas, "個別ケース 概要（支援会議限り）", "取扱注意")
        _lines(
            canvas,
            [
                "・経過　家賃の滞納が3か月続き、通院が途絶えている。",
                "・把握の経路　地域包括支援センターと社会福祉協議会から。",
                "・論点　住まいの確保と受診の再開、見守りの分担。",
            ],
        )

    return pdf(draw)


STOPS_CSV = (
    "\ufeff番号,停留所,曜日,時間\r\n"
    "1,東地区公民館前,水,10:00\r\n"
    "2,北団地集会所,水,10:40\r\n"
    "3,みどり町保健センター,水,11:20\r\n"
    "4,旧駄菓子店前,水,11:50\r\n"
).encode()


def upload(
    db: Session,
    session: MeetingSession,
    item: AgendaItem | None,
    filename: str,
    content: bytes,
    *,
    by: Person,
    title: str = "",
    visibility: Visibility | None = None,
) -> Material:
    return materials.upload(
        db,
        session,
        materials.Upload(io.BytesIO(content), filename),
        by=by,
        store=store_of(),
        limits=materials.Limits.of(current_app),
        item=item,
        title=title,
        visibility=visibility.value if visibility is not None else None,
    )


def replace(db: Session, material: Material, filename: str, content: bytes, by: Person) -> None:
    materials.replace(
        db,
        material,
        materials.Upload(io.BytesIO(content), filename),
        by=by,
        store=store_of(),
        limits=materials.Limits.of(current_app),
    )
