"""The offline till: its installable shell (manifest, service worker, the offline page) and the
JSON endpoints its script talks to while online: session state, device, number blocks,
heartbeat, catalogue snapshot and the batch sync. The rules live in pos.services.offline.

The online till never needs any of this: without JavaScript it works as before, and offline
selling needs JavaScript.
"""

import json
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from pos import errors, scoping
from pos.models import OfflineSale, TillDevice
from pos.offline_snapshot import catalogue_snapshot, till_mode_name
from pos.register.lock import till_shift_id
from pos.services import offline
from pos.services.shifts import open_shift_for
from pos.views import json_permission_required

# What the service worker keeps for the till to open offline.
SHELL_ASSETS = (
    "pos/vevurn.css",
    "pos/till_offline.js",
    "pos/offline_store.js",
    "pos/scale_labels.js",
    "pos/icon.svg",
)


def _json_view(view):
    """Signed in and may sell, answered in JSON (401/403); a domain error is its JSON error."""
    return never_cache(json_permission_required("pos.sell")(view))


def _body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise errors.InvalidOfflineSale(gettext("Send a JSON object.")) from None
    if not isinstance(data, dict):
        raise errors.InvalidOfflineSale(gettext("Send a JSON object."))
    return data


def _device(request, data: dict) -> TillDevice:
    try:
        key = uuid.UUID(str(data.get("device", "")))
    except ValueError:
        raise errors.InvalidOfflineSale(gettext("Unknown device."), field="device") from None
    device = TillDevice.objects.select_related("register").filter(key=key).first()
    if device is None or not scoping.works_in(request.user, device.register.store_id):
        raise errors.InvalidOfflineSale(gettext("Unknown device."), field="device")
    return device


def _shift_json(shift) -> dict | None:
    if shift is None:
        return None
    return {
        "id": shift.pk,
        "register": shift.register.name,
        "register_code": shift.register.code,
        "mode": till_mode_name(shift.register_id),  # "training" or None
    }


@login_required
@permission_required("pos.sell", raise_exception=True)
@require_GET
def offline_till(request):
    """The offline till's page: the service worker serves it from its cache when the server
    cannot be reached; its script sells from the snapshot into the outbox."""
    return render(request, "pos/register/offline.html", {})


@require_GET
def service_worker(request):
    assets = [reverse("register:offline_till"), *(static(a) for a in SHELL_ASSETS)]
    version = uuid.uuid5(uuid.NAMESPACE_URL, "|".join(assets)).hex[:12]
    response = render(
        request,
        "pos/register/sw.js",
        {
            "assets": json.dumps(assets),
            "version": version,
            "offline_url": json.dumps(reverse("register:offline_till")),
            "snapshot_url": json.dumps(reverse("register:offline_snapshot")),
        },
        content_type="text/javascript",
    )
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def manifest(request):
    data = {
        "name": "Vevurn POS",
        "short_name": gettext("Till"),
        "start_url": reverse("register:register"),
        "scope": reverse("register:register"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f5f8b",
        "icons": [{"src": static("pos/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return JsonResponse(data, content_type="application/manifest+json")


@require_GET
@_json_view
def state(request):
    """Who is signed in, their open shift and the server's time (the clock offset's anchor)."""
    shift = open_shift_for(request.user, till_shift_id=till_shift_id(request))
    return JsonResponse(
        {
            "csrf": get_token(request),
            "user": request.user.get_username(),
            "shift": _shift_json(shift),
            "server_time": timezone.now().isoformat(),
        }
    )


@require_POST
@_json_view
def device(request):
    """Set this browser up as a device of the till of the user's open shift."""
    data = _body(request)
    shift = open_shift_for(request.user, till_shift_id=till_shift_id(request))
    if shift is None:
        raise errors.ShiftClosed(gettext("Open a shift before selling."))
    try:
        key = uuid.UUID(str(data.get("device", "")))
    except ValueError:
        raise errors.InvalidOfflineSale(gettext("Unknown device."), field="device") from None
    found = offline.register_device(
        register=shift.register,
        user=request.user,
        key=key,
        label=request.headers.get("User-Agent", "")[:120],
    )
    return JsonResponse(
        {
            "device": str(found.key),
            "code": found.code,
            "prefix": found.receipt_number(0)[:-6],
            "register": shift.register.code,
        }
    )


@require_POST
@_json_view
def block(request):
    """Reserve the device's next block of offline receipt numbers."""
    first, last = offline.reserve_block(device=_device(request, _body(request)))
    return JsonResponse({"first": first, "last": last})


@require_POST
@_json_view
def heartbeat(request):
    data = _body(request)
    found = _device(request, data)
    offline.heartbeat(
        device=found,
        pending=data.get("pending") or 0,
        oldest_pending_at=data.get("oldest_pending_at"),
        clock_offset_ms=data.get("clock_offset_ms") or 0,
    )
    shift = open_shift_for(request.user, till_shift_id=till_shift_id(request))
    return JsonResponse({"server_time": timezone.now().isoformat(), "shift": _shift_json(shift)})


@require_GET
@_json_view
def snapshot(request):
    """The catalogue snapshot, with the mode of the till of the user's open shift."""
    shift = open_shift_for(request.user, till_shift_id=till_shift_id(request))
    data = catalogue_snapshot(shift.register_id if shift is not None else None)
    etag = f'"{data["version"]}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = JsonResponse(data)
    response["ETag"] = etag
    return response


@require_POST
@_json_view
def sync(request):
    """Store a batch of offline sales: {device, sales: [...]} -> {results: [...]}, one per
    sale (stored, already_stored, refused with its reason), in the order sent."""
    data = _body(request)
    results = offline.sync_sales(
        device=_device(request, data), user=request.user, sales=data.get("sales")
    )
    return JsonResponse({"results": [r.as_dict() for r in results]})


@login_required
@permission_required("pos.close_any_shift", raise_exception=True)
@require_GET
def tills(request):
    """Managers: tills with sales not yet stored (pending on the device, or refused)."""
    return render(
        request,
        "pos/register/offline_tills.html",
        {"rows": offline.tills_with_unsynced_sales(user=request.user)},
    )


@login_required
@permission_required("pos.close_any_shift", raise_exception=True)
@require_POST
def resolve(request, pk: int):
    offline_sale = get_object_or_404(
        scoping.for_user(OfflineSale.objects.all(), request.user), pk=pk
    )
    try:
        offline.resolve_refused(
            offline_sale=offline_sale,
            user=request.user,
            action=request.POST.get("action", ""),
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            gettext("Offline sale %(number)s resolved.") % {"number": offline_sale.number},
        )
    return redirect("register:offline_tills")


@login_required
@permission_required("pos.close_any_shift", raise_exception=True)
@require_POST
def forget(request, pk: int):
    """A manager clears the pending count of a device that is gone for good."""
    device = get_object_or_404(scoping.for_user(TillDevice.objects.all(), request.user), pk=pk)
    try:
        offline.forget_pending(device=device, user=request.user, note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, gettext("Pending sales of device %(device)s forgotten.") % {"device": device}
        )
    return redirect("register:offline_tills")
