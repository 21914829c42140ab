"""Benchmark: memory while meeting materials are sent as one ZIP, and while a large PDF is
watermarked.

Writes files of random bytes into a temporary folder, then, each in a fresh process so that
the peak is its own: streams them through ``zip_stream.stream_zip`` into nothing (as a
response sends them), and, for comparison, builds the same ZIP in memory; then watermarks a
PDF of photographs (random JPEGs) with ``pdf_tools.watermark``. Prints the peak resident
memory (``resource.getrusage``) of each against that of the process before the work.

    .venv/bin/python bench/bench_materials_zip.py [--files 20] [--megabytes 10] [--pdf-mb 50]
"""

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

BLOCK = 1024 * 1024


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_files(folder: Path, files: int, megabytes: int) -> None:
    """``files`` files of random bytes, half named as PDFs (stored), half as text (deflated:
    random bytes do not shrink, so this is deflate's worst case)."""
    for number in range(files):
        suffix = ".pdf" if number % 2 else ".txt"
        with (folder / f"資料{number + 1}{suffix}").open("wb") as handle:
            for _ in range(megabytes):
                handle.write(os.urandom(BLOCK))


def write_pdf(path: Path, megabytes: int) -> None:
    """A PDF of one random-noise photograph per page, about ``megabytes`` in all."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path), pagesize=A4)
    written = 0
    while written < megabytes * BLOCK:
        photo = io.BytesIO()
        Image.frombytes("RGB", (800, 800), os.urandom(800 * 800 * 3)).save(photo, "JPEG")
        written += photo.tell()
        photo.seek(0)
        canvas.drawImage(ImageReader(photo), 50, 150, 495, 495)
        canvas.showPage()
    canvas.save()


def entries(folder: Path):
    return [(path.name, lambda path=path: path.open("rb")) for path in sorted(folder.iterdir())]


def run_stream(folder: Path) -> int:
    from renkei.services import zip_stream

    sent = 0
    for chunk in zip_stream.stream_zip(entries(folder)):
        sent += len(chunk)
    return sent


def run_memory(folder: Path) -> int:
    """What streaming avoids: the whole archive built in a buffer, then sent."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, opener in entries(folder):
            with opener() as source:
                archive.writestr(name, source.read())
    return len(buffer.getvalue())


def run_watermark(folder: Path) -> int:
    """Into a file, as a response would send it from a temporary file."""
    from renkei.services import pdf_tools

    with (folder / "photos.pdf").open("rb") as source, (folder / "out.pdf").open("wb") as out:
        pdf_tools.watermark(source, out, ["閲覧者: 山田 花子 2026年12月3日 14:05 出力", "秘"])
        return out.tell()


def child(mode: str, folder: Path, files: int, megabytes: int, pdf_mb: int) -> None:
    """One step, in a process of its own: Linux keeps the peak of a process across exec, so
    the parent stays small and writes nothing itself. Measurements print before, peak,
    bytes, seconds."""
    if mode == "files":
        write_files(folder, files, megabytes)
        return
    if mode == "pdf":
        write_pdf(folder / "photos.pdf", pdf_mb)
        return
    from renkei.services import pdf_tools, zip_stream  # noqa: F401 (imported before "before")

    before = peak_mib()
    start = time.perf_counter()
    size = {"stream": run_stream, "memory": run_memory, "watermark": run_watermark}[mode](folder)
    print(before, peak_mib(), size, time.perf_counter() - start)


def measure(mode: str, folder: Path, args: argparse.Namespace) -> list[float]:
    sizes = [str(args.files), str(args.megabytes), str(args.pdf_mb)]
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(folder), *sizes],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    ).stdout
    return [float(value) for value in output.split()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--megabytes", type=int, default=10, help="size of each file")
    parser.add_argument("--pdf-mb", type=int, default=50, help="size of the PDF watermarked")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, folder, *sizes = args.child
        child(mode, Path(folder), *map(int, sizes))
        return
    with tempfile.TemporaryDirectory(prefix="renkei-bench-zip-") as name:
        folder = Path(name)
        measure("files", folder, args)
        total = args.files * args.megabytes
        print(f"{args.files} files of {args.megabytes} MiB, {total} MiB in all")
        print("| what | RSS before MiB | peak RSS MiB | growth MiB | output MiB | seconds |")
        print("|---|---:|---:|---:|---:|---:|")
        for mode, label in (("stream", "streamed ZIP"), ("memory", "ZIP built in memory")):
            before, peak, size, seconds = measure(mode, folder, args)
            print(
                f"| {label} | {before:.0f} | {peak:.0f} | {peak - before:.0f} "
                f"| {size / BLOCK:.0f} | {seconds:.1f} |"
            )
        for path in list(folder.iterdir()):
            path.unlink()
        measure("pdf", folder, args)
        megabytes = (folder / "photos.pdf").stat().st_size / BLOCK
        before, peak, size, seconds = measure("watermark", folder, args)
        print(
            f"| watermark, PDF of {megabytes:.0f} MiB | {before:.0f} | {peak:.0f} "
            f"| {peak - before:.0f} | {size / BLOCK:.0f} | {seconds:.1f} |"
        )


if __name__ == "__main__":
    main()
