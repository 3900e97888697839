from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse_lazy
from django.views.generic import TemplateView

from monitoring.ratelimit import add_headers, exhausted_login_limit, login_slot, wait_message


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
                return self.refuse(request, "Another sign-in for this user is in progress.", 1)
            found = exhausted_login_limit(request)
            if found is not None:
                message = (
                    "Too many failed sign-in attempts. "
                    f"Please wait {wait_message(found.reset)} before trying again."
                )
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
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        if user.must_change_password:
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        messages.success(self.request, "Your password has been changed.")
        return response


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/home.html"
