"""Reports for managers: read-only selectors (queries.py), SVG charts (charts.py) and pages."""
