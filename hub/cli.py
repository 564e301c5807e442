"""The `plein` command: run the hub, and manage users, groups, tokens, digests and the index.

Each command opens one transaction, calls services, and prints what happened; a service
error becomes a one-line message and exit status 1.
"""

from __future__ import annotations

import csv
import os
import sys

import click

from hub.archive_cli import export_archive, import_archive, people_merge_external
from hub.cli_support import Commands, database_ready, handles_errors, with_context
from hub.context import Context, build_context
from hub.jobs import DEFAULT_QUEUE, INBOUND_QUEUE, INDEX_QUEUE
from hub.models import AnonymousPosting, Delivery, InboundStatus, PostingPolicy, UntrustedMail
from hub.services import (
    accounts,
    anonymity,
    digests,
    directory_groups,
    groups,
    index_writer,
    ldap_directory,
    moderation,
    outbox,
    people,
    profiles,
)
from hub.services import participation_figures as statistics
from search.index import IndexBusyError


@click.group(cls=Commands)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Plein: a company's groups, by mail and on the web."""
    ctx.obj = build_context()
    ctx.call_on_close(ctx.obj.close)


@main.command(cls=click.Command)
@click.option("--demo", is_flag=True, help="First seed a small demo company, and print links to sign in as its people.")
@click.option("--verbose", is_flag=True, help="Show every process's log on the console instead of in PLEIN_DATA_DIR/plein.log.")
@with_context
def run(context: Context, demo: bool, verbose: bool) -> None:
    """Start the web hub, the SMTP server, a worker and beat on embedded defaults; Ctrl-C stops them.

    On the embedded database it first upgrades it; a configured one is checked, as every role checks it.
    """
    from hub.runner import run_all

    settings = context.settings
    database_ready(context, upgrade=settings.database_url == settings.embedded_database_url)
    run_all(context, with_demo=demo, verbose=verbose)


@main.command()
@with_context
def web(context: Context) -> None:
    """Serve the web hub and the JSON API (any number may run)."""
    from hub.runner import run_web

    run_web(context)


@main.command()
@with_context
def smtp(context: Context) -> None:
    """Accept mail over SMTP (any number may run)."""
    from hub.runner import run_smtp

    run_smtp(context)


@main.command()
@click.option(
    "--queues", default=f"{INBOUND_QUEUE},{DEFAULT_QUEUE}", show_default=True,
    help="Comma-separated Celery queues to consume.",
)
@click.option("--concurrency", default=1, show_default=True, help="Tasks run at once in this process.")
def worker(queues: str, concurrency: int) -> None:
    """Run background tasks: inbound mail, notifications, digests, the outbox (any number may run)."""
    from hub.runner import exec_role, worker_command

    if INDEX_QUEUE in queues.split(","):
        raise click.UsageError(f"the {INDEX_QUEUE} queue has one consumer: `plein indexer`")
    exec_role(worker_command(queues.split(","), concurrency=concurrency))


@main.command()
@with_context
def beat(context: Context) -> None:
    """Send scheduled tasks (digests, sweeps) to the workers (run exactly one)."""
    from hub.runner import beat_command, exec_role

    exec_role(beat_command(context.settings))


@main.command()
@with_context
def indexer(context: Context) -> None:
    """Keep the search index: the one process that writes it (run exactly one)."""
    from hub.runner import run_indexer

    run_indexer(context)


@main.command(cls=click.Command)
@with_context
def check(context: Context) -> None:
    """Check the database, broker, index, outbox and SMTP server, one line each."""
    from hub.services.health import all_checks

    checks = all_checks(context)
    for result in checks:
        click.echo(result.line())
    if not all(result.ok for result in checks):
        sys.exit(1)


@main.group()
def db() -> None:
    """Manage the database."""


@db.command("upgrade", cls=click.Command)
@with_context
def db_upgrade(context: Context) -> None:
    """Apply the database migrations; run it before starting the roles of a new release."""
    database_ready(context, upgrade=True)
    click.echo("Database is up to date")


@main.command()
@with_context
def imap(context: Context) -> None:
    """Take mail from the mailboxes in PLEIN_IMAP_URL, with IDLE where offered (run one per mailbox)."""
    from hub.gateway import watch_mailboxes
    from hub.logs import configure_logging
    from hub.runner import log_sender_authentication

    configure_logging(log_format=context.settings.log_format)
    log_sender_authentication(context.settings)
    try:
        watch_mailboxes(context)
    except ValueError as error:
        raise click.ClickException(str(error)) from error


@main.group("inbound")
def inbound_mail() -> None:
    """Look at received mail, and process quarantined or refused mail again."""


@inbound_mail.command("list")
@click.option(
    "--status", type=click.Choice([s.value for s in InboundStatus]), default=InboundStatus.FAILED.value,
    show_default=True, help="failed is the quarantine: mail whose processing kept failing.",
)
@click.option("--limit", default=50, show_default=True)
@with_context
def inbound_list(context: Context, status: str, limit: int) -> None:
    """List received mail with STATUS, newest first: id, time, sender, raw file, reason."""
    from hub.services import inbound

    with context.session_scope() as session:
        found = inbound.list_inbound(session, InboundStatus(status), limit)
        for message in found:
            click.echo(
                f"{message.id}\t{message.received_at:%Y-%m-%d %H:%M}\t{message.envelope_from or '<>'}\t"
                f"{message.path}\t{message.reason}"
            )
        if not found:
            click.echo(f"No {status} messages")


@inbound_mail.command("retry")
@click.argument("message_id", type=int)
@handles_errors
@with_context
def inbound_retry(context: Context, message_id: int) -> None:
    """Process received message MESSAGE_ID again (a worker picks it up)."""
    from hub.services import inbound

    with context.session_scope() as session:
        inbound.retry_inbound(session, message_id)
    click.echo(f"Message {message_id} is queued for processing again")


@main.group()
def user() -> None:
    """Manage users."""


@user.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Full name, as shown to colleagues.")
@click.option("--department", default="", help="Department, e.g. Infra.")
@click.option("--title", "job_title", default="", help="Job title, e.g. Network engineer.")
@click.option("--expertise", default="", help="What colleagues may ask about, comma-separated: glasvezel,modems")
@click.option("--bio", default="", help="A few words about this person.")
@click.option("--admin", is_flag=True, help="May see and retry the inbound quarantine on the web.")
@handles_errors
@with_context
def user_add(context: Context, email: str, name: str, department: str, job_title: str, expertise: str, bio: str, admin: bool) -> None:
    with context.session_scope() as session:
        created = accounts.create_user(session, email, name)
        profiles.update_profile(session, created, profiles.ProfileForm(department, job_title, bio, expertise))
        if admin:
            accounts.set_admin(session, created)
        click.echo(f"Added {'admin ' if admin else ''}{created.name} <{created.email}>")


@user.command("list")
@with_context
def user_list(context: Context) -> None:
    """List every user by address: email, name, and admin or the groups they moderate."""
    with context.session_scope() as session:
        found = accounts.list_users(session)
        for person in found:
            markers = ["admin"] if person.is_admin else []
            if moderates := sorted(m.group.slug for m in person.memberships if m.is_moderator):
                markers.append(f"moderates {','.join(moderates)}")
            if not accounts.is_active(person):
                markers.append("deactivated")
            click.echo("\t".join([person.email, person.name, *([", ".join(markers)] if markers else [])]))
        if not found:
            click.echo("No users")


@user.command("admin")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Take the admin right away instead.")
@handles_errors
@with_context
def user_admin(context: Context, email: str, revoke: bool) -> None:
    """Let EMAIL see and retry the inbound quarantine on the web (/admin/inbound)."""
    with context.session_scope() as session:
        changed = accounts.set_admin(session, accounts.get_user(session, email), not revoke)
        click.echo(f"{changed.email} is {'no longer ' if revoke else ''}an admin")


@user.command("deactivate")
@click.argument("email")
@handles_errors
@with_context
def user_deactivate(context: Context, email: str) -> None:
    """EMAIL has left: signed out, tokens gone, no sign-in, no mail in or out; what they wrote stays."""
    with context.session_scope() as session:
        changed = accounts.deactivate(session, accounts.get_user(session, email))
        click.echo(f"{changed.email} is deactivated (a former colleague since {changed.deactivated_at:%Y-%m-%d})")


@user.command("reactivate")
@click.argument("email")
@handles_errors
@with_context
def user_reactivate(context: Context, email: str) -> None:
    """EMAIL is back: they sign in with a new link and get mail again."""
    with context.session_scope() as session:
        changed = accounts.reactivate(session, accounts.get_user(session, email))
        click.echo(f"{changed.email} is active again")


@main.group("people")
def people_group() -> None:
    """Bring everyone in at once: from a CSV file or from the directory server."""


@people_group.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--dry-run", is_flag=True, help="Say what would happen, line by line, and change nothing.")
@click.option("--deactivate-missing", is_flag=True,
              help="Deactivate the active people the file leaves out (administrators stay active).")
@handles_errors
@with_context
def people_import(context: Context, file, dry_run: bool, deactivate_missing: bool) -> None:
    """Create and update people from FILE, a CSV file with the columns
    email,name,department,title,manager,phone,location,expertise (department as a path KPN/Consumer/Field Service,
    manager as an address, expertise separated by `;`).

    Each line is reported; a rejected one, with its reason, changes nothing and the others are still taken.
    Exit status 0 when every line was taken, 1 when one or more were rejected or the file could not be read.
    """
    records = people.read_csv(file)
    with context.session_scope() as session:
        report = _with_progress(len(records), lambda progress: people.apply_records(
            session, records, deactivate_missing=deactivate_missing, dry_run=dry_run, progress=progress
        ))
    _print_report(report, dry_run)


@people_group.command("sync-ldap")
@click.option("--dry-run", is_flag=True, help="Say what would happen, person by person, and change nothing.")
@handles_errors
@with_context
def people_sync_ldap(context: Context, dry_run: bool) -> None:
    """Create, update and deactivate people as the directory server (PLEIN_LDAP_URL) has them.

    Exit status 0 when every entry was taken, 1 when one or more were rejected or the server could not be read
    (then nothing changed).
    """
    records = ldap_directory.read_people(context.settings)
    with context.session_scope() as session:
        report = _with_progress(len(records), lambda progress: ldap_directory.apply_directory(
            session, records, dry_run=dry_run, progress=progress
        ))
    _print_report(report, dry_run)


def _with_progress(total: int, apply):
    """Run `apply(progress)` under a progress bar on the terminal (none when the output is not one)."""
    with click.progressbar(length=total, label="People", file=sys.stderr) as bar:
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            bar.update(count - done)
            done = count

        return apply(advance)


def _print_report(report: people.SyncReport, dry_run: bool) -> None:
    for result in report.results:
        outcome = f"rejected: {result.reason}" if result.reason else result.outcome.value
        click.echo(f"{result.record.where}\t{result.email or result.record.email}\t{outcome}")
    for email in report.deactivated:
        click.echo(f"-\t{email}\tdeactivated")
    for email in report.kept_admins:
        click.echo(f"-\t{email}\tnot named, kept active: an administrator")
    counts = ", ".join(f"{report.count(outcome)} {outcome.value}" for outcome in people.Outcome)
    click.echo(f"{counts}, {len(report.deactivated)} deactivated{' (dry run: nothing changed)' if dry_run else ''}")
    if report.rejected:
        sys.exit(1)


@main.group()
def group() -> None:
    """Manage groups and their members."""


@group.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The group's name, as shown to people.")
@click.option("--private", is_flag=True, help="Only members see the group and may post to it.")
@click.option("--description", default="", help="One line about what the group is for.")
@click.option("--policy", type=click.Choice([p.value for p in PostingPolicy]), default=PostingPolicy.MEMBERS.value,
              show_default=True, help="Who may post: members, anyone in the company, or anyone but held for a moderator.")
@click.option("--untrusted-mail", type=click.Choice([u.value for u in UntrustedMail]), default=UntrustedMail.HOLD.value,
              show_default=True, help="Mail whose From cannot be verified: hold it for a moderator, or refuse it.")
@handles_errors
@with_context
def group_create(context: Context, slug: str, name: str, private: bool, description: str, policy: str, untrusted_mail: str) -> None:
    from hub.services.notifications import group_address

    with context.session_scope() as session:
        created = groups.create_group(session, slug, name, private=private, description=description)
        moderation.set_policy(session, created, policy, untrusted_mail)
        click.echo(f"Created {'private ' if private else ''}group {created.name}: mail {group_address(created)}")


@group.command("list")
@with_context
def group_list(context: Context) -> None:
    """List every group, private ones too: slug, name, privacy, who may post, members."""
    with context.session_scope() as session:
        found = groups.list_groups(session)
        for listed in found:
            shown = listed.group
            click.echo(
                f"{shown.slug}\t{shown.name}\t{'private' if shown.is_private else 'public'}\t"
                f"posting {shown.posting_policy}\t{listed.members} member{'s' if listed.members != 1 else ''}"
            )
        if not found:
            click.echo("No groups")


@group.command("edit")
@click.argument("slug")
@click.option("--name", help="The group's new name, as shown to people.")
@click.option("--description", help="One line about what the group is for; an empty one removes it.")
@click.option("--private/--public", default=None,
              help="Only members see the group (private), or everyone does (public); search follows.")
@click.option("--policy", type=click.Choice([p.value for p in PostingPolicy]),
              help="Who may post: members, anyone in the company, or anyone but held for a moderator.")
@click.option("--anonymous", type=click.Choice([m.value for m in AnonymousPosting]),
              help="Whether members may post and comment anonymously; moderated holds each for a moderator.")
@handles_errors
@with_context
def group_edit(
    context: Context, slug: str, name: str | None, description: str | None, private: bool | None, policy: str | None,
    anonymous: str | None,
) -> None:
    """Change SLUG's name, description, privacy, who may post or anonymous posting; what is not given stays."""
    if name is None and description is None and private is None and policy is None and anonymous is None:
        raise click.UsageError(
            "say what to change: --name, --description, --private or --public, --policy, or --anonymous"
        )
    with context.session_scope() as session:
        changed = groups.edit_group(
            session, groups.get_group(session, slug), name=name, description=description, private=private,
            anonymous=anonymous,
        )
        moderation.set_policy(session, changed, policy)
        click.echo(
            f"{changed.slug} is now {'private' if changed.is_private else 'public'}: {changed.name}, "
            f"posting {changed.posting_policy}, anonymous {changed.anonymous}"
        )


@group.command("policy")
@click.argument("slug")
@click.option("--policy", type=click.Choice([p.value for p in PostingPolicy]), help="Who may post.")
@click.option("--untrusted-mail", type=click.Choice([u.value for u in UntrustedMail]),
              help="Mail whose From cannot be verified: hold or refuse.")
@handles_errors
@with_context
def group_policy(context: Context, slug: str, policy: str | None, untrusted_mail: str | None) -> None:
    """Change who may post to SLUG, and what happens to mail whose From cannot be verified."""
    with context.session_scope() as session:
        changed = moderation.set_policy(session, groups.get_group(session, slug), policy, untrusted_mail)
        click.echo(f"{changed.slug}: posting {changed.posting_policy}, unverified mail {changed.untrusted_mail}")


@group.command("moderator")
@click.argument("slug")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Take the moderator right away instead.")
@handles_errors
@with_context
def group_moderator(context: Context, slug: str, email: str, revoke: bool) -> None:
    """Let member EMAIL approve and reject SLUG's held mail (on the web and by mail), or stop them."""
    with context.session_scope() as session:
        membership = moderation.set_moderator(
            session, groups.get_group(session, slug), accounts.get_user(session, email), not revoke
        )
        click.echo(f"{membership.user.email} {'no longer moderates' if revoke else 'moderates'} {membership.group.slug}")


@group.command("add-member")
@click.argument("slug")
@click.argument("email")
@click.option(
    "--delivery",
    type=click.Choice([d.value for d in Delivery]),
    default=Delivery.EACH.value,
    show_default=True,
    help="each post by mail, a daily or weekly digest, or none (web only).",
)
@handles_errors
@with_context
def group_add_member(context: Context, slug: str, email: str, delivery: str) -> None:
    with context.session_scope() as session:
        membership = groups.add_member(
            session, groups.get_group(session, slug), accounts.get_user(session, email), delivery
        )
        click.echo(f"{membership.user.email} is in {membership.group.slug} ({membership.delivery.value})")


@group.command("remove-member")
@click.argument("slug")
@click.argument("email")
@handles_errors
@with_context
def group_remove_member(context: Context, slug: str, email: str) -> None:
    """Take EMAIL out of SLUG, and with it their moderator right, as leaving on the web does."""
    with context.session_scope() as session:
        found, person = groups.get_group(session, slug), accounts.get_user(session, email)
        groups.remove_member(session, found, person)
        click.echo(f"{person.email} is no longer in {found.slug}")


@group.command("archive")
@click.argument("slug")
@click.option("--reopen", is_flag=True, help="Open an archived group again.")
@handles_errors
@with_context
def group_archive(context: Context, slug: str, reopen: bool) -> None:
    """Make SLUG read-only: still read and searched, no new posts, comments, reactions or members; mail is refused."""
    with context.session_scope() as session:
        archived = groups.archive_group(session, groups.get_group(session, slug), not reopen)
        click.echo(f"{archived.slug} is {'archived' if archived.archived_at else 'open'}")


@group.command("company")
@click.option("--slug", default="", help="Its address; PLEIN_COMPANY_GROUP by default.")
@click.option("--name", default="", help="Its name; 'Everyone' in the default language by default.")
@handles_errors
@with_context
def group_company(context: Context, slug: str, name: str) -> None:
    """Make the all-company group, whose members are every active person, or bring it in step with the directory."""
    with context.session_scope() as session:
        made = directory_groups.make_company_group(session, slug, name)
        click.echo(f"{made.slug} follows the directory: {len(made.memberships)} members")


@group.command("for-department")
@click.argument("path")
@click.option("--slug", default="", help="Its address; made of the department's name by default.")
@click.option("--name", default="", help="Its name; the department's by default.")
@click.option("--private", is_flag=True, help="Only its members see the group.")
@handles_errors
@with_context
def group_for_department(context: Context, path: str, slug: str, name: str, private: bool) -> None:
    """Make a group for the department at PATH (`KPN/Consumer`) whose members are the active people of it
    and of every department below it."""
    with context.session_scope() as session:
        department = directory_groups.find_department(session, path)
        made = directory_groups.make_department_group(session, department, slug=slug, name=name, private=private)
        click.echo(f"{made.slug} follows {department.path}: {len(made.memberships)} members")


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.argument("email")
@handles_errors
@with_context
def token_create(context: Context, email: str) -> None:
    """Print a new API token for EMAIL (shown once)."""
    with context.session_scope() as session:
        click.echo(accounts.create_api_token(session, accounts.get_user(session, email)))


@main.group()
def digest() -> None:
    """Send digests."""


@digest.command("run")
@click.option("--frequency", type=click.Choice(["daily", "weekly"]), required=True)
@handles_errors
@with_context
def digest_run(context: Context, frequency: str) -> None:
    """Send every member on FREQUENCY a digest of what is new, right now."""
    with context.session_scope() as session:
        queued = digests.send_digests(session, frequency)
    outbox.drain(context)
    click.echo(f"Sent {len(queued)} {frequency} digest{'s' if len(queued) != 1 else ''}")


@digest.command("preview")
@click.argument("email")
@click.option("--frequency", type=click.Choice(["daily", "weekly"]), default="daily", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Where to write the HTML.")
@handles_errors
@with_context
def digest_preview(context: Context, email: str, frequency: str, output: str | None) -> None:
    """Write the HTML of the digest EMAIL would get now, to look at in a browser; nothing is sent or moved."""
    import tempfile
    from pathlib import Path

    with context.session_scope() as session:
        preview = digests.preview_digest(session, accounts.get_user(session, email), frequency)
    if preview is None:
        click.echo(f"Nothing new for {email} since their last {frequency} digest: no digest would be sent.")
        return
    if output is None:
        handle, output = tempfile.mkstemp(prefix="plein-digest-", suffix=".html")
        os.close(handle)
    Path(output).write_text(preview.html, encoding="utf-8")
    click.echo(f"{preview.subject}\n{Path(output).resolve()}")


@main.command()
@handles_errors
@with_context
def reindex(context: Context) -> None:
    """Rebuild the search index from the database, beside the current one; searches go on meanwhile."""
    with context.session_scope() as session:
        total = index_writer.count_items(session)
    with click.progressbar(length=total, label="Indexing", file=sys.stderr) as bar:
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            bar.update(count - done)
            done = count

        try:
            count = index_writer.reindex(context, progress=advance)
        except IndexBusyError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"Indexed {count} items, done.")


@main.group("stats")
def stats_group() -> None:
    """Participation statistics, as administrators read them on /stats."""


@stats_group.command("export")
@click.option("--from", "start", default=None, help="First day, YYYY-MM-DD (90 days before --to).")
@click.option("--to", "end", default=None, help="Last day, YYYY-MM-DD (today).")
@click.option("--group", default=None, help="Only this group (its address).")
@click.option("--department", type=int, default=None, help="Only the people of this department (its id) and below.")
@click.option("--period", type=click.Choice(statistics.PERIODS), default="week", show_default=True)
@click.argument("file", type=click.File("w", encoding="utf-8", lazy=True))
@handles_errors
@with_context
def stats_export(context: Context, start, end, group, department, period, file) -> None:
    """Write the statistics of the whole hub (every group, private ones too) to FILE as CSV, one number a line:
    section,name,measure,value. `-` writes to standard output."""
    first, last = statistics.chosen_days(start, end)
    with context.session_scope() as session:
        scope = statistics.scope_for(session, None, first, last, group=group, department=department)
        rows = statistics.as_rows(statistics.figures(session, None, scope, period))
    writer = csv.writer(file)
    writer.writerow(("section", "name", "measure", "value"))
    writer.writerows(rows)
    if file.name != "<stdout>":
        click.echo(f"Wrote {len(rows)} figures from {first} to {last} to {file.name}", err=True)


@main.group("anonymous")
def anonymous_items() -> None:
    """The key anonymous authors are sealed with, and revealing one (hub.services.anonymity)."""


@anonymous_items.command("keygen", cls=click.Command)
@click.argument("private_key_file", type=click.Path(dir_okay=False, writable=True))
def anonymous_keygen(private_key_file: str) -> None:
    """Make the key pair: the private key into PRIVATE_KEY_FILE (kept away from the hub's servers), and the
    public key printed, for PLEIN_ANONYMOUS_KEY."""
    private, public = anonymity.new_key_pair()
    try:
        with open(os.open(private_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as written:
            written.write(private + "\n")
    except FileExistsError:
        raise click.ClickException(f"{private_key_file} exists already: a new key would make its sealed authors unreadable") from None
    click.echo(f"Private key written to {private_key_file}; keep it off the hub's servers.")
    click.echo(f"PLEIN_ANONYMOUS_KEY={public}")


@anonymous_items.command("reveal")
@click.argument("kind", type=click.Choice(anonymity.KINDS))
@click.argument("item_id", type=int)
@click.option("--reason", required=True, help="Why the author is revealed; kept in the audit log.")
@click.option("--key-file", required=True, type=click.File("r"), envvar="PLEIN_ANONYMOUS_PRIVATE_KEY_FILE",
              help="The private key plein anonymous keygen wrote (or PLEIN_ANONYMOUS_PRIVATE_KEY_FILE).")
@click.option("--by", "actor", default="", help="Who reveals it, for the audit log (default: the system user).")
@handles_errors
@with_context
def anonymous_reveal(context: Context, kind: str, item_id: int, reason: str, key_file, actor: str) -> None:
    """Print who wrote anonymous post or comment ITEM_ID; the reveal and its reason go into the audit log."""
    actor = actor or f"command line ({os.environ.get('USER') or os.getuid()})"
    with context.session_scope() as session:
        author = anonymity.reveal(session, kind, item_id, reason, key_file.read(), actor)
        click.echo(f"{kind} {item_id} was written by {author.name} <{author.email}>")


@main.group("audit")
def audit() -> None:
    """What administrators did that is kept on record."""


@audit.command("list")
@click.option("--limit", default=50, show_default=True)
@with_context
def audit_list(context: Context, limit: int) -> None:
    """The newest entries first: when, who, what, about what, and why."""
    with context.session_scope() as session:
        entries = anonymity.audit_log(session, limit)
        for entry in entries:
            click.echo(f"{entry.created_at:%Y-%m-%d %H:%M}\t{entry.actor}\t{entry.action}\t{entry.subject}\t{entry.reason}")
        if not entries:
            click.echo("No audit entries")

main.add_command(import_archive)
main.add_command(export_archive)
people_group.add_command(people_merge_external)

if __name__ == "__main__":
    sys.exit(main())
