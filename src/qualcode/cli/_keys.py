"""Running a coding or review session: the coder's keys in, the screen (qualcode.cli._screen) out.

On a terminal the session takes the terminal's alternate screen, so the scrollback keeps what was there before and
none of the session's screens; each key acts at once; the screen is redrawn when the window is resized; a question
(a code name, the number of one c listed, a memo, sentence numbers) is edited on the bottom line, and Esc cancels
it. The terminal is put back as it was on quitting, on Ctrl-C, on SIGTERM and SIGHUP and on a crash. When stdin is
not a terminal each line is one command and the screens are printed as they go, which is how tests and scripts drive
a session. Keys from a terminal with the screen going elsewhere (stdout redirected) is refused: the coder would
decide what they cannot see.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import select
import signal
import sys
import termios
import tty
from collections.abc import Callable

from rich.console import Console, RenderableType
from rich.text import Text

from qualcode.cli._screen import View, draw, present
from qualcode.coding.session import PROMPTS, Cursor
from qualcode.errors import UsageError

ESC = "\x1b"
RESIZE = "\x00resize"  # what key() returns when the window changed size: not a key anyone can type
ARROWS = {"\x1b[C": "n", "\x1bOC": "n", "\x1b[D": "p", "\x1bOD": "p"}
# Down and up move a long turn by a line, page down and up by ten: the view's alone, the session never sees them.
SCROLL = {"\x1b[B": 1, "\x1bOB": 1, "\x1b[A": -1, "\x1bOA": -1, "\x1b[6~": 10, "\x1b[5~": -10}
# One read returns whatever arrived: keys typed or repeated faster than the screen redraws come together ("nnn",
# three arrow sequences) and each must count once.
KEY = re.compile(r"\x1b(?:\[[0-9;]*[A-Za-z~]|O[A-Za-z])|\x1b|.", re.S)
# The start of an escape sequence whose rest has not arrived: over a slow link (ssh) page down can come as Esc, then
# "[6~" a few hundred milliseconds later, and read apart its "6" would check code 6. The reader waits up to ESC_WAIT
# seconds for the rest (curses' ESCDELAY, vim's ttimeoutlen); QA saw 0.3 s, and only a lone Esc pays the wait.
PARTIAL = re.compile(r"\x1b(?:\[[0-9;]*|O)?\Z")
ESC_WAIT = 0.5
LINE_KEYS = {"\r", "\n"}
ENDING = (signal.SIGTERM, signal.SIGHUP)  # the session ends on these as on Ctrl-C, the terminal put back


class Ended(BaseException):
    """SIGTERM or SIGHUP arrived: the session ends, and the command with exit status 128 + the signal's number. A
    BaseException, as KeyboardInterrupt is, so that no `except Exception` on the way swallows it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def end(signum: int, _frame) -> None:
    raise Ended(signum)


def keys_from_terminal(console: Console) -> bool:
    """Whether the session reads keys (stdin is a terminal) rather than lines; refused, before anything is done, when
    the screen would not be seen: keys from a terminal with stdout redirected to a file or a pipe."""
    if not sys.stdin.isatty():
        return False
    if not console.file.isatty():
        raise UsageError(
            "the session's screen would not be seen (stdout is not a terminal): run it in a terminal, "
            "or pipe commands into stdin for line mode (one command a line; see --help)"
        )
    return True


class Terminal:
    """The terminal for the length of a session: keys one at a time (cbreak mode, so Ctrl-C still interrupts), the
    alternate screen, and a wake-up when the window is resized. Everything is put back on leaving, however the
    session ends."""

    def __init__(self, console: Console, fd: int | None = None):
        self.console = console
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.queue: list[str] = []
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def __enter__(self) -> Terminal:
        self.saved = termios.tcgetattr(self.fd)
        # SIGWINCH interrupts the wait for a key through a pipe that select() watches (signal.set_wakeup_fd), so a
        # resize is noticed at once, and never in the middle of drawing.
        self.wake, wake_w = os.pipe()
        os.set_blocking(self.wake, False)
        os.set_blocking(wake_w, False)
        self.old_wakeup = signal.set_wakeup_fd(wake_w)
        self.old_winch = signal.signal(signal.SIGWINCH, lambda *_: None)
        # Ctrl-C quits the session even when qualcode was started with SIGINT ignored (as a shell starts a job in the
        # background, and Python keeps an inherited SIG_IGN): the session was otherwise left waiting for a key.
        self.old_int = signal.signal(signal.SIGINT, signal.default_int_handler)
        # SIGTERM and SIGHUP (the window closed) would end the process on the spot, in the alternate screen and cbreak
        # mode: raised as Ended instead, they unwind through __exit__. A decision being stored is rolled back whole.
        self.old_ending = {signum: signal.signal(signum, end) for signum in ENDING}
        tty.setcbreak(self.fd)
        self.console.set_alt_screen(True)
        return self

    def __exit__(self, *_exc) -> None:
        try:
            with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
                self.console.set_alt_screen(False)
        finally:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
            signal.signal(signal.SIGWINCH, self.old_winch)
            signal.signal(signal.SIGINT, self.old_int)
            for signum, handler in self.old_ending.items():
                signal.signal(signum, handler)
            os.close(signal.set_wakeup_fd(self.old_wakeup))
            os.close(self.wake)

    def key(self) -> str:
        """The next key (an escape sequence is one key), or RESIZE."""
        while not self.queue:
            ready, _, _ = select.select([self.fd, self.wake], [], [])
            if self.wake in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wake, 512)
                return RESIZE
            data = os.read(self.fd, 1024)
            if not data:
                raise EOFError
            text = self.decoder.decode(data)
            while PARTIAL.search(text) and select.select([self.fd], [], [], ESC_WAIT)[0]:
                more = os.read(self.fd, 1024)
                if not more:
                    break
                text += self.decoder.decode(more)
            self.queue += KEY.findall(text)
        key = self.queue.pop(0)
        if key == "\x04":  # Ctrl-D: cbreak mode passes it on as a character
            raise EOFError
        return key

    def show(self, screen: RenderableType, prompt: str = "") -> None:
        with self.console:  # one write: no flicker between clearing and drawing
            self.console.clear()
            self.console.print(screen)
            if prompt:  # on the bottom line, never wrapped onto another: that would push the header off
                self.console.print(Text(prompt[: self.console.width - 1]), end="")

    def line(
        self,
        prompt: str,
        redraw: Callable[[], None],
        scroll: Callable[[int], None],
        hold: Callable[[str], bool] = lambda _: False,
    ) -> str | None:
        """A line typed on the bottom line after PROMPT; None when Esc cancels it. The arrows and page keys SCROLL
        the screen above meanwhile (the sentences k asks for may be longer than the window). While HOLD(text) says
        so (the window is too small for what the answer would change), enter waits and the text stays typed: the
        coder enlarges the window, then presses enter again."""
        text = ""
        while True:
            shown = (prompt + text)[-(self.console.width - 1) :]
            self.console.file.write(f"\r{shown}\x1b[K")
            self.console.file.flush()
            key = self.key()
            if key == RESIZE:
                redraw()
            elif key in SCROLL:
                scroll(SCROLL[key])
            elif key in LINE_KEYS and not hold(text):
                return text
            elif key == ESC:
                return None
            elif key in ("\x7f", "\x08"):
                text = text[:-1]
            elif key == "\x15":  # Ctrl-U
                text = ""
            elif key.isprintable() and not key.startswith(ESC):
                text += key


def run(sess: Cursor, console: Console, *, keys: bool | None = None) -> str:
    """The session until q or the end of input. Returns the one-line summary (also printed)."""
    ended = None
    if keys_from_terminal(console) if keys is None else keys:
        try:
            with Terminal(console) as term:
                session(sess, console, term)
        except Ended as e:
            ended = e
    else:
        lines(sess, console)
    summary = sess.summary()
    with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone; what was decided is stored
        console.print(Text(summary, style="bold"))
    if ended:
        raise SystemExit(128 + ended.signum)
    return summary


def session(sess: Cursor, console: Console, term: Terminal) -> None:
    view = View()

    def redraw() -> None:
        # The last line of the window is the prompt's, or where the cursor waits.
        term.show(draw(sess, console, view, height=console.height - 1), PROMPTS.get(sess.pending or "", ""))

    def held(text: str) -> bool:
        # Enter waits on a screen too small for what the answer would change; the text stays typed (see Terminal.line).
        return view.blind and not sess.seen(text)

    def scroll(by: int) -> None:
        view.scroll = max(view.scroll + by, 0)
        redraw()

    while True:
        redraw()
        try:
            if sess.pending in ("c", "m", "k", "choose"):
                text = term.line(PROMPTS[sess.pending], redraw, scroll, held)
                command = ESC if text is None else text
            else:
                key = term.key()
                while key == RESIZE:
                    redraw()
                    key = term.key()
                if key in SCROLL and not sess.pending:
                    view.scroll = max(view.scroll + SCROLL[key], 0)
                    continue
                if key.startswith(ESC) and key not in ARROWS and not sess.pending:
                    view = View()  # nothing to cancel: Esc only clears the message
                    continue
                command = "" if key in LINE_KEYS else ARROWS.get(key, key)
        except (EOFError, KeyboardInterrupt):
            return
        if view.show == "help":
            view = View()  # the help covers the codes: any key closes it, never decides on what is out of sight
            continue
        sess.blind = view.blind  # as the screen the coder is looking at was drawn
        reply = sess.handle(command)
        if reply.quit:
            return
        show = reply.show if reply.show in ("help", "choices") else None
        view = View(show=show, message=reply.message, keep=reply.keep)


def lines(sess: Cursor, console: Console) -> None:
    """Line mode: each line of stdin is one command, echoed after its prompt, and what it shows is printed."""
    present(sess, "screen", None, console)
    helped = False
    while True:
        prompt = PROMPTS.get(sess.pending or "", "")
        line = sys.stdin.readline()
        if not line:
            return
        line = line.rstrip("\r\n")
        console.print(Text(f"{prompt or sess.coder + '> '}{line}", style="dim"))
        if helped and not line.strip():
            # The coder asked for help, and enter after it means "done reading", not "accept": as on a terminal,
            # the help is closed and the screen shown again, nothing decided.
            helped = False
            present(sess, "screen", None, console)
            continue
        reply = sess.handle(line)
        if reply.quit:
            return
        helped = reply.show == "help"
        present(sess, reply.show, reply.message, console)
