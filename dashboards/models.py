"""Commissioner dashboards and reporting."""
