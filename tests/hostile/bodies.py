"""Webhook bodies that are not updates, Telegram's or Zalo's: each must be answered 400 at
once, with no traceback logged (tests/e2e/test_run.py, test_workers.py, tests/zalo/test_bot.py)."""

MALFORMED_UPDATES = (
    b"this is not JSON",
    b"\xff\xfe\x00{",  # not UTF-8
    b"",
    b"[]",
    b'"x"',
    b"{}",
    b'{"update_id": "abc"}',
    b'{"update_id": 1}',  # no event in it
    b'{"update_id": 2, "message": 5}',
    b"[" * 200_000 + b"]" * 200_000,  # deeper than the JSON parser goes
)
