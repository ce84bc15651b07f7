"""The app object for gunicorn and ``flask --app server.wsgi``."""

from server import create_app

app = create_app()
