"""`/stats` and `GET /api/stats`: participation statistics for administrators (the whole hub) and group owners
(their groups), read by `hub.services.participation_figures`; the page draws its plots on the server
(hub/web/stats_plots.py) and runs no script.

To anyone else the page does not exist (404, as the admin pages); the API answers 403, and 400 for a bad date, an
unknown group or department (a private group one may not see is unknown).
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from hub.models import User
from hub.services import participation_figures as stats
from hub.services.errors import Invalid, NotFound
from hub.web import stats_plots
from hub.web.deps import DB, ApiUser, PageUser, context_of_app, reader_language
from hub.web.pages import render

router = APIRouter()


def _period_of(session, user: User, start: str | None, end: str | None, group: str | None, department: int | None):
    first, last = stats.chosen_days(start, end)
    return stats.scope_for(session, user, first, last, group=group or None, department=department)


@router.get("/api/stats")
def api_stats(
    session: DB, user: ApiUser,
    start: str | None = Query(None, alias="from", description="first day, YYYY-MM-DD (90 days before `to`)"),
    end: str | None = Query(None, alias="to", description="last day, YYYY-MM-DD (today)"),
    group: str | None = Query(None, description="a group's address (slug): only that group"),
    department: int | None = Query(None, description="a department's id: only its people and those below"),
    period: str = Query("week", description="day, week or month"),
) -> dict:
    return stats.as_dict(stats.figures(session, user, _period_of(session, user, start, end, group, department), period))


def _day_label(day: date, period: str, language: str) -> str:
    return format_date(day, "MMM y" if period == "month" else "d MMM", locale=language)


@router.get("/stats")
def stats_page(
    request: Request, session: DB, user: PageUser,
    start: str | None = Query(None, alias="from"), end: str | None = Query(None, alias="to"),
    group: str | None = None, department: str | None = None, period: str = "week",
) -> HTMLResponse:
    if not stats.may_read(session, user):
        raise NotFound("There is no such page.")
    language = reader_language(request, user)
    gettext = context_of_app(request).catalogue.translator(language).gettext
    form = {"from": start or "", "to": end or "", "group": group or "", "department": department or "",
            "period": period}
    choices = {
        "groups": stats.readable_groups(session, user),
        "departments": stats.department_choices(session),
    }
    try:
        if department and not department.isdigit():
            raise Invalid("unknown department %(id)s", id=department[:20])
        scope = _period_of(session, user, start, end, group, int(department) if department else None)
        found = stats.figures(session, user, scope, period)
    except Invalid as error:
        return render(request, "stats.html", status_code=400, user=user, error=error, form=form, found=None,
                      **choices)
    labels = [_day_label(b.start, period, language) for b in found.series]
    plots = {
        "over_time": stats_plots.over_time(labels, {
            gettext("Visited"): [b.visited for b in found.series],
            gettext("Reacted"): [b.reacted for b in found.series],
            gettext("Created"): [b.created for b in found.series],
        }),
        "funnel": stats_plots.shares({
            gettext("Reach since launch"): found.reach_share,
            gettext("Active"): found.funnel.share(found.funnel.active),
            gettext("Visited"): found.funnel.share(found.funnel.visited),
            gettext("Reacted"): found.funnel.share(found.funnel.reacted),
            gettext("Created"): found.funnel.share(found.funnel.created),
        }),
    }
    return render(request, "stats.html", user=user, error=None, form=form, found=found, plots=plots,
                  labels=labels, **choices)
