"""An admin makes a group for a department on its page, `/org/ID`: one form, whose members then follow
the directory (`hub.services.directory_groups`). A refused form shows the department page again with
its reason, after the transaction is rolled back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hub.services import departments, directory_groups
from hub.services.errors import Conflict, Forbidden, Invalid, NotFound, PleinError
from hub.urls import group_path
from hub.web.deps import DB, CSRFChecked, Id, PageUser
from hub.web.pages import render

router = APIRouter()

STATUS_OF = {NotFound: 404, Invalid: 400, Conflict: 409, Forbidden: 403}


@router.post("/org/{department_id}/group", dependencies=[CSRFChecked])
def make_department_group(
    request: Request,
    department_id: Id,
    session: DB,
    user: PageUser,
    slug: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    privacy: Annotated[str, Form()] = "public",
) -> Response:
    department = departments.get_department(session, department_id)
    try:
        if not user.is_admin:
            raise Forbidden("Only administrators make a group for a department.")
        made = directory_groups.make_department_group(
            session, department, slug=slug, name=name, private=privacy == "private"
        )
    except PleinError as error:
        session.rollback()
        page = departments.department_page(session, user, department_id)
        return render(
            request,
            "department.html",
            status_code=STATUS_OF.get(type(error), 400),
            user=user,
            page=page,
            department_groups=directory_groups.department_groups(session, user, page.department),
            group_error=error,
        )
    return RedirectResponse(group_path(made.slug), status_code=303)
