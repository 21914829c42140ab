"""The streamed ZIP of meeting materials: readable by zipfile and by Info-ZIP, names flagged
UTF-8, safe and unique, files opened one at a time as the archive is sent."""

import io
import os
import shutil
import struct
import subprocess
import zipfile
from datetime import datetime

import pytest

from renkei.services import zip_stream
from renkei.services.dates import TOKYO
from renkei.services.zip_stream import safe_name, stream_zip


def opener(data: bytes, log: list[str] | None = None, name: str = ""):
    def open_it():
        if log is not None:
            log.append(f"open {name}")
        return io.BytesIO(data)

    return open_it


def unzipped(chunks) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(chunks)))


def test_the_archive_holds_each_file_under_its_name():
    plan = "計画案の本文。".encode() * 1000
    entries = [
        ("資料1_地域福祉計画（案）.pdf", opener(b"%PDF-1.7 plan")),
        ("資料2_予算書.xlsx", opener(b"PK budget")),
        ("議事メモ.txt", opener(plan)),
    ]

    archive = unzipped(stream_zip(entries))

    assert archive.namelist() == [
        "資料1_地域福祉計画（案）.pdf",
        "資料2_予算書.xlsx",
        "議事メモ.txt",
    ]
    assert archive.read("資料1_地域福祉計画（案）.pdf") == b"%PDF-1.7 plan"
    assert archive.read("議事メモ.txt") == plan
    assert archive.testzip() is None


def test_japanese_names_are_flagged_utf8_in_the_local_and_central_headers():
    data = b"".join(stream_zip([("資料1_計画.pdf", opener(b"x")), ("plain.txt", opener(b"y"))]))

    local_flags = struct.unpack("<H", data[6:8])[0]  # the first local file header
    assert data[:4] == b"PK\x03\x04"
    assert local_flags & 0x800
    assert data[30 : 30 + len("資料1_計画.pdf".encode())] == "資料1_計画.pdf".encode()
    infos = {info.filename: info for info in zipfile.ZipFile(io.BytesIO(data)).infolist()}
    assert infos["資料1_計画.pdf"].flag_bits & 0x800
    assert not infos["plain.txt"].flag_bits & 0x800  # ASCII needs no flag


def test_entries_carry_data_descriptors_rather_than_a_header_written_again():
    """The archive is written forwards only: sizes and checksums follow each entry's data."""
    archive = unzipped(stream_zip([("a.txt", opener(b"abc" * 1000))]))

    assert archive.infolist()[0].flag_bits & 0x08


def test_files_are_opened_one_at_a_time_as_the_archive_is_sent():
    log: list[str] = []
    big = os.urandom(3 * zip_stream.CHUNK)
    entries = [
        ("one.bin", opener(big, log, "one")),
        ("two.bin", opener(big, log, "two")),
    ]

    chunks = stream_zip(entries)
    first = next(chunks)

    assert log == ["open one"]  # the second is not yet opened
    assert len(first) < 2 * zip_stream.CHUNK
    rest = list(chunks)
    assert log == ["open one", "open two"]
    assert len(rest) >= 4  # sent in pieces, not as one
    assert unzipped([first, *rest]).read("two.bin") == big


def test_each_file_is_closed_before_the_next_is_opened():
    files: list[io.BytesIO] = []

    def tracked(data: bytes):
        def open_it():
            assert all(f.closed for f in files)
            files.append(io.BytesIO(data))
            return files[-1]

        return open_it

    list(stream_zip([("a.txt", tracked(b"a")), ("b.txt", tracked(b"b"))]))

    assert len(files) == 2 and all(f.closed for f in files)


def test_pdfs_are_stored_and_text_is_deflated():
    text = b"the same line again\n" * 500
    archive = unzipped(stream_zip([("a.pdf", opener(text)), ("a.txt", opener(text))]))

    kinds = {info.filename: info.compress_type for info in archive.infolist()}
    assert kinds == {"a.pdf": zipfile.ZIP_STORED, "a.txt": zipfile.ZIP_DEFLATED}


def test_the_entries_carry_the_time_in_tokyo():
    when = datetime(2026, 11, 30, 23, 30, tzinfo=TOKYO)

    archive = unzipped(stream_zip([("a.txt", opener(b"a"))], when=when))

    assert archive.infolist()[0].date_time == (2026, 11, 30, 23, 30, 0)


def test_an_empty_list_makes_an_empty_archive():
    assert unzipped(stream_zip([])).namelist() == []


def test_the_same_name_twice_is_numbered():
    entries = [
        ("資料1_計画.pdf", opener(b"first")),
        ("資料1_計画.pdf", opener(b"second")),
        ("資料1_計画.PDF", opener(b"third")),  # the same to Windows
        ("資料1_計画 (2).pdf", opener(b"fourth")),  # already taken by the second
        ("README", opener(b"r")),
        ("readme", opener(b"r")),
    ]

    archive = unzipped(stream_zip(entries))

    assert archive.namelist() == [
        "資料1_計画.pdf",
        "資料1_計画 (2).pdf",
        "資料1_計画 (3).PDF",
        "資料1_計画 (2) (2).pdf",
        "README",
        "readme (2)",
    ]
    assert archive.read("資料1_計画 (2).pdf") == b"second"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "etc_passwd"),
        ("..\\..\\Windows\\win.ini", "Windows_win.ini"),
        ("/absolute/計画.pdf", "absolute_計画.pdf"),
        ("..", "_"),
        ("", "_"),
        ("計画\x00案\r\n.pdf", "計画 案.pdf"),
        ("会議\u202eFDP.exe", "会議 FDP.exe"),  # a right-to-left override hides the extension
        ('案<1>:"最終"?*|.docx', "案_1___最終____.docx"),
        (" .隠し. ", "隠し"),
        ("CON.txt", "_CON.txt"),
        ("com1", "_com1"),
        ("か\u3099いき\u3099.pdf", "がいぎ.pdf"),  # macOS writes names decomposed
    ],
)
def test_names_are_made_safe_to_unpack(name, safe):
    assert safe_name(name) == safe


def test_a_long_name_is_cut_keeping_its_extension():
    name = safe_name("長" * 300 + ".pdf")

    assert len(name) == zip_stream.MAX_NAME
    assert name.endswith("長.pdf")


def test_a_name_with_a_dot_far_from_its_end_is_cut_as_a_whole():
    name = safe_name("第3回会議.補足資料" + "あ" * 200)

    assert len(name) == zip_stream.MAX_NAME


def test_a_file_that_cannot_seek_is_written_too():
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self.data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = os.urandom(200_000)

    archive = unzipped(stream_zip([("pipe.bin", lambda: io.BufferedReader(Pipe(data)))]))

    assert archive.read("pipe.bin") == data


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP's unzip is not installed")
def test_info_zip_reads_the_archive(tmp_path):
    path = tmp_path / "資料.zip"
    path.write_bytes(
        b"".join(
            stream_zip(
                [
                    ("資料1_計画.pdf", opener(os.urandom(100_000))),
                    ("メモ.txt", opener("本文".encode() * 10_000)),
                ]
            )
        )
    )

    tested = subprocess.run(["unzip", "-t", str(path)], capture_output=True, check=False)

    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert b"No errors detected" in tested.stdout
