"""The ``assistant`` command: a Flask CLI group over :func:`assistant.create_app`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask
from flask import current_app
from flask.cli import FlaskGroup
from flask.cli import with_appcontext
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server
from werkzeug.serving import run_simple

from . import create_app
from .extensions import Database
from .vocabulary import Role

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(app: Flask) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = Database.engine(app)
    # For the migrations that seal what was kept in clear (they need the keys and the directory).
    config.attributes["services"] = app.extensions["assistant.services"]
    return config


def upgrade_database(app: Flask) -> None:
    """Create the schema, or bring an existing one up to date."""
    command.upgrade(alembic_config(app), "head")


class QuietRequestHandler(WSGIRequestHandler):
    """Access log without the client's address, user agent or query string."""

    def address_string(self) -> str:
        return "-"

    def send_header(self, keyword: str, value: str) -> None:
        # No Server header: which server and Python version runs here is nobody's business.
        if keyword.lower() != "server":
            super().send_header(keyword, value)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        logging.getLogger("assistant.access").info("%s %s %s", self.command, path, code)

    def log(self, type: str, message: str, *args: Any) -> None:
        # Werkzeug's own lines carry the address; ours do not.
        if type == "error":
            logging.getLogger("assistant.access").error("request error")


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database, or upgrade it to the current schema."""
    upgrade_database(current_app)
    click.echo("The database is ready.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Run the app (for development and small installations; use gunicorn in production)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"Serving on http://{host}:{port}/ (press Ctrl+C to stop)")
    run_simple(host, port, app, request_handler=QuietRequestHandler, threaded=True)


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete expired sessions and drafts, and cases past their retention date."""
    from .cases.retention import purge
    from .extensions import db

    counts = purge(db.session)
    click.echo(f"Removed {counts['sessions']} expired sessions and {counts['cases']} cases.")


@click.command("create-user")
# Advocates register themselves (their organisation goes on record); an administrator approves.
# Hotline staff are invited by their hotline's administrator; "staff" is listed only to say so.
@click.option(
    "--role",
    type=click.Choice([Role.HOTLINE_ADMIN.value, Role.ADMIN.value, Role.STAFF.value]),
    required=True,
    help="hotline_admin: a hotline's first administrator; admin: a service administrator.",
)
@click.option(
    "--hotline", "hotline_id", default=None, help="The hotline id (hotline administrators only)."
)
@click.argument("email")
@with_appcontext
def create_user_command(role: str, hotline_id: str | None, email: str) -> None:
    """Create an account and print its one-time set-up link (valid 72 hours).

    A service administrator creates a hotline's first administrator only, while the hotline has
    none active or setting up (also the way back in when the last one is gone); that
    administrator invites their colleagues in the portal, where the hotline sees every account
    created for it. No password is ever chosen or stored here: the person sets their own
    password and TOTP.
    """
    from .extensions import current_services
    from .extensions import db
    from .people.accounts import AccountRefused
    from .people.accounts import create_account
    from .people.accounts import enrolment_link
    from .people.team import create_first_hotline_admin

    if role == Role.STAFF:
        raise click.ClickException(
            "staff accounts are invited by their hotline's administrator, on the Team page of "
            "the portal. Create a hotline's first administrator with --role hotline_admin "
            "--hotline <id>."
        )
    services = current_services()
    try:
        if role == Role.HOTLINE_ADMIN:
            created = create_first_hotline_admin(
                db.session, services, email, hotline_id or "", actor="cli"
            )
        else:
            created = create_account(db.session, services.directory, email, role, hotline_id)
    except AccountRefused as refused:
        raise click.ClickException(_account_problem(refused)) from None
    base = services.settings.public_url.rstrip("/")
    click.echo(
        f"Created {created.account.email} ({role}). Give them this one-time link, "
        "valid for 72 hours, over a channel you trust:"
    )
    click.echo(f"  {enrolment_link(base, created.enrolment_code)}")
    click.echo(f"or the code, to enter at {base}/account/enrol?code=<code>:")
    click.echo(f"  {created.enrolment_code}")


def _account_problem(refused: Exception) -> str:
    code = getattr(refused, "code", "")
    params = getattr(refused, "params", {})
    return {
        "bad_email": "that is not an e-mail address",
        "bad_role": "the role must be hotline_admin or admin",
        "hotline_required": "a hotline administrator needs --hotline",
        "hotline_has_admin": (
            f"hotline {params.get('hotline', '')!r} already has an administrator, active or "
            "still setting up; they invite their colleagues on the Team page of the portal"
        ),
        "unknown_hotline": f"there is no hotline with the id {params.get('hotline', '')!r}",
        "admin_has_no_hotline": (
            "a service administrator belongs to no hotline; leave out --hotline"
        ),
        "account_exists": "an account with that e-mail address already exists",
        "unknown_account": "there is no account with that e-mail address",
        "unknown_advocate": "there is no advocate's registration with that e-mail address",
        "already_approved": "that advocate is already approved and set up",
        "not_active": "that advocate's account is not active",
    }.get(code, code)


KEY_PROBLEMS = {
    "unknown_hotline": "there is no hotline with that id",
    "name_required": "give the key a name (--name), such as the system that will use it",
    "too_long": "the name is too long (60 characters at most)",
    "control_characters": "the name cannot hold control characters or line breaks",
    "scope_required": "give at least one --scope",
    "bad_scope": "a scope is read, act or message",
    "unknown_key": "the hotline has no key with that id",
    "key_not_live": "that key is revoked or past its overlap already",
    "already_rotated": "that key was rotated already; rotate its successor",
    "already_revoked": "that key is revoked already",
    "bad_overlap": "the overlap is 0 to 720 hours",
}


def _key_problem(refused: Exception) -> click.ClickException:
    code = getattr(refused, "code", "")
    return click.ClickException(KEY_PROBLEMS.get(code, code))


@click.group("api-key")
def api_key_group() -> None:
    """API keys for a hotline's own case system (the hotline systems API)."""


@api_key_group.command("create")
@click.option("--hotline", "hotline_id", required=True, help="The hotline id.")
@click.option("--name", required=True, help="What the key is for, e.g. the system's name.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(["read", "act", "message"]),
    help="What the key may do; repeat for several.",
)
@with_appcontext
def api_key_create_command(hotline_id: str, name: str, scopes: tuple[str, ...]) -> None:
    """Make a key and print it, once. The hotline's administrators are told by e-mail and see it
    on their API keys page."""
    from .extensions import current_services
    from .extensions import db
    from .hotline.api_keys import KeyRefused
    from .hotline.api_keys import create_key

    try:
        made = create_key(
            db.session, current_services().directory, hotline_id, name, scopes, by=None
        )
    except KeyRefused as refused:
        raise _key_problem(refused) from None
    click.echo(
        f"Key {made.key.id} ({made.key.name}) for {hotline_id}: {', '.join(made.key.scopes)}"
    )
    click.echo("Give it to the hotline over a channel you trust. It is not shown again:")
    click.echo(f"  {made.raw}")


@api_key_group.command("list")
@click.option("--hotline", "hotline_id", required=True, help="The hotline id.")
@with_appcontext
def api_key_list_command(hotline_id: str) -> None:
    """The hotline's keys: id, name, scopes, made, last used, state. Never a key."""
    from .extensions import db
    from .hotline.api_keys import is_live
    from .hotline.api_keys import keys_of

    for key in keys_of(db.session, hotline_id):
        state = (
            "revoked"
            if key.revoked_at
            else f"works until {key.expires_at:%Y-%m-%d %H:%M} UTC"
            if key.expires_at and is_live(key)
            else "expired"
            if key.expires_at
            else "live"
        )
        used = key.last_used_on.isoformat() if key.last_used_on else "never"
        click.echo(
            f"{key.id}\t{key.name}\t{','.join(key.scopes)}\tmade {key.created_at:%Y-%m-%d}"
            f"\tlast used {used}\t{state}"
        )


@api_key_group.command("rotate")
@click.option("--hotline", "hotline_id", required=True, help="The hotline id.")
@click.option(
    "--overlap-hours",
    default=24,
    show_default=True,
    type=click.IntRange(0, 720),
    help="How long the old key keeps working beside the new one.",
)
@click.argument("key_id", type=int)
@with_appcontext
def api_key_rotate_command(hotline_id: str, overlap_hours: int, key_id: int) -> None:
    """Make a successor with the same name and scopes; print it, once."""
    import datetime as dt

    from .extensions import db
    from .hotline.api_keys import KeyRefused
    from .hotline.api_keys import rotate_key

    try:
        made = rotate_key(
            db.session, hotline_id, key_id, by=None, overlap=dt.timedelta(hours=overlap_hours)
        )
    except KeyRefused as refused:
        raise _key_problem(refused) from None
    click.echo(
        f"Key {made.key.id} replaces key {key_id}, which works for {overlap_hours} more hours. "
        "It is not shown again:"
    )
    click.echo(f"  {made.raw}")


@api_key_group.command("revoke")
@click.option("--hotline", "hotline_id", required=True, help="The hotline id.")
@click.argument("key_id", type=int)
@with_appcontext
def api_key_revoke_command(hotline_id: str, key_id: int) -> None:
    """The key stops working now."""
    from .extensions import db
    from .hotline.api_keys import KeyRefused
    from .hotline.api_keys import revoke_key

    try:
        revoke_key(db.session, hotline_id, key_id, by=None)
    except KeyRefused as refused:
        raise _key_problem(refused) from None
    click.echo(f"Key {key_id} is revoked.")


@click.command("approve-advocate")
@click.argument("email")
@with_appcontext
def approve_advocate_command(email: str) -> None:
    """Approve an advocate's registration and print their one-time set-up link (valid 72 hours).

    Check with their organisation first. Run it again for an advocate still setting up to issue a
    new link; the old one stops working.
    """
    from .extensions import current_services
    from .extensions import db
    from .people.accounts import AccountRefused
    from .people.accounts import enrolment_link
    from .people.advocates import approve_advocate

    try:
        account, code = approve_advocate(db.session, email=email)
    except AccountRefused as refused:
        raise click.ClickException(_account_problem(refused)) from None
    click.echo(
        f"Approved {account.email}. Send them this one-time link, valid for 72 hours, "
        "at that address only:"
    )
    click.echo(f"  {enrolment_link(current_services().settings.public_url, code)}")


@click.command("suspend-advocate")
@click.argument("email")
@with_appcontext
def suspend_advocate_command(email: str) -> None:
    """Suspend an advocate: every session ends now, and no case opens for them."""
    from .extensions import db
    from .people.accounts import AccountRefused
    from .people.advocates import suspend_advocate

    try:
        account = suspend_advocate(db.session, email=email)
    except AccountRefused as refused:
        raise click.ClickException(_account_problem(refused)) from None
    click.echo(f"Suspended {account.email}; its sessions have ended.")


@click.command("disable-user")
@click.argument("email")
@with_appcontext
def disable_user_command(email: str) -> None:
    """Disable an account: it cannot sign in, and every session it has ends now."""
    from .extensions import db
    from .people.accounts import AccountRefused
    from .people.accounts import disable_account

    try:
        account = disable_account(db.session, email)
    except AccountRefused as refused:
        raise click.ClickException(_account_problem(refused)) from None
    click.echo(f"Disabled {account.email}; its sessions have ended.")


def _worker_sessions() -> Callable[[], Any]:
    """New database sessions for a worker command (one per pass, outside any request)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return lambda: Database.new_session(app)


def _stop_on_signal() -> Any:
    """An event that SIGTERM or Ctrl+C sets: a ``--loop`` worker finishes its pass and stops."""
    import signal
    import threading

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    return stop


@click.command("deliver")
@click.option("--loop", is_flag=True, help="Keep running, a pass every --interval seconds.")
@click.option("--interval", default=10.0, show_default=True, type=float)
@click.option(
    "--batch",
    default=200,
    show_default=True,
    type=click.IntRange(1, 5000),
    help="Items a pass takes at most (notices to providers go over one connection).",
)
@with_appcontext
def deliver_command(loop: bool, interval: float, batch: int) -> None:
    """Send what the outbox holds: signed webhooks and neutral e-mail notices to hotlines.

    Several workers may run at once; none sends an item another is sending.
    """
    from .extensions import current_services
    from .hotline.delivery import deliver_once
    from .hotline.delivery import run_forever

    new_session, services = _worker_sessions(), current_services()
    if not loop:
        report = deliver_once(new_session, services, batch=batch)
        click.echo(f"Sent {report.sent}, to retry {report.retried}, given up {report.dead}.")
        return
    click.echo(f"Delivering every {interval:g} s (Ctrl+C to stop).")
    run_forever(new_session, services, interval=interval, stop=_stop_on_signal(), batch=batch)


@click.command("chase")
@click.option("--loop", is_flag=True, help="Keep running, a pass every --interval seconds.")
@click.option("--interval", default=60.0, show_default=True, type=float)
@with_appcontext
def chase_command(loop: bool, interval: float) -> None:
    """Remind providers about notices without an answer, and escalate when reminders run out.

    Several chase processes may run at once; none reminds a provider twice. What it queues is
    sent by `assistant deliver`.
    """
    from .extensions import current_services
    from .hotline.chase import chase_once
    from .hotline.chase import run_forever

    new_session, services = _worker_sessions(), current_services()
    if not loop:
        report = chase_once(new_session, services)
        click.echo(
            f"Reminded {report.reminded}, escalated {report.escalated}, "
            f"flagged to staff {report.flagged}, finished {report.finished}."
        )
        return
    click.echo(f"Chasing every {interval:g} s (Ctrl+C to stop).")
    run_forever(new_session, services, interval=interval, stop=_stop_on_signal())


def figures_server(app: Flask, host: str, port: int) -> BaseWSGIServer:
    """The figures' own HTTP server (:func:`assistant.metrics.exporter`), apart from the public
    app, logging no client address."""
    from .metrics import exporter

    return make_server(
        host, port, exporter(app), threaded=True, request_handler=QuietRequestHandler
    )


@click.command("metrics")
@click.option(
    "--bind",
    default="127.0.0.1:9464",
    show_default=True,
    help="host:port to answer GET /metrics on (loopback or a private network).",
)
@with_appcontext
def metrics_command(bind: str) -> None:
    """Serve figures for operators in Prometheus's text format at http://BIND/metrics.

    Requests by route and status, requests and places filed, deliveries by state, the outbox's
    and the chase's queues: nothing about a case, a place or an address. One exporter for the
    whole service is enough: the counters are kept in the shared Redis, the rest is counted in
    the database.
    """
    from .metrics import counters_of
    from .metrics import parse_bind

    try:
        host, port = parse_bind(bind)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--bind") from None
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not counters_of(app).shared:
        click.echo(
            "Note: with ASSISTANT_RATELIMIT_STORAGE_URL=memory:// each process keeps its own "
            "counters, so none of the web processes' requests and filings show here. Set it to "
            "the redis:// URL the web processes use; the database figures show either way.",
            err=True,
        )
    try:
        server = figures_server(app, host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {bind}: {exc.strerror or exc}") from None
    click.echo(f"Figures at http://{bind}/metrics (press Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@click.command("check-data")
@click.option(
    "--data-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder with hotlines.json and providers.json, and optionally resources.json "
    "(default: the shipped data).",
)
@click.option("--quiet", is_flag=True, help="Do not list the entries no person has verified.")
def check_data_command(data_dir: Path | None, quiet: bool) -> None:
    """Check the directory and support data; list entries no person has verified yet.

    Exits with status 1 when a file has a problem, so CI can run it.
    """
    from .routing.checked import CHECK_VALID_FOR
    from .routing.checked import checks_due
    from .routing.directory import DATA_DIR
    from .routing.directory import HOTLINES_FILE
    from .routing.directory import PROVIDERS_FILE
    from .routing.directory import DirectoryError
    from .routing.directory import check_data
    from .routing.directory import read_data_file
    from .routing.directory import unverified
    from .support_resources import ResourcesError
    from .support_resources import check_agreement
    from .support_resources import check_resources
    from .support_resources import read_resources_file
    from .support_resources import resources_path
    from .support_resources import unverified_resources

    folder = data_dir or DATA_DIR
    try:
        hotlines = read_data_file(folder / HOTLINES_FILE)
        providers = read_data_file(folder / PROVIDERS_FILE)
        resources = read_resources_file(resources_path(data_dir))
    except (DirectoryError, ResourcesError) as exc:
        raise click.ClickException(str(exc)) from exc
    problems = (
        check_data(hotlines, providers)
        + check_resources(resources)
        + check_agreement(resources, hotlines)
    )
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in the data")
    pending = unverified(hotlines, providers) + unverified_resources(resources)
    countries = {entry["country"] for entry in resources["resources"] if entry["country"]}
    click.echo(
        f"{len(hotlines['hotlines'])} hotlines, {len(providers['providers'])} providers and "
        f"{len(resources['resources'])} support resources in {len(countries)} countries: "
        "no problems found."
    )
    if pending:
        click.echo(f"{len(pending)} entries are not yet verified by a person (verified_on: null)")
        if not quiet:
            for item in pending:
                click.echo(f"  {item}")
    due = checks_due(
        dt.date.today(),
        hotline=hotlines["hotlines"],
        provider=providers["providers"],
        resource=resources["resources"],
    )
    if due:
        click.echo(
            f"{len(due)} entries are due to be checked against their sources again "
            f"(never checked, or checked more than {CHECK_VALID_FOR.days} days ago)"
        )
        if not quiet:
            for item in due:
                click.echo(f"  {item}")


@click.command("rotate-keys")
@click.option(
    "--batch-size",
    default=500,
    show_default=True,
    type=click.IntRange(1, 10000),
    help="Rows changed in one transaction.",
)
@click.option(
    "--pause",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 60),
    help="Seconds to rest between batches, leaving the database to live traffic.",
)
@with_appcontext
def rotate_keys_command(batch_size: int, pause: float) -> None:
    """Re-seal every sealed value under the newest master key and, after a change of the hash
    key, re-compute the stored keyed hashes with the new one (docs/key-rotation.md).

    Run it with the old and the new keys configured, once every web and worker process runs
    with them. Safe to stop at any point: run it again and it continues. Exits with status 1
    if a value could not be opened or a hash could not be re-computed.
    """
    from .extensions import current_services
    from .key_rotation import after_rotation
    from .key_rotation import plan_rotation
    from .key_rotation import rotate_keys

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    engine, services = Database.engine(app), current_services()
    plan = plan_rotation(engine, services)
    click.echo(plan.describe(services.cipher.current_version))
    with click.progressbar(length=plan.rows, label="Rows", show_pos=True) as bar:
        report = rotate_keys(
            engine, services, batch_size=batch_size, pause=pause, progress=bar.update
        )
    for line in report.lines():
        click.echo(f"  {line}")
    if report.problems:
        raise click.ClickException(
            f"{report.problems} values could not be opened or re-computed (listed above) and "
            "were left as they were. Configure the keys they need and run this again."
        )
    for line in after_rotation(engine, services, report):
        click.echo(line)


@click.group(
    cls=FlaskGroup, create_app=create_app, add_default_commands=False, add_version_option=False
)
def main() -> None:
    """Removal Request Assistant."""


for subcommand in (
    init_db_command,
    serve_command,
    purge_command,
    create_user_command,
    disable_user_command,
    approve_advocate_command,
    suspend_advocate_command,
    deliver_command,
    chase_command,
    metrics_command,
    api_key_group,
    rotate_keys_command,
    # Needs no app, no database and no secrets: it only reads the data files.
    check_data_command,
):
    main.add_command(subcommand)
