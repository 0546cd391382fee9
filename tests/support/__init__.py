"""What the tests share, and the only part of tests/ that anything else may import.

Fakes of remote APIs (`fake_bot_api`, `fake_zalo_api`), harnesses that serve one channel in the
test's event loop (`telegram_harness`, `handoff_harness`, `webchat_harness`, `zalo_harness`,
`conversation`), a cuttable TCP proxy (`proxy`) and the real bot on free local ports (`servers`).
Benchmarks and `make scale` in scripts/ use them too. Test modules and conftest.py files are never
imported: fixtures live in conftest.py, helpers here.
"""
