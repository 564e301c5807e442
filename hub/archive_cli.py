"""`plein import` and `plein export`: old group mail in, everything out (`hub.services.archive_import`,
`hub.services.archive_export`), and `plein people merge-external`. Registered on `plein` by `hub.cli`."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import click

from hub.cli_support import Commands, HeadChecked, handles_errors, with_context
from hub.context import Context
from hub.services import archive_export, archive_import
from hub.services.errors import Invalid
from mailgateway import archives
from mailgateway.imap import MailboxUrl


@click.group("import", cls=Commands)
def import_archive() -> None:
    """Bring a group's old mail in from an archive: an mbox file, a Maildir or an IMAP folder."""


def _import_options(command):
    command = click.option("--dry-run", is_flag=True, help="Say what the import would do, and change nothing.")(command)
    command = click.option("--group", "group_slug", required=True, help="The group the mail goes into.")(command)
    return handles_errors(with_context(command))


@import_archive.command("mbox")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_import_options
def import_mbox(context: Context, path: Path, group_slug: str, dry_run: bool) -> None:
    """Import the mbox file PATH into a group."""
    limit = context.settings.max_message_size
    _run(context, group_slug, "mbox", str(path.resolve()), archives.mbox_size(path), "bytes",
         archives.read_mbox(path, limit), dry_run)


@import_archive.command("maildir")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_import_options
def import_maildir(context: Context, path: Path, group_slug: str, dry_run: bool) -> None:
    """Import the Maildir PATH (its new and cur) into a group."""
    limit = context.settings.max_message_size
    _run(context, group_slug, "maildir", str(path.resolve()), archives.maildir_size(path), "messages",
         archives.read_maildir(path, limit), dry_run)


@import_archive.command("imap")
@click.argument("url")
@_import_options
def import_imap(context: Context, url: str, group_slug: str, dry_run: bool) -> None:
    """Import one IMAP folder, imaps://user:password@host/Folder, into a group; the folder is only read."""
    try:
        mailbox = MailboxUrl.parse(url)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="URL") from error
    limit = context.settings.max_message_size
    _run(context, group_slug, "imap", mailbox.key, archives.imap_size(mailbox), "messages",
         archives.read_imap(mailbox, limit), dry_run)


def _run(context: Context, group_slug: str, kind: str, source: str, total: int, unit: str,
         mails: Iterable[archives.ArchivedMail], dry_run: bool) -> None:
    started = time.monotonic()
    with click.progressbar(length=total, label="Importing", file=sys.stderr,
                           item_show_func=lambda shown: shown) as bar:
        report = archive_import.import_archive(
            context, group_slug, kind, source, mails, dry_run=dry_run, progress=_advance(bar, started),
        )
    _summary(report, time.monotonic() - started)
    if report.refused:
        sys.exit(1)


def _advance(bar, started: float) -> Callable[[int, int], None]:
    """Move the bar to what the reader got to, and show the messages done and their rate beside it (ETA is the bar's)."""
    def advance(read_up_to: int, messages: int) -> None:
        rate = messages / max(time.monotonic() - started, 1e-6)
        bar.current_item = f"{messages} messages, {rate:.0f}/s"
        bar.update(read_up_to - bar.pos)

    return advance


def _summary(report: archive_import.ImportReport, seconds: float) -> None:
    for where, why in report.refusals:
        click.echo(f"refused\t{where}\t{why}")
    lead = "Would import" if report.dry_run else f"Import {report.import_id}:"
    click.echo(
        f"{lead} {report.imported} imported ({report.threaded} threaded into a conversation), "
        f"{report.duplicates} duplicates skipped, {report.refused} refused, "
        f"{report.external_authors} external authors, in {seconds:.1f} s"
    )


@import_archive.command("list")
@with_context
def import_list(context: Context) -> None:
    """Every import, newest first: id, group, when, what it read, and what it did."""
    with context.session_scope() as session:
        for run in archive_import.list_imports(session):
            state = f"undone {run.undone_at:%Y-%m-%d %H:%M}" if run.undone_at else (
                "done" if run.finished_at else "unfinished")
            click.echo(
                f"{run.id}\t{run.group.slug}\t{run.started_at:%Y-%m-%d %H:%M}\t{run.kind} {run.source}\t"
                f"{run.imported} imported, {run.threaded} threaded, {run.duplicates} duplicates, "
                f"{run.refused} refused\t{state}"
            )


@import_archive.command("undo")
@click.argument("import_id", type=int)
@handles_errors
@with_context
def import_undo(context: Context, import_id: int) -> None:
    """Take out everything import IMPORT_ID brought in."""
    with context.session_scope() as session:
        run = archive_import.undo_import(session, import_id)
        click.echo(f"Import {run.id} into {run.group.slug} undone")


@click.command("export", cls=HeadChecked)
@click.option("--group", "group_slug", help="The group to export.")
@click.option("--format", "form", type=click.Choice(["mbox", "json"]), default="mbox", show_default=True)
@click.option("--all", "everything", is_flag=True,
              help="Every group, person, membership, reaction and attachment, into the folder PATH.")
@click.argument("path", type=click.Path(path_type=Path))
@handles_errors
@with_context
def export_archive(context: Context, group_slug: str | None, form: str, everything: bool, path: Path) -> None:
    """Write a group to PATH as mbox or JSON (--group SLUG), or everything into the folder PATH (--all)."""
    if everything == bool(group_slug):
        raise Invalid("give either --group SLUG or --all")
    started = time.monotonic()
    with context.session_scope() as session:
        if everything:
            count = archive_export.export_all(session, path)
            click.echo(f"Exported {count} groups with their people and files to {path} in "
                       f"{time.monotonic() - started:.1f} s")
        else:
            count = archive_export.export_group(session, group_slug, form, path)
            what = "mails" if form == "mbox" else "posts"
            click.echo(f"Exported {count} {what} of {group_slug} to {path} in {time.monotonic() - started:.1f} s")


@click.command("merge-external", cls=HeadChecked)
@click.argument("address")
@click.argument("email")
@handles_errors
@with_context
def people_merge_external(context: Context, address: str, email: str) -> None:
    """Make what the external author ADDRESS wrote in imported archives the person EMAIL's."""
    with context.session_scope() as session:
        person = archive_import.merge_external(session, address, email)
        click.echo(f"{address} merged into {person.email}")
