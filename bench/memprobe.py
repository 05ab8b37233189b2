"""Peak memory of one listing call, measured in a fresh process.

    python bench/memprobe.py CONTENDER WARM_URL BIG_URL {rss|traced}

The contender (see ``worker``) first lists a small account on ``WARM_URL``, so imports and
connection set-up are done, then lists ``BIG_URL`` once, keeping the result. Prints JSON:

- ``rss``: ``peak_bytes`` is the process's resident-memory high-water mark after the call
  minus its resident memory just before it (what the call added at its worst);
- ``traced``: ``peak_bytes`` is tracemalloc's peak of Python allocations during the call
  (slow, hence a separate process), and ``retained_bytes`` what stays allocated once the
  call has returned and the garbage is collected: the result the caller holds.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import tracemalloc


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> None:
    """Measure one contender, print the JSON line."""
    from worker import CONTENDERS

    contender, warm_url, big_url, mode = sys.argv[1:5]
    CONTENDERS[contender](warm_url)()
    call = CONTENDERS[contender](big_url)
    gc.collect()
    retained = 0
    if mode == "traced":
        tracemalloc.start()
        result = call()
        peak = tracemalloc.get_traced_memory()[1]
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    else:
        before = _resident_bytes()
        result = call()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    items = len(result) if isinstance(result, list) else -1
    print(json.dumps({"peak_bytes": max(0, peak), "retained_bytes": retained, "items": items}))


if __name__ == "__main__":
    main()
