"""Which daily hop indices have outlived the retention period (the test distribution of ES has no ILM)."""

import re
from datetime import date, timedelta


def expired_indices(names: list[str], prefix: str, today: date, retention_days: int) -> list[str]:
    """The indices named exactly <prefix>-YYYY.MM.DD whose day is `retention_days` or more before `today`.

    Today's index and the `retention_days - 1` before it are kept. Names under the prefix that are not a
    plain daily index (another prefix such as supportmesh-hops-bench-…, a bad date) are never touched.
    """
    daily = re.compile(rf"{re.escape(prefix)}-(\d{{4}})\.(\d{{2}})\.(\d{{2}})")
    oldest_kept = today - timedelta(days=retention_days - 1)
    expired = []
    for name in names:
        match = daily.fullmatch(name)
        if not match:
            continue
        try:
            day = date(*(int(part) for part in match.groups()))
        except ValueError:
            continue
        if day < oldest_kept:
            expired.append(name)
    return sorted(expired)
