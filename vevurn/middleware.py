"""Request hygiene that every screen, the admin and the API share."""

from monitoring.views import render_error


class RejectNulCharactersMiddleware:
    """A NUL character in a query parameter is answered with a 400 naming the parameter.

    No one types one; PostgreSQL refuses it in text, so a search or an admin filter that passed
    it to a query would fail with a 500. Form fields already refuse it (Django's
    ProhibitNullCharactersValidator); JSON bodies are checked by the serializers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad = sorted(
            name
            for name, values in request.GET.lists()
            if "\x00" in name or any("\x00" in value for value in values)
        )
        if bad:
            return render_error(
                request,
                400,
                code="invalid",
                message="A search or filter contains a NUL character.",
                fields={
                    name.replace("\x00", ""): ["NUL characters are not allowed."] for name in bad
                },
            )
        return self.get_response(request)
