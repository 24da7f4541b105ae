"""CSV import: a preview saves nothing, errors carry line numbers, confirming imports once."""

from __future__ import annotations

import base64
import io
import re

from admin_helpers import field_errors

from tracker.models import AuditEvent, Donation

GOOD_CSV = ("campaign,amount,currency,received_at,external_id,donor_name\n"
            "demo,10.00,USD,2026-11-01T10:00:00+00:00,bank-1,Ada\n"
            "demo,5,USD,2026-11-02T10:00:00+00:00,bank-2,\"=cmd|' /C calc'!A0\"\n")
BAD_CSV = ("campaign,amount,currency,received_at\n"
           "demo,10.00,USD,2026-11-01T10:00:00+00:00\n"
           "demo,12,50,USD,2026-11-01T10:00:00+00:00\n"
           "nope,3,USD,2026-11-01T10:00:00+00:00\n"
           "demo,1e3,USD,2026-11-01T10:00:00+00:00\n")


def upload(client, text: str, name: str = "donations.csv"):
    return client.post("/admin/donations/import", data={"file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def confirm_fields(html: str) -> dict[str, str]:
    return {name: re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html).group(1)
            for name in ("payload", "signature")}


def test_preview_saves_nothing_and_confirm_imports(admin, make_campaign, count, donations):
    make_campaign("demo")
    assert admin.get("/admin/donations/import").status_code == 200
    preview = upload(admin, GOOD_CSV)
    assert preview.status_code == 200
    html = preview.data.decode()
    assert "2 new donations" in html and "Nothing has been saved" in html
    assert count(Donation) == 0 and count(AuditEvent) == 1  # only the campaign's creation
    fields = confirm_fields(html)
    response = admin.post("/admin/donations/import/confirm", data=fields)
    assert response.status_code == 302
    rows = donations()
    assert [(d.amount_minor, d.external_id, d.source) for d in rows] == [(1000, "bank-1", "import"),
                                                                         (500, "bank-2", "import")]
    # Importing the same file again adds nothing: the external ids are already in the ledger.
    again = upload(admin, GOOD_CSV).data.decode()
    assert "0 new donations,\n     2 already in the ledger" in again
    assert 'name="payload"' not in again
    # Even a replayed confirmation (a double click, a reload) adds nothing.
    replay = admin.post("/admin/donations/import/confirm", data=fields, follow_redirects=True)
    assert b"Imported 0 donations; 2 were already in the ledger." in replay.data
    assert count(Donation) == 2


def test_errors_are_listed_by_line_and_nothing_can_be_confirmed(admin, make_campaign, count):
    make_campaign("demo")
    response = upload(admin, BAD_CSV)
    assert response.status_code == 422
    html = response.data.decode()
    assert "1 new donation" in html and "3 refused rows" in html
    assert re.search(r"<td>3</td><td>[^<]*</td>", html)
    assert "<td>4</td><td>no campaign &#39;nope&#39;: create it first</td>" in html
    assert re.search(r"<td>5</td><td>exponent notation", html)
    assert 'name="payload"' not in html
    assert count(Donation) == 0


def test_rows_without_a_key_are_imported_once_even_when_the_file_comes_again(admin, make_campaign, count):
    """Rows with neither uid nor external_id get a uid from their content: a second import adds nothing."""
    make_campaign("demo")
    text = ("campaign,amount,currency,received_at,external_id\n"
            "demo,1,USD,2026-11-01T10:00:00+00:00,\n"
            "demo,2,USD,2026-11-01T10:00:00+00:00,ref-2\n")
    response = admin.post("/admin/donations/import/confirm", data=confirm_fields(upload(admin, text).data.decode()))
    assert response.status_code == 302
    again = upload(admin, text).data.decode()
    assert "Nothing new to import." in again and 'name="payload"' not in again
    assert count(Donation) == 2


def test_a_changed_preview_is_refused(admin, make_campaign, count):
    make_campaign("demo")
    fields = confirm_fields(upload(admin, GOOD_CSV).data.decode())
    forged = GOOD_CSV.replace("10.00", "9999.00")
    fields["payload"] = base64.b64encode(forged.encode()).decode()
    response = admin.post("/admin/donations/import/confirm", data=fields)
    assert response.status_code == 422
    assert "changed on the way" in field_errors(response.data, "file")
    assert count(Donation) == 0


def test_unreadable_files_are_explained(admin, make_campaign):
    make_campaign("demo")
    missing = upload(admin, "name,amount\nx,1\n")
    assert missing.status_code == 422
    assert "lacks the column(s) campaign, currency, received_at" in field_errors(missing.data, "file")
    binary = admin.post("/admin/donations/import", data={"file": (io.BytesIO(b"\xff\xfe\x00bad"), "x.csv")},
                        content_type="multipart/form-data")
    assert binary.status_code == 422
    assert "not UTF-8" in field_errors(binary.data, "file")
    empty = admin.post("/admin/donations/import", data={}, content_type="multipart/form-data")
    assert empty.status_code == 422


def preview_rows(html: str) -> list[list[str]]:
    table = html.split('id="import-rows"')[1].split("</table>")[0]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)]


def test_the_preview_lists_the_rows_as_they_will_be_recorded_escaped(admin, make_campaign):
    make_campaign("demo")
    text = ("campaign,amount,currency,received_at,external_id,donor_name,status\n"
            "demo,10.00,USD,2026-11-01T10:00:00+01:00,bank-1,<b>Ada</b>,\n"
            "demo,5,USD,2026-11-02T10:00:00+00:00,,Bob,pending\n")
    html = upload(admin, text).data.decode()
    assert "The 2 new donations, as they will be recorded" in html
    assert preview_rows(html) == [
        ["2", "2026-11-01 09:00 UTC", "demo", "$10.00", "USD", "$10.00", "&lt;b&gt;Ada&lt;/b&gt;", "bank-1", "confirmed"],
        ["3", "2026-11-02 10:00 UTC", "demo", "$5.00", "USD", "$5.00", "Bob", "none: known by its content", "pending"]]
    assert "<b>Ada" not in html
    german = admin.post("/admin/donations/import?locale=de", data={"file": (io.BytesIO(text.encode()), "d.csv")},
                        content_type="multipart/form-data").data.decode()
    assert "Die 2 neuen Spenden, wie sie erfasst werden" in german and "ausstehend" in german


def test_the_preview_shows_the_first_twenty_rows_and_the_refused_ones(admin, make_campaign):
    make_campaign("demo")
    lines = [f"demo,{n},USD,2026-11-01T10:00:00+00:00,ref-{n}" for n in range(1, 31)]
    html = upload(admin, "campaign,amount,currency,received_at,external_id\n" + "\n".join(lines) + "\n").data.decode()
    rows = preview_rows(html)
    assert len(rows) == 20 and rows[0][0] == "2" and rows[-1][0] == "21" and rows[-1][7] == "ref-20"
    assert "The first 20 of 30 new donations, as they will be recorded" in html
    refused = upload(admin, BAD_CSV).data.decode()
    assert [row[0] for row in preview_rows(refused)] == ["2"]  # what would be recorded, beside what is refused
    assert "Refused rows" in refused and "<td>4</td><td>no campaign &#39;nope&#39;: create it first</td>" in refused


def test_the_preview_warns_about_rows_without_an_id(admin, make_campaign):
    """docs/admin.md: rows without uid or external id are known by their content, and the preview says so."""
    make_campaign("demo")
    keyed = upload(admin, GOOD_CSV).data.decode()
    assert 'id="import-without-key"' not in keyed
    text = ("campaign,amount,currency,received_at,external_id\n"
            "demo,1,USD,2026-11-01T10:00:00+00:00,\n"
            "demo,1,USD,2026-11-01T10:00:00+00:00,\n"
            "demo,2,USD,2026-11-01T10:00:00+00:00,ref-2\n")
    html = upload(admin, text).data.decode()
    warning = html.split('id="import-without-key">')[1].split("</p>")[0]
    assert "2 rows have neither a uid nor an external id" in warning and "added a second time" in warning
    assert "3 new donations" in html  # two identical gifts in one file stay two


def test_a_blank_external_id_is_no_key_and_the_row_is_imported_once(admin, make_campaign, count):
    make_campaign("demo")
    text = "campaign,amount,currency,received_at,external_id\ndemo,1,USD,2026-11-01T10:00:00+00:00,   \n"
    preview = upload(admin, text).data.decode()
    assert "1 row has neither a uid nor an external id" in preview
    assert admin.post("/admin/donations/import/confirm", data=confirm_fields(preview)).status_code == 302
    assert "Nothing new to import." in upload(admin, text).data.decode()
    assert count(Donation) == 1
