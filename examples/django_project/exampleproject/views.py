"""The home page: who is signed in, and a message left by the previous request."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def home(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and request.user.is_authenticated:
        messages.info(request, f"Hello again, {request.user.get_username()}.")
        return redirect("home")
    return render(request, "home.html")
