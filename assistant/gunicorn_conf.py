"""gunicorn settings for production: an access log without addresses, agents or query strings.

Used as ``gunicorn --config python:assistant.gunicorn_conf 'assistant:create_app()'``.
"""

accesslog = "-"
errorlog = "-"
# Method, path (no query string), status, size, duration. Never %(h)s, %(a)s or %(r)s.
access_log_format = "%(m)s %(U)s %(s)s %(B)s %(M)sms"
workers = 2
timeout = 60
# Request headers are not logged; a proxy in front should not add the address to its own logs.
forwarded_allow_ips = "127.0.0.1"
