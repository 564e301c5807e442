"""Reading people from the directory server, OpenLDAP or Active Directory, as records for `hub.services.people`.

`read_people` binds, searches page by page and maps each entry through an attribute map: the
schema's defaults (`SCHEMAS`), changed by `PLEIN_LDAP_ATTRIBUTES`. A manager is a DN in both
directories; it becomes that entry's address. It reads everything before anything is written, so
a server that is down or refuses the bind changes nothing. `apply_directory` then applies the
records with `deactivate_missing`: whoever left the directory (or, in Active Directory, was
disabled: the default filter leaves them out) is deactivated.
"""

from __future__ import annotations

from collections.abc import Callable

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.dn import parse_dn
from sqlalchemy.orm import Session

from hub.services import people
from hub.services.errors import Invalid, PleinError
from hub.settings import Settings

FROM_DN = "dn:ou"
"""A pseudo attribute: the `ou`s of the entry's own DN, from the top down, as a department path."""
FIELDS = ("email", "name", "department", "title", "manager", "phone", "location", "expertise")
SCHEMAS: dict[str, dict[str, tuple[str, ...]]] = {
    "openldap": {
        "email": ("mail",),
        "name": ("cn",),
        "department": ("departmentNumber", FROM_DN),
        "title": ("title",),
        "manager": ("manager",),
        "phone": ("telephoneNumber",),
        "location": ("l",),
        "expertise": (),
    },
    "ad": {
        "email": ("mail",),
        "name": ("displayName", "cn"),
        "department": ("department",),
        "title": ("title",),
        "manager": ("manager",),
        "phone": ("telephoneNumber",),
        "location": ("physicalDeliveryOfficeName",),
        "expertise": (),
    },
}
"""For each field of a person, the attributes tried in turn; the first with a value wins (expertise takes them all)."""
FILTERS = {
    "openldap": "(&(objectClass=inetOrgPerson)(mail=*))",
    # Disabled accounts (userAccountControl bit 2) are left out, so that the sync deactivates them.
    "ad": "(&(objectCategory=person)(objectClass=user)(mail=*)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
}
PAGE_SIZE = 500
TIMEOUT = 30


class DirectoryUnavailable(PleinError):
    """The directory server could not be reached or read; nothing was changed."""


def attribute_map(settings: Settings) -> dict[str, tuple[str, ...]]:
    """The schema's attribute map with `PLEIN_LDAP_ATTRIBUTES` (`field=attribute|fallback,...`) applied."""
    mapping = dict(SCHEMAS[settings.ldap_schema])
    for change in filter(None, (part.strip() for part in settings.ldap_attributes.split(","))):
        field, _, attributes = change.partition("=")
        if field.strip() not in FIELDS:
            raise Invalid(
                "PLEIN_LDAP_ATTRIBUTES: %(field)s is not one of %(fields)s", field=repr(field), fields=", ".join(FIELDS)
            )
        mapping[field.strip()] = tuple(name.strip() for name in attributes.split("|") if name.strip())
    return mapping


def read_people(settings: Settings) -> list[people.PersonRecord]:
    """Everyone the directory's filter finds under the base DN, as records named by their DN."""
    if not settings.ldap_url:
        raise Invalid("PLEIN_LDAP_URL is not set: there is no directory server to read")
    mapping = attribute_map(settings)
    attributes = sorted({name for names in mapping.values() for name in names if name != FROM_DN})
    try:
        server = ldap3.Server(settings.ldap_url, get_info=ldap3.NONE, connect_timeout=TIMEOUT)
        with ldap3.Connection(
            server,
            user=settings.ldap_bind_dn or None,
            password=settings.ldap_password or None,
            auto_bind=True,
            read_only=True,
            receive_timeout=TIMEOUT,
            raise_exceptions=True,
        ) as connection:
            entries = [
                (entry["dn"], entry["attributes"])
                for entry in connection.extend.standard.paged_search(
                    settings.ldap_base_dn,
                    settings.ldap_filter or FILTERS[settings.ldap_schema],
                    attributes=attributes,
                    paged_size=PAGE_SIZE,
                    generator=True,
                )
                if entry["type"] == "searchResEntry"
            ]
    except LDAPException as error:
        raise DirectoryUnavailable(
            "the directory server %(url)s could not be read, nothing was changed: %(reason)s",
            url=settings.ldap_url,
            reason=str(error) or type(error).__name__,
        ) from error
    email_of = {_dn_key(dn): _first(values, mapping["email"], dn) for dn, values in entries}
    return [_record(dn, values, mapping, email_of) for dn, values in entries]


def apply_directory(
    session: Session,
    records: list[people.PersonRecord],
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> people.SyncReport:
    """Apply what `read_people` read, deactivating whoever the directory no longer has.

    An empty answer is refused rather than taken to mean everyone left: a wrong base DN or filter
    would otherwise deactivate the whole company."""
    if not records:
        raise Invalid("the directory server found nobody; check PLEIN_LDAP_BASE_DN and PLEIN_LDAP_FILTER")
    return people.apply_records(session, records, deactivate_missing=True, dry_run=dry_run, progress=progress)


def _dn_key(dn: str) -> str:
    return ",".join(f"{name.lower()}={value.lower()}" for name, value, _ in parse_dn(dn, escape=True))


def _values(attributes: dict, name: str, dn: str) -> list[str]:
    if name == FROM_DN:
        units = [value for kind, value, _ in parse_dn(dn) if kind.lower() == "ou"]
        return ["/".join(reversed(units))] if units else []
    found = attributes.get(name) or []
    return [str(value) for value in (found if isinstance(found, list) else [found]) if str(value).strip()]


def _first(attributes: dict, names: tuple[str, ...], dn: str) -> str:
    for name in names:
        if values := _values(attributes, name, dn):
            return values[0]
    return ""


def _record(dn: str, attributes: dict, mapping: dict[str, tuple[str, ...]], email_of: dict[str, str]):
    manager = _first(attributes, mapping["manager"], dn)
    if manager and "=" in manager:
        # A DN outside the search stays a DN: the record is rejected, its manager being no address.
        manager = email_of.get(_dn_key(manager), manager)
    return people.PersonRecord(
        email=_first(attributes, mapping["email"], dn),
        name=_first(attributes, mapping["name"], dn),
        department=_first(attributes, mapping["department"], dn),
        title=_first(attributes, mapping["title"], dn),
        manager=manager,
        phone=_first(attributes, mapping["phone"], dn),
        location=_first(attributes, mapping["location"], dn),
        expertise=tuple(value for name in mapping["expertise"] for value in _values(attributes, name, dn)),
        where=dn,
    )
