"""What an uploaded reply attachment really is, read from its bytes, never from its name.

A reply letter is a PDF or a Word document (.docx, or the old .doc). The name the browser sent is
thrown away: the stored name is generated, with the extension of the detected type, so that no
user-chosen text reaches a path or a download header.
"""
import uuid
import zipfile

from django import forms
from django.utils.translation import gettext_lazy as _

PDF_MAGIC = b"%PDF-"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# An OLE compound file is a Word document when its directory names the "WordDocument" stream.
WORD_STREAM = "WordDocument".encode("utf-16-le")


def _read_all(f):
    f.seek(0)
    data = f.read()
    f.seek(0)
    return data


def kind_of(f):
    """"pdf", "doc" or "docx" when the content is one of them; None otherwise."""
    f.seek(0)
    head = f.read(8)
    f.seek(0)
    if head.startswith(PDF_MAGIC):
        return "pdf"
    if head.startswith(OLE_MAGIC):
        return "doc" if WORD_STREAM in _read_all(f) else None
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(f) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            f.seek(0)
        # A Word document, not any zip; and not a macro-enabled one renamed to .docx.
        if {"[Content_Types].xml", "word/document.xml"} <= names and "word/vbaProject.bin" not in names:
            return "docx"
    return None


def checked_attachment(f, max_bytes):
    """The upload with a safe generated name, or a ValidationError saying what is wrong."""
    if f.size > max_bytes:
        raise forms.ValidationError(_("The file is larger than the allowed size."))
    kind = kind_of(f)
    if kind is None:
        raise forms.ValidationError(_("Attach a PDF or Word document."))
    f.name = f"{uuid.uuid4().hex}.{kind}"
    return f
