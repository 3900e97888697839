from tests.support.fixtures import airtel_simulator, momo_simulator  # noqa: F401
