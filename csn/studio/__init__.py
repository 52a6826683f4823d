"""CSN Studio, the staff's admin: its dashboard panels (dashboard.py) and server-side SVG charts
(charts.py). The platform knows no app: each app registers the panels of the data it owns, in its
AppConfig.ready(), and the admin index (csn.admin.AdminSite.index) shows those the user may see."""
