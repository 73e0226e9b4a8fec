"""Reply attachments: checked by content, stored under a generated name, served only through the scope."""
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from docx import Document

from suggestions import workflow
from suggestions.forms import ReplyForm
from suggestions.uploads import OLE_MAGIC
from tests.base import make_user

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def docx_bytes(text="答复函"):
    out = io.BytesIO()
    doc = Document()
    doc.add_paragraph(text)
    doc.save(out)
    return out.getvalue()


def zip_bytes(names):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in names:
            z.writestr(name, "<x/>")
    return out.getvalue()


def form_with(name, content):
    return ReplyForm({"outcome": "solved", "body": "答复正文"},
                     {"attachment": SimpleUploadedFile(name, content, content_type="application/pdf")})


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize(("name", "content", "ext"), [
    ("答复函.pdf", PDF, "pdf"),
    ("letter.docx", docx_bytes(), "docx"),
    ("letter.doc", OLE_MAGIC + b"\0" * 504 + "WordDocument".encode("utf-16-le") + b"\0" * 64, "doc"),
    ("../../etc/passwd.pdf", PDF, "pdf"),      # the name says nothing, the bytes do
    ("scan.docx", PDF, "pdf"),                  # stored as what it is
])
def test_it_accepts_pdf_and_word_by_their_content_under_a_generated_name(name, content, ext):
    form = form_with(name, content)
    assert form.is_valid(), form.errors
    stored = form.cleaned_data["attachment"].name
    stem, _, suffix = stored.rpartition(".")
    assert suffix == ext and len(stem) == 32 and stem.isalnum() and "passwd" not in stored


@pytest.mark.parametrize(("name", "content"), [
    ("letter.pdf", b"<html><script>alert(1)</script></html>"),          # HTML named .pdf
    ("archive.docx", zip_bytes(["readme.txt", "evil.exe"])),              # any zip named .docx
    ("macro.docx", zip_bytes(["[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"])),
    ("sheet.doc", OLE_MAGIC + b"\0" * 504 + "Workbook".encode("utf-16-le")),  # Excel, not Word
    ("broken.docx", b"PK\x03\x04" + b"\0" * 100),                        # a zip that is not one
    ("empty.pdf", b""),
])
def test_it_refuses_anything_else_whatever_its_name(name, content):
    form = form_with(name, content)
    assert not form.is_valid() and "attachment" in form.errors


def test_it_refuses_a_file_over_the_size_limit(settings):
    settings.UPLOAD_MAX_BYTES = len(PDF) - 1
    assert "attachment" in form_with("big.pdf", PDF).errors


def _drafted_with_attachment(client, people):
    s = people.assigned()
    a = s.assignments.get()
    workflow.accept(a, actor=people.handler)
    workflow.add_contact(a, actor=people.handler, method="phone", contacted_on=a.assigned_on,
                         participants="王代表", summary="电话")
    client.force_login(people.handler)
    r = client.post(reverse("suggestions:assignment_step", args=[a.pk, "draft_reply"]), {
        f"draft_reply-{a.pk}-outcome": "solved", f"draft_reply-{a.pk}-body": "答复",
        f"draft_reply-{a.pk}-attachment": SimpleUploadedFile("<b>我的答复</b>.pdf", PDF)})
    assert r.status_code == 302
    return s, a, a.replies.get()


def test_it_serves_a_draft_only_to_its_department_and_the_office(client, people):
    s, a, reply = _drafted_with_attachment(client, people)
    assert "<b>" not in reply.attachment.name and reply.attachment.name.endswith(".pdf")
    url = reverse("suggestions:reply_attachment", args=[reply.pk])
    r = client.get(url)
    assert r.status_code == 200 and b"".join(r.streaming_content) == PDF
    assert r["Content-Disposition"].startswith("attachment")
    for who, status in (("office", 200), ("liaison", 200), ("leader", 200), ("handler2", 404)):
        client.force_login(getattr(people, who))
        assert client.get(url).status_code == status, who
    client.logout()
    r = client.get(url)
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


def test_it_serves_a_sent_reply_to_the_deputy_and_a_draft_not(client, people):
    s, a, reply = _drafted_with_attachment(client, people)
    deputy_user = make_user("deputy")
    people.deputy.user = deputy_user
    people.deputy.save()
    url = reverse("suggestions:reply_attachment", args=[reply.pk])
    client.force_login(deputy_user)
    assert client.get(url).status_code == 404
    page = client.get(reverse("suggestions:detail", args=[s.pk])).content.decode()
    assert url not in page  # the draft is not shown to the deputy at all
    workflow.sign_reply(reply, actor=people.leader, document_number="静建函〔2025〕9号")
    assert client.get(url).status_code == 200
    assert url in client.get(reverse("suggestions:detail", args=[s.pk])).content.decode()


def test_it_never_serves_uploads_from_a_media_path(client, people, media):
    s, a, reply = _drafted_with_attachment(client, people)
    assert (media / reply.attachment.name).exists()
    for who in (None, people.office):
        if who:
            client.force_login(who)
        else:
            client.logout()
        for path in (f"/media/{reply.attachment.name}", f"/{reply.attachment.name}", reply.attachment.url):
            r = client.get(path if path.startswith("/") else f"/{path}")
            assert r.status_code == 404, path
            assert PDF not in (b"".join(r.streaming_content) if r.streaming else r.content)
