from django.contrib import admin
from django.urls import path

urlpatterns = [path("backoffice-7f3a/", admin.site.urls)]
