"Pytest settings: the `slow` marker (end-to-end training; `make test` runs them, `make test-fast` skips them)."

def pytest_configure(config):
    config.addinivalue_line("markers", "slow: end-to-end training runs (skipped by `make test-fast`)")
