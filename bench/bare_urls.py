"""Bare Django's one view: the same answer as the app's /bench/ping/ (bench/urls.py)."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache


def ping(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/ping/", never_cache(ping))]
