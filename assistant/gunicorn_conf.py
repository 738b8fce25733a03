"""gunicorn settings for production: an access log without addresses, agents or query strings.

Used as ``gunicorn --config python:assistant.gunicorn_conf 'assistant:create_app()'``.
"""

import gunicorn.http.wsgi

_default_headers = gunicorn.http.wsgi.Response.default_headers


def _without_server(self: gunicorn.http.wsgi.Response) -> list[str]:
    """gunicorn's own headers less ``Server: gunicorn``: the software and its version are not
    announced (gunicorn has no setting for it, so its header list is filtered here, once, in
    the master before the workers are forked)."""
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


gunicorn.http.wsgi.Response.default_headers = _without_server

accesslog = "-"
errorlog = "-"
# Method, path (no query string), status, size, duration. Never %(h)s, %(a)s or %(r)s.
access_log_format = "%(m)s %(U)s %(s)s %(B)s %(M)sms"
workers = 2
# No control socket: two instances on one machine would share its default path, and a service
# user without a home cannot create it.
control_socket_disable = True
timeout = 60
# Request headers are not logged; a proxy in front should not add the address to its own logs.
forwarded_allow_ips = "127.0.0.1"
