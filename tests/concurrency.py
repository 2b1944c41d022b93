# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import threading
from concurrent.futures import ThreadPoolExecutor

from odoo.modules.registry import DummyRLock, Registry


def run_at_once(*workers):
    """Run ``workers`` in threads that start together (each is called with a
    ``threading.Barrier`` to wait on once its snapshot is taken) and return
    their results, sorted.

    The test runner holds the registry lock: the threads reach the registry as
    Odoo's own test mode lets them, their cursors stay real."""
    saved_lock, Registry._lock = Registry._lock, DummyRLock()
    try:
        barrier = threading.Barrier(len(workers))
        with ThreadPoolExecutor(max_workers=len(workers)) as executor:
            futures = [executor.submit(worker, barrier) for worker in workers]
            return sorted(future.result(timeout=60) for future in futures)
    finally:
        Registry._lock = saved_lock
