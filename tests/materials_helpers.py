"""Files for the materials tests: small valid ones of each kind, and the bad ones the issue
names (disguised, empty, a zip bomb)."""

import io
import zipfile

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"


def ooxml(folder: str = "word/", content_types: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        if content_types:
            package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(f"{folder}document.xml", "<document/>")
    return buffer.getvalue()


def zip_bomb() -> bytes:
    """A .docx-looking package whose central directory says its part expands to nearly 4 GB
    (a real bomb's ratio, written without making one): only the directory may be read."""
    package = bytearray(ooxml())
    entry = package.rindex(b"PK\x01\x02")  # the last central directory entry: the part
    package[entry + 24 : entry + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    return bytes(package)


def upload_by_form(client, session, content: bytes, name: str, item=None, **fields):
    """Upload as the secretariat's materials page does: its form token, the file, the item."""
    page = f"/sessions/{session.id}/materials"
    token = client.get(page).get_data(as_text=True).split('name="form_token" value="')[1]
    data = {
        "file": (io.BytesIO(content), name),
        "item_id": str(item.id) if item else "",
        "form_token": token.split('"')[0],
        **fields,
    }
    return client.post(page, data=data, content_type="multipart/form-data")
