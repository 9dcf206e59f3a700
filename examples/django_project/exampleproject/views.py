"""The home page: who is signed in, and a message left by the previous page."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and request.user.is_authenticated:
        messages.info(request, "Hello again.")
    return render(request, "home.html")
