"""Deployment readiness checks for `manage.py check_deployment` (see base.py for their shape)."""
