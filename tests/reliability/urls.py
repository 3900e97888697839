"""The deployment tests' URLs; importing this module (the app servers' URLconf) connects the
test-only hold inside checkout."""

from tests.deploy.urls import (  # noqa: F401
    handler400,
    handler403,
    handler404,
    handler500,
    urlpatterns,
)
from tests.reliability import hooks

hooks.connect()
