"""One HTTP download, bounded as a whole: a deadline, a size cap, hashed as it streams.

A server that trickles a byte a second passes every per-read timeout, and a
body read in one piece can take any amount of memory; so the body is read as
it arrives, counted, timed and hashed, and the download is abandoned as soon
as it passes ``deadline`` seconds or ``max_bytes`` bytes.
"""

import hashlib
import time

__all__ = ["fetch"]


def fetch(url, timeout, deadline, max_bytes):
    """Return ``(body, sha1)``; raise ``RuntimeError(why)`` on any failure.

    The body is hashed as it streams in, and the download is bounded as a
    whole: ``deadline`` seconds and ``max_bytes`` bytes, whatever the server
    does (a trickle of one byte a second passes every per-read timeout).
    """
    import requests
    import urllib3

    start, digest, body = time.monotonic(), hashlib.sha1(), bytearray()
    try:
        with requests.get(url, timeout=(timeout, min(timeout, deadline)), stream=True) as reply:
            reply.raise_for_status()
            length = reply.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise RuntimeError("it is %s bytes, more than the %d allowed"
                                   % (length, max_bytes))
            # read1 returns what has arrived (read() would wait for a full chunk).
            read = getattr(reply.raw, "read1", None) or reply.raw.read
            while True:
                if time.monotonic() - start > deadline:
                    raise RuntimeError("it took longer than %g s" % deadline)
                chunk = read(65536, decode_content=True)
                if not chunk:
                    return bytes(body), digest.hexdigest()
                body += chunk
                digest.update(chunk)
                if len(body) > max_bytes:
                    raise RuntimeError("it is more than the %d bytes allowed" % max_bytes)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as err:
        raise RuntimeError(str(err) or type(err).__name__) from None
