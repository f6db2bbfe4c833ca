"""The organizer's screens at their real size: the QR table tents printed on
A4 with a long table name, the projector on 4:3 and 16:9 screens, and no
axe-core violation on any organizer or sign-in page, in French and English."""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from workshop.extensions import db
from workshop.models import Table

from .browser import sign_in

LONG_NAME = "Transition énergétique et rénovation des logements anciens du centre-bourg"
MM = 96 / 25.4  # CSS pixels per millimetre
# A4 less the tents' 8 mm print margins: the printed area, in CSS pixels
PRINTED = {"width": round(194 * MM), "height": round(281 * MM)}


def rename_first_table(site, name: str):
    with site.app.app_context():
        table = db.session.get(Table, site.evening.tables[0].id)
        table.name = name
        db.session.commit()
        db.session.remove()


def boxes(page, face):
    """The face's box and its parts' boxes, and whether the name is cut."""
    return face.evaluate(
        """face => {
            const box = el => { const r = el.getBoundingClientRect();
                return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                        height: r.height}; };
            const name = face.querySelector('.tent-name');
            const number = face.querySelector('.tent-number');
            return {face: box(face), code: box(face.querySelector('.tent-code strong')),
                    name: box(name), qr: box(face.querySelector('.tent-qr svg')),
                    nameCut: name.scrollHeight > name.clientHeight + 1
                             || name.scrollWidth > name.clientWidth + 1,
                    numberSize: parseFloat(getComputedStyle(number).fontSize),
                    numberHeight: box(number).height};
        }"""
    )


def inside(part, face) -> bool:
    return (
        part["top"] >= face["top"] - 0.5
        and part["bottom"] <= face["bottom"] + 0.5
        and part["left"] >= face["left"] - 0.5
        and part["right"] <= face["right"] + 0.5
        and part["height"] > 0
    )


def test_the_table_tents_print_a_long_name_the_code_and_a_large_number_on_a4(site, new_page):
    rename_first_table(site, LONG_NAME)
    table = site.evening.tables[0]
    page = new_page(laptop=True)
    sign_in(page, site)
    page.set_viewport_size(PRINTED)
    page.emulate_media(media="print")
    page.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/tents")
    tent = page.locator("section.tent").first
    expect(tent.locator(".tent-name").first).to_have_text(LONG_NAME)
    sheet = tent.bounding_box()
    assert abs(sheet["height"] - 281 * MM) < 2, sheet  # one printed page
    fold = sheet["y"] + sheet["height"] / 2  # the fold, in the middle of the A4 page
    faces = tent.locator(".tent-face")
    expect(faces).to_have_count(2)
    for index, half in enumerate(("top", "bottom")):
        found = boxes(page, faces.nth(index))
        face = found["face"]
        if half == "top":
            assert face["bottom"] <= fold + 1, (half, face, fold)
        else:
            assert face["top"] >= fold - 1, (half, face, fold)
        assert inside(found["code"], face), (half, "the join code is cut", found)
        assert inside(found["qr"], face), (half, "the QR code is cut", found)
        assert inside(found["name"], face), (half, "the name crosses the fold", found)
        assert not found["nameCut"], (half, "the name is cut", found)
        # the number, looked for across a hall: at least 15 mm high letters
        assert found["numberSize"] >= 15 * MM, (half, found["numberSize"] / MM)
        assert found["numberHeight"] >= 15 * MM, (half, found["numberHeight"] / MM)

    # the real A4 print: one page per table, its join code on both faces
    pdf = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
    assert len(pdf.pages) == len(site.evening.tables)
    width, height = (float(v) / 72 * 25.4 for v in pdf.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (210, 297)
    text = pdf.pages[0].extract_text()
    assert text.count(table.join_code) >= 2, text
