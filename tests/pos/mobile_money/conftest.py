from tests.support.fixtures import momo_simulator  # noqa: F401
