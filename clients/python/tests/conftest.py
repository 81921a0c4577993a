"""The live stack the tests run against (tests/e2e/test_pyclient.sh starts it): HRET_API_URL,
HRET_API_TOKEN (submit+read), HRET_API_READ_TOKEN (read only), HRET_PG (psql conninfo)."""
import os

import pytest

import hret


@pytest.fixture(scope="session")
def url() -> str:
    return os.environ["HRET_API_URL"]


@pytest.fixture(scope="session")
def token() -> str:
    return os.environ["HRET_API_TOKEN"]


@pytest.fixture(scope="session")
def client(url, token):
    with hret.Client(url, token) as c:
        yield c


@pytest.fixture(autouse=True)
def service(url, token):
    hret.configure(url=url, token=token, timeout=240.0)
