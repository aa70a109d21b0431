"""The dashboards' reports, one module each, for one commissioning body at a time.

Each module computes its figures with a fixed number of grouped queries and returns a report
(see `common.Report`) that pages, the API and the export command show. Which body a user may
read is `dashboards.permissions.dashboard_commissioner`; which report a name means is
`dashboards.registry`.
"""
