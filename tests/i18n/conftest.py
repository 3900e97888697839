from tests.pos.conftest import *  # noqa: F403  (products, shifts, sell)
from tests.pos.reports.conftest import *  # noqa: F403  (shop_day)
