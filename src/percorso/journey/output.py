"""Write a drawn map to a file: HTML as is, PNG and PDF through headless Chromium.

Chromium runs from its command line (no Playwright at run time) in a throwaway
profile, so two runs never share state, and in its own process group, so a
timeout ends it with all its children. The output appears whole or not at
all: it is written beside its destination and renamed into place.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from percorso.errors import UserError

SUFFIXES = (".html", ".png", ".pdf")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-extensions",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
# Lines Chromium prints on every run in a container (no D-Bus, the Debian
# launcher's shell test): not the reason it failed, so left out of the message.
NOISE = ("dbus", "unexpected operator", "Fontconfig")


class UnknownFormat(UserError):
    """The output's suffix is not one we can write."""


class OutputFolderMissing(UserError):
    """The output's folder does not exist."""


class ChromiumMissing(UserError):
    """PNG or PDF asked for and no Chromium found."""


class ChromiumFailed(UserError):
    """Chromium ran and did not produce the file."""


def find_chromium(chromium: str | None = None) -> str:
    """The Chromium to run: the one named, else the first of CHROMIUM_NAMES on PATH."""
    names = (chromium,) if chromium else CHROMIUM_NAMES
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    looked = f"'{chromium}' is not an executable" if chromium else "no Chromium on PATH"
    raise ChromiumMissing(
        f"{looked}: PNG and PDF need Chromium: install Debian's chromium package "
        "(apt install chromium) or pass its path; .html works without it"
    )


def write_output(
    html: str,
    out: Path,
    size: tuple[int, int],
    chromium: str | None = None,
    *,
    timeout: float = 90.0,
) -> None:
    """Write `html` to `out` as .html, or as a .png / one-page .pdf of `size` CSS pixels."""
    suffix = out.suffix.lower()
    if suffix not in SUFFIXES:
        raise UnknownFormat(f"cannot write '{out.name}': use .html, .png or .pdf")
    if not out.parent.is_dir():
        raise OutputFolderMissing(
            f"the folder '{out.parent}' does not exist: create it or write the map elsewhere"
        )
    if suffix == ".html":
        _replace(out, lambda partial: partial.write_text(html, encoding="utf-8"))
        return
    executable = find_chromium(chromium)
    width, height = size
    with tempfile.TemporaryDirectory(prefix="percorso-render-") as scratch:
        page = Path(scratch) / "map.html"
        page.write_text(html, encoding="utf-8")
        if suffix == ".png":
            produce = [f"--window-size={width},{height}", "--screenshot={out}"]
        else:
            # The page's CSS @page rule sets the paper to the map's size.
            produce = ["--no-pdf-header-footer", "--print-to-pdf={out}"]

        def run(partial: Path) -> None:
            argv = [
                executable,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={Path(scratch) / 'profile'}",
                *(flag.format(out=partial) for flag in produce),
                page.as_uri(),
            ]
            stderr = _run_chromium(argv, timeout)
            # The partial file exists from the start: only its size tells Chromium wrote it.
            if partial.stat().st_size == 0:
                raise ChromiumFailed(
                    f"Chromium ({executable}) exited without writing {out.name}: {_tail(stderr)}"
                )

        _replace(out, run)


def _replace(out: Path, write: Callable[[Path], object]) -> None:
    """Call `write(partial)` on a new empty file beside `out`, then rename it to `out`."""
    # The partial keeps the suffix: Chromium picks the screenshot's format from it.
    # os.open, unlike mkstemp, lets the umask set the mode, as for any file a user writes.
    partial = out.parent / f".{out.stem}.{secrets.token_hex(6)}.partial{out.suffix}"
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        write(partial)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


def _run_chromium(argv: list[str], timeout: float) -> str:
    """Run Chromium to the end (or kill its process group at `timeout`); its stderr."""
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _end(process)
        raise ChromiumFailed(
            f"Chromium ({argv[0]}) did not finish in {timeout:g} s; "
            "try again, or write .html and open it in a browser"
        ) from None
    except BaseException:  # Ctrl-C or a signal: no Chromium outlives the command
        _end(process)
        raise
    if process.returncode != 0:
        raise ChromiumFailed(
            f"Chromium ({argv[0]}) failed with exit code {process.returncode}: {_tail(stderr)}"
        )
    return stderr


def _end(process: subprocess.Popen[str]) -> None:
    """Kill Chromium and every process it started (its own session's group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _tail(stderr: str, lines: int = 5) -> str:
    useful = [line for line in stderr.splitlines() if line.strip() and not _noise(line)]
    return " | ".join(useful[-lines:]) or "(no message on stderr)"


def _noise(line: str) -> bool:
    return any(word in line for word in NOISE)
