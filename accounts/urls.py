from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("home/", views.HomeView.as_view(), name="home"),
    path("language/", views.set_language, name="set_language"),
]
