"""Salient lines of pasted logs and stack traces: the few lines that say what went wrong."""

import re

MAX_LOG_LINES = 10
MAX_LINE_CHARS = 300

# A line looks machine-made when it starts like a log record or a stack frame.
_LOG_SHAPE = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\d{2}:\d{2}:\d{2}|\[[^\]]{1,40}\]"
    r"|(ERROR|WARN(ING)?|INFO|DEBUG|TRACE|FATAL|SEVERE)\b|at\s+[\w$.<>/]+[(:]|File \"|Traceback \("
    r"|Caused by:|[\w.$]+(Exception|Error)\b|\w+(\.\w+){2,}|\d+\s*\|)")
_SALIENT = re.compile(
    r"error|exception|fail|denied|refused|timeout|timed out|fatal|critical|unauthori[sz]ed|forbidden|invalid"
    r"|0x[0-9a-f]{8}|AADSTS\d+|\b[45]\d\d\b|\b[45]\.\d\.\d{1,3}\b|\bcode\b|errno|status[:= ]",
    re.I)
_VOLATILE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}[T ][\d:.,]+Z?|\d{2}:\d{2}:\d{2}[\d.,]*)\s*")


def is_log_line(line: str) -> bool:
    return bool(_LOG_SHAPE.match(line))


def salient_log_lines(texts: list[str], limit: int = MAX_LOG_LINES) -> list[str]:
    """Up to `limit` distinct log lines that name a failure, in order of appearance.

    Lines differing only in their leading timestamp count as one, so a repeated error is not
    listed ten times.
    """
    lines: list[str] = []
    seen: set[str] = set()
    for text in texts:
        for raw in text.splitlines():
            line = raw.strip()
            if not line or not is_log_line(raw) or not _SALIENT.search(line):
                continue
            key = _VOLATILE.sub("", line)
            if key in seen:
                continue
            seen.add(key)
            lines.append(line[:MAX_LINE_CHARS])
            if len(lines) == limit:
                return lines
    return lines


def without_logs(text: str) -> str:
    """The customer's own words: every log-shaped line removed."""
    return "\n".join(line for line in text.splitlines() if not is_log_line(line)).strip()
