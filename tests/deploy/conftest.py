# The catalogue fixtures (products through the catalogue service), shared with the pos tests.
from tests.pos.conftest import category, make_product  # noqa: F401
