"""gunicorn settings for production (read automatically when gunicorn starts in this folder)."""

# The drafting team's exports and the adoption report of a large consultation take up to half a
# minute (bench/report.py: 50,000 opinions to XLSX in about 15-30 s on two cores), longer than
# gunicorn's default 30-second worker timeout.
timeout = 120
graceful_timeout = 30
bind = "127.0.0.1:8000"
workers = 4
accesslog = "-"
