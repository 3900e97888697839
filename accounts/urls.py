from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("home/", views.HomeView.as_view(), name="home"),
    path("pin/", views.pin_view, name="pin"),
    path("two-factor/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/off/", views.two_factor_disable, name="two_factor_disable"),
    path("two-factor/code/", views.two_factor_verify, name="two_factor_verify"),
    path("language/", views.set_language, name="set_language"),
]
