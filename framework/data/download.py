"""HTTP(S) download with a progress bar, a timeout and clear errors.

Plain ``urllib`` (no extra dependency). The body streams to ``dest`` in 64 KiB blocks; the caller
owns ``dest``'s folder (a staging folder), so an interrupted download never reaches the cache.
``urllib.request`` (with ``http.client``, ``ssl`` and ``email``: ~13 ms) is imported by
:func:`download` itself: every ``grade`` and ``dojo`` imports this module through the data
sets' registry, and only a download needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nlpdojo.data.errors import SourceError

_BLOCK = 1 << 16
#: seconds to wait for a connection or for the next block
DEFAULT_TIMEOUT = 30.0
USER_AGENT = "nlpdojo-data/1 (+https://pypi.org/project/nlpdojo/)"


def download(
    url: str,
    dest: Path,
    *,
    progress: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    on_block: Callable[[int], None] | None = None,
) -> Path:
    """Fetch ``url`` into ``dest`` and return it; :class:`SourceError` says why it failed.

    ``on_block(nbytes)`` is called after every block written (tests use it to interrupt a
    download half-way).
    """
    import urllib.error
    import urllib.request

    from tqdm.auto import tqdm

    try:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) only
    except urllib.error.HTTPError as exc:
        raise SourceError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise SourceError(f"{url}: cannot connect ({exc.reason})") from exc
    except (TimeoutError, OSError, ValueError) as exc:
        raise SourceError(f"{url}: {type(exc).__name__}: {exc}") from exc
    with response:
        total = response.headers.get("Content-Length")
        bar = tqdm(
            total=int(total) if total and total.isdigit() else None,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=dest.name[:40],
            disable=None if progress else True,  # None: drawn only on a terminal
            leave=False,
        )
        received = 0
        try:
            with bar, open(dest, "wb") as out:
                while block := response.read(_BLOCK):
                    out.write(block)
                    received += len(block)
                    bar.update(len(block))
                    if on_block is not None:
                        on_block(len(block))
        except (TimeoutError, OSError) as exc:
            raise SourceError(
                f"{url}: download broke off after {received:,} bytes ({exc})"
            ) from exc
    if total and total.isdigit() and received != int(total):
        raise SourceError(f"{url}: received {received:,} of {int(total):,} bytes")
    return dest
