"""The REST API under /api/v1/: serializers validate, services write, serializers answer."""
