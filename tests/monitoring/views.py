"""Views used only by the monitoring tests (see tests/monitoring/urls.py)."""

import logging

from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import HttpResponse
from django.shortcuts import render
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import DomainError
from monitoring.views import render_error

logger = logging.getLogger("tests.monitoring")


class OutOfStock(DomainError):
    code = "out_of_stock"
    message = "Only 2 left in stock."
    status = 409


def log_twice(request, pk=None):
    logger.info("looking up item %s", pk)
    logger.warning("item %s is low on stock", pk)
    return HttpResponse("ok")


def system_error(request):
    raise RuntimeError("secret detail 42: the drawer table is gone")


def database_gone(request):
    raise OperationalError('connection to server at "db" failed: Connection refused')


def domain_error(request):
    raise OutOfStock(fields={"qty": ["Only 2 left."]})


def forbidden(request):
    raise PermissionDenied


def error_page(request, status):
    return render_error(request, status, retry_after=request.GET.get("retry_after"))


def rate_limited_elsewhere(request):
    """What the rate limiter does: render 429.html with only retry_after in the context."""
    response = render(request, "429.html", {"retry_after": 120}, status=429)
    response["Retry-After"] = "120"
    return response


DRF_ERRORS = {
    "validation": lambda: exceptions.ValidationError({"qty": ["Must be at least 1."]}),
    "general": lambda: exceptions.ValidationError("The shift is already closed."),
    "nested": lambda: exceptions.ValidationError({"lines": [{}, {"qty": ["Too many."]}]}),
    "unauthenticated": exceptions.NotAuthenticated,
    "forbidden": exceptions.PermissionDenied,
    "missing": exceptions.NotFound,
    "throttled": lambda: exceptions.Throttled(wait=30),
    "domain": OutOfStock,
    "system": lambda: RuntimeError("secret detail 42"),
}


class DrfErrorView(APIView):
    permission_classes = [AllowAny]

    def get(self, request, kind):
        if kind == "fine":
            return Response({"ok": True})
        raise DRF_ERRORS[kind]()


class ProtectedView(APIView):  # the project's default permission: signed-in users only
    def get(self, request):
        return Response({"ok": True})


class ExplodingMiddleware:
    """Fails outside any view, for the path /test/items/666/log/ only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/test/items/666/log/":
            raise RuntimeError("middleware broke")
        return self.get_response(request)
