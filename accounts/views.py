from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from django.views.i18n import set_language as django_set_language

from accounts import services
from monitoring.ratelimit import add_headers, exhausted_login_limit, login_slot, wait_message
from vevurn.languages import LANGUAGE_CODES


class LoginView(auth_views.LoginView):
    """Sign-in, refused for a while after too many failures (per username + IP, and per IP).

    Failures are counted by the `user_login_failed` receiver (monitoring/signals.py), so a
    successful sign-in never counts against the user.
    """

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        with login_slot(request) as mine:
            if not mine:
                message = _("Another sign-in for this user is in progress.")
                return self.refuse(request, message, 1)
            found = exhausted_login_limit(request)
            if found is not None:
                message = _(
                    "Too many failed sign-in attempts. Please wait %(wait)s before trying again."
                ) % {"wait": wait_message(found.reset)}
                return add_headers(self.refuse(request, message, found.reset), found)
            return super().post(request, *args, **kwargs)

    def refuse(self, request, message: str, retry_after: int):
        # An unbound form: binding the posted one would authenticate (and count) again.
        form = self.get_form_class()(request, initial={"username": request.POST.get("username")})
        context = self.get_context_data(form=form, locked_out=message)
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(retry_after)
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # The next person at this till signs in in the browser's language, not this user's.
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response


@require_POST
def set_language(request):
    """The switcher: Django's set_language (cookie, back to `next`), remembered on the user."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in LANGUAGE_CODES:
        services.set_preferred_language(user=request.user, language=language)
    return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        if user.must_change_password:
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        messages.success(self.request, _("Your password has been changed."))
        return response


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/home.html"
