"""Write the three sample workbooks into ``sample_inputs/``, deterministically.

    python scripts/make_samples.py [OUT_DIR]

This script is the source of truth for the samples; the .xlsx files are committed
so a plain install has them, and regenerating reproduces them byte for byte (the
workbook timestamps and zip entry times are fixed).

- ``panel_review.xlsx``: one review cycle, 40 people in 4 teams, each person a
  persona the default rulebook must handle (``PERSONAS`` below says who is who).
- ``panel_review_vendor_export.xlsx``: the same people and values as an HR suite
  exports them: other tab names and header spellings, label scales, Y/N, ids stored
  as numbers with a ``00000`` format, dates as ISO text, percentages as fractions.
- ``panel_review_broken.xlsx``: the same cycle with the mistakes panels make
  (``BROKEN`` lists each one and the cell where validate must report it).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from talentrules.contract import (  # noqa: E402
    INVESTMENTS,
    SHEETS,
    Sheet,
    column_by_key,
    normalize,
    sheet_by_key,
)

AS_OF = dt.date(2026, 10, 31)
Record = dict[str, Any]

# -- the personas ---------------------------------------------------------------------
# Key persona -> employee_id. Each is built below so the fact vocabulary gives it the
# facts its path needs (habitual = observed by others >=3 times, in >=2 contexts, over
# >=12 months, by >=2 observers other than the person, drained in at most half;
# stale = > 24 months old; rules/parameters.yaml holds the numbers). 00041-00045 were
# added with issue 10, each showing one correction of the default rulebook.
PERSONA_IDS: dict[str, str] = {
    "balanced_manager": "00001",
    "compliance_not_commitment": "00002",
    "rules_unclear_manager": "00003",
    "drained_leader": "00004",
    "strong_heart_no_title": "00005",
    "expert_not_managing": "00006",
    "wants_the_title": "00007",
    "knows_not_does": "00008",
    "self_reported_only": "00009",
    "stale_evidence": "00010",
    "top_performer_no_evidence": "00011",
    "strong_heart_flight_risk": "00012",
    "strong_heart_derailers": "00014",
    "new_joiner": "00015",
    "emerging": "00016",
    "lead_without_managing": "00017",
    "low_performer": "00018",
    "strong_heart_ready_now": "00019",
    "single_source": "00020",
    "avoids_hard_calls": "00022",
    "expert_with_heart": "00023",
    "strong_heart_low_visibility": "00024",
    "conflicting_evidence": "00027",
    "strong_heart_ready_now_2": "00029",
    "expert_ladder": "00030",
    "strong_heart_mobile": "00032",
    "flight_risk_no_heart": "00034",
    "emerging_2": "00036",
    "poor_performance": "00038",
    "own_commitment_rows": "00041",
    "compliance_habit_beside_leadership": "00042",
    "one_tiring_episode": "00043",
    "drained_manager_balanced_team": "00044",
    "management_heavy_team": "00045",
}

PERSONAS: dict[str, str] = {
    "00001": "balanced manager: strong heart (H-DEV, H-VIS, H-CRG habitual), team on time "
    "and engaged (Teams 94% on time, 1 incident, engagement 81%, attrition 5%)",
    "00002": "manager who gets compliance but not commitment: C-CMP, influence Rules and "
    "monitoring, outcome Compliance; team 98% on time, 0 incidents, engagement 44%, "
    "attrition 23%; completed LEAD-PROG years ago",
    "00003": "rules-unclear manager: strong heart (H-FOL, H-VIS, H-DEV), team engaged (86%) "
    "but 72% on time with 7 policy incidents; policy_compliance 2",
    "00004": "drained leader: manager whose H-DEV and H-RSP episodes are all Drained; team "
    "low on both sides (69% on time, 5 incidents, engagement 51%, attrition 17%); wants to "
    "stay in role",
    "00005": "strong heart with no title: IC, habitual H-DEV, H-NCA and H-FOL with no "
    "formal authority, energised, 3 independent sources each; 5 nominations (4 Personal)",
    "00006": "expert who does not want to manage: C-EXP (drained by people work), C-RLT, "
    "career_interest Grow as expert, expertise 5, 5 Expertise nominations",
    "00007": "wants the title: C-POS from manager, peer and skip manager, one self-reported "
    "H-AFF; career_interest Lead people; thin evidence",
    "00008": "knows about leadership but does not do it: completed LEAD-PROG in 2024, "
    "C-KNO from three sources, no H-* behaviour; career_interest Lead people",
    "00009": "only self-reported evidence: H-AFF three times over 15 months in two "
    "contexts and H-DEV twice, all source_type Self",
    "00010": "stale evidence: habitual-looking H-DEV and H-FOL, all 26-42 months before "
    "as_of; the panel overrides the heart verdict to Emerging",
    "00011": "top performer with no leadership evidence: performance 5 (prior 5, 5), "
    "potential 3, ready now, wants to lead people, no Evidence rows",
    "00012": "strong heart at high risk of leaving: habitual H-DEV, H-FOL, H-CRG; "
    "risk_of_loss High, impact_of_loss High",
    "00013": "ordinary: occasional H-LRN, stays in role",
    "00014": "strong heart with derailers: habitual H-FOL, H-VIS, H-AFF plus C-DER from a "
    "direct report, a peer and the manager",
    "00015": "new joiner: hired 2026-08-17, readiness Too new to assess, no ratings yet",
    "00016": "emerging: H-AFF three times in 6 months (span too short), H-DEV twice",
    "00017": "strong heart who wants to lead without managing: habitual H-DEV, H-NCA, "
    "H-FOL in community and no-authority settings",
    "00018": "low performer: performance 2 after 3, on PERF-SUPPORT",
    "00019": "strong heart, ready now, wants to lead people: habitual H-AFF, H-DEV, H-CRG, H-RSP",
    "00020": "single-source evidence: H-DEV three times over 15 months in two contexts and "
    "H-VIS twice, all from the same manager (one source_id)",
    "00021": "ordinary: occasional H-LRN and H-SOC",
    "00022": "avoids hard calls: habitual H-DEV plus C-AFF from manager and peers",
    "00023": "expert with some heart, no wish to manage: expertise 5, habitual H-DEV "
    "through expertise, Expertise nominations, career_interest Lead without managing",
    "00024": "strong heart with low visibility: habitual H-DEV, H-RSP, H-LRN, one nomination",
    "00025": "ordinary: no evidence, stays in role",
    "00026": "ordinary: occasional H-SOC and H-RSP",
    "00027": "conflicting evidence: peers report H-FOL with commitment, the manager "
    "reports H-FOL met with resistance and drained",
    "00028": "ordinary: occasional H-LRN",
    "00029": "strong heart, ready now, wants to lead people: habitual H-AFF, H-VIS, H-FOL",
    "00030": "expert on the ladder: C-RLT and C-EXP, expertise 4, performance 4, grow as "
    "expert; the panel overrides the investment to EXP-LEAD",
    "00031": "ordinary: new to role (in role since 2026-06), not ready",
    "00032": "strong heart, mobile, ready 1-2 years: habitual H-DEV, H-NCA, H-CRG",
    "00033": "ordinary: stays in role",
    "00034": "flight risk without heart evidence: risk High, impact Medium, C-ENG",
    "00035": "ordinary: occasional H-SOC",
    "00036": "emerging: H-DEV and H-LRN twice each, undecided",
    "00037": "ordinary expert: grow as expert, expertise 4",
    "00038": "poor performance: performance 1 after 2",
    "00039": "ordinary: lead without managing, occasional H-SOC",
    "00040": "ordinary: no evidence, undecided",
    "00041": "own commitment rows: four self-reported H-DEV rows with Commitment and one "
    "peer's H-DEV 18 months old; ready now, wants to lead people (once Strong and the "
    "programme; only others show leadership, so one observer: gather evidence)",
    "00042": "compliance-only habit beside a leadership habit: a manager with habitual "
    "H-DEV from three team members and C-CMP from two other observers (once Not "
    "evidenced and a role-fit conversation; now coached)",
    "00043": "one tiring episode: habitual H-DEV, seven episodes energised and one drained, "
    "others committed (once Emerging; drained is a share, not a veto)",
    "00044": "drained manager of a balanced team: most H-DEV and every H-VIS episode left "
    "her drained; team 92% on time, 1 incident, engagement 78% (once no action at all)",
    "00045": "manager of a management-heavy team: team 95% on time, no incidents, "
    "engagement 55%; recent signs of leadership (once no action on the team's balance)",
}

TEAMS = {  # manager -> (org_unit, job_family, location)
    "00001": ("Platform Engineering", "Engineering", "Lyon"),
    "00002": ("Customer Operations", "Operations", "Porto"),
    "00003": ("Product", "Product", "Lyon"),
    "00004": ("Finance", "Finance", "Dublin"),
    "00044": ("Customer Success", "Operations", "Porto"),
    "00045": ("Data Platform", "Engineering", "Berlin"),
}

NAMES = [
    "Amara Okafor",
    "Gerald Baxter",
    "Lucía Fernández",
    "Henrik Larsen",
    "Priya Nair",
    "Tomasz Wójcik",
    "Jason Miller",
    "Sofia Rossi",
    "Daniel Kim",
    "Fatima Benali",
    "Oliver Grant",
    "Chen Wei",
    "Maya Patel",
    "Kwame Mensah",
    "Elena Popescu",
    "Rahul Verma",
    "Grace O'Neill",
    "Marcus Johnson",
    "Aisha Bello",
    "Pierre Dubois",
    "Yuki Tanaka",
    "Samuel Osei",
    "Ingrid Johansson",
    "Carlos Mendes",
    "Hannah Schmidt",
    "Ahmed Hassan",
    "Laura Bianchi",
    "Noah Williams",
    "Zanele Dlamini",
    "Kenji Sato",
    "Olivia Brown",
    "Mateo García",
    "Emily Clarke",
    "Ravi Shankar",
    "Anna Kowalska",
    "David Levi",
    "Fiona MacLeod",
    "Tariq Aziz",
    "Nadia Petrova",
    "Ben Cohen",
    "Lina Haddad",
    "Victor Mensah",
    "Sara Lindqvist",
    "Rosa Delgado",
    "Jonas Weber",
]

DEMOGRAPHICS = [  # (sex, race_ethnicity, age_band); None = not given
    ("Female", "Black", "35-44"),
    ("Male", "White", "45-54"),
    ("Female", "Hispanic or Latino", "35-44"),
    ("Male", "White", "45-54"),
    ("Female", "Asian", "25-34"),
    ("Male", "White", "35-44"),
    ("Male", "White", "25-34"),
    ("Female", "White", "35-44"),
    ("Male", "Asian", "25-34"),
    ("Female", "Middle Eastern or North African", "35-44"),
    ("Male", "White", "25-34"),
    ("Male", "Asian", "25-34"),
    ("Female", "Asian", "25-34"),
    ("Male", "Black", "35-44"),
    ("Female", "White", "25-34"),
    ("Male", "Asian", "25-34"),
    ("Female", "White", "45-54"),
    ("Male", "Black", "35-44"),
    ("Female", "Black", "25-34"),
    ("Male", "White", "35-44"),
    ("Female", "Asian", "25-34"),
    ("Male", "Black", "25-34"),
    ("Female", "White", "45-54"),
    ("Male", "Hispanic or Latino", "35-44"),
    ("Female", "White", "55-64"),
    ("Male", "Middle Eastern or North African", "35-44"),
    ("Female", "White", "25-34"),
    ("Male", "Two or more", "25-34"),
    ("Female", "Black", "25-34"),
    ("Male", "Asian", "45-54"),
    ("Female", "Prefer not to say", "25-34"),
    ("Male", "Hispanic or Latino", "25-34"),
    ("Female", "White", "35-44"),
    ("Male", "Asian", "35-44"),
    ("Female", "White", None),
    ("Male", None, "35-44"),
    ("Female", "White", "55-64"),
    ("Prefer not to say", "Middle Eastern or North African", "25-34"),
    ("Female", "White", "25-34"),
    ("Male", "Prefer not to say", "45-54"),
    ("Female", "Middle Eastern or North African", "25-34"),
    ("Male", "Black", "45-54"),
    ("Female", "White", "35-44"),
    ("Female", "Hispanic or Latino", "45-54"),
    ("Male", "White", "35-44"),
]


def months_ago(months: int, day: int = 12) -> dt.date:
    """A date ``months`` whole months before AS_OF (on ``day``, capped at 28)."""
    total = AS_OF.year * 12 + AS_OF.month - 1 - months
    return dt.date(total // 12, total % 12 + 1, min(day, 28))


def mid(eid: str) -> str:
    """The manager of ``eid`` (team members 00005-00043; managers have none)."""
    n = int(eid)
    if n <= 4 or n >= 44:
        return ""
    return f"{(n - 5) // 9 + 1:05d}" if n <= 40 else "00045"


# -- Employees ------------------------------------------------------------------------


def employee(eid: str, title: str, **fields: Any) -> Record:
    """One Employees row with the team's defaults; ``fields`` override them."""
    n = int(eid)
    manager = mid(eid)
    unit, family, location = TEAMS[manager or eid]
    hired = dt.date(2014 + n % 9, 1 + (n * 5) % 12, 1 + (n * 3) % 27)
    record: Record = {
        "employee_id": eid,
        "full_name": NAMES[n - 1],
        "job_title": title,
        "job_family": family,
        "org_unit": unit,
        "location": location,
        "job_level": "P2" if n % 3 else "P3",
        "manager_id": manager or None,
        "hire_date": hired,
        "date_in_role": max(hired, dt.date(2022 + n % 3, 1 + (n * 7) % 12, 1)),
        "is_people_manager": False,
        "direct_reports": 0,
        "current_track": "Individual contributor",
        "performance": 3,
        "performance_prior_1": 3,
        "performance_prior_2": 3 if n % 4 else None,
        "potential": 2,
        "expertise": 3,
        "readiness": "Ready 3-5 years",
        "risk_of_loss": "Low",
        "impact_of_loss": "Medium",
        "career_interest": "Undecided",
        "aspiration_statement": None,
        "policy_compliance": 4,
    }
    unknown = set(fields) - set(record)
    assert not unknown, unknown
    record.update(fields)
    return record


def manager(eid: str, title: str, **fields: Any) -> Record:
    defaults: Record = {
        "is_people_manager": True,
        "direct_reports": 9,
        "current_track": "People manager",
        "job_level": "M1",
    }
    return employee(eid, title, **{**defaults, **fields})


def employees() -> list[Record]:
    lead = "Lead people"
    return [
        manager(
            "00001",
            "Engineering Manager",
            performance=4,
            performance_prior_1=4,
            readiness="Ready 1-2 years",
            career_interest=lead,
            impact_of_loss="High",
            aspiration_statement="I want to grow a second team and the managers in it.",
        ),
        manager(
            "00002",
            "Operations Manager",
            policy_compliance=5,
            readiness="Ready 3-5 years",
            career_interest=lead,
            aspiration_statement="Run a bigger operation with tighter controls.",
        ),
        manager(
            "00003",
            "Head of Product",
            performance=4,
            potential=3,
            policy_compliance=2,
            readiness="Ready 1-2 years",
            career_interest=lead,
            impact_of_loss="High",
        ),
        manager(
            "00004",
            "Finance Manager",
            expertise=4,
            policy_compliance=3,
            readiness="Not ready",
            career_interest="Stay in role",
            aspiration_statement="I took the team because nobody else would. I would "
            "rather go back to analysis work.",
        ),
        employee(
            "00005",
            "Software Engineer",
            performance=4,
            performance_prior_1=4,
            potential=3,
            expertise=4,
            readiness="Ready 1-2 years",
            career_interest=lead,
            impact_of_loss="High",
            aspiration_statement="I already spend my Fridays helping the new joiners; "
            "I would like to do it properly.",
        ),
        employee(
            "00006",
            "Principal Engineer",
            current_track="Expert",
            job_level="P5",
            performance=4,
            performance_prior_1=5,
            performance_prior_2=4,
            potential=3,
            expertise=5,
            readiness="Ready now",
            career_interest="Grow as expert",
            impact_of_loss="High",
            aspiration_statement="Please do not make me a manager. I want to go deeper "
            "into distributed systems.",
        ),
        employee(
            "00007",
            "Software Engineer",
            readiness="Ready 3-5 years",
            career_interest=lead,
            aspiration_statement="I am ready for the manager title; it is the next "
            "step up the pay bands.",
        ),
        employee(
            "00008",
            "Senior Engineer",
            expertise=4,
            readiness="Ready 3-5 years",
            career_interest=lead,
            aspiration_statement="I did the leadership programme and I know the models.",
        ),
        employee("00009", "Software Engineer", career_interest=lead),
        employee(
            "00010",
            "Senior Engineer",
            performance=4,
            expertise=4,
            readiness="Ready 1-2 years",
            career_interest=lead,
        ),
        employee(
            "00011",
            "Senior Engineer",
            performance=5,
            performance_prior_1=5,
            performance_prior_2=5,
            potential=3,
            expertise=5,
            readiness="Ready now",
            career_interest=lead,
            impact_of_loss="High",
            aspiration_statement="Managing is the way up here, so I want a team.",
        ),
        employee(
            "00012",
            "Site Reliability Engineer",
            performance=4,
            performance_prior_1=4,
            potential=3,
            expertise=4,
            readiness="Ready now",
            risk_of_loss="High",
            impact_of_loss="High",
            career_interest=lead,
            aspiration_statement="I want to lead the on-call rotation, here or elsewhere.",
        ),
        employee("00013", "QA Engineer", career_interest="Stay in role"),
        employee(
            "00014",
            "Shift Lead",
            performance=4,
            potential=3,
            readiness="Ready 1-2 years",
            career_interest=lead,
            aspiration_statement="I want to run a shift team of my own.",
        ),
        employee(
            "00015",
            "Operations Analyst",
            hire_date=dt.date(2026, 8, 17),
            date_in_role=dt.date(2026, 8, 17),
            performance=None,
            performance_prior_1=None,
            performance_prior_2=None,
            potential=None,
            expertise=2,
            readiness="Too new to assess",
            career_interest="Undecided",
            policy_compliance=None,
        ),
        employee(
            "00016",
            "Operations Analyst",
            potential=3,
            readiness="Ready 3-5 years",
            career_interest=lead,
            aspiration_statement="The retro I ran was the best part of my year.",
        ),
        employee(
            "00017",
            "Customer Success Specialist",
            performance=4,
            potential=3,
            readiness="Ready 1-2 years",
            career_interest="Lead without managing",
            aspiration_statement="I lead the community of practice and want to keep "
            "doing that without line management.",
        ),
        employee(
            "00018",
            "Operations Analyst",
            performance=2,
            performance_prior_1=3,
            potential=2,
            expertise=2,
            readiness="Not ready",
        ),
        employee(
            "00019",
            "Senior Operations Analyst",
            performance=4,
            performance_prior_1=4,
            potential=3,
            readiness="Ready now",
            career_interest=lead,
            aspiration_statement="I want to be accountable for a team's results.",
        ),
        employee("00020", "Operations Analyst", career_interest=lead),
        employee("00021", "Operations Analyst", career_interest="Undecided"),
        employee(
            "00022",
            "Senior Operations Analyst",
            performance=4,
            readiness="Ready 1-2 years",
            career_interest=lead,
        ),
        employee(
            "00023",
            "Principal Product Designer",
            current_track="Expert",
            job_level="P5",
            performance=4,
            performance_prior_1=4,
            potential=3,
            expertise=5,
            readiness="Ready now",
            career_interest="Lead without managing",
            aspiration_statement="I want to raise the design bar across teams, not run one.",
        ),
        employee(
            "00024",
            "Product Manager",
            performance=4,
            potential=3,
            readiness="Ready 1-2 years",
            career_interest=lead,
        ),
        employee("00025", "Product Designer", career_interest="Stay in role"),
        employee("00026", "Product Analyst"),
        employee("00027", "Product Manager", readiness="Ready 3-5 years", career_interest=lead),
        employee("00028", "Product Designer"),
        employee(
            "00029",
            "Senior Product Manager",
            performance=4,
            performance_prior_1=3,
            potential=3,
            readiness="Ready now",
            career_interest=lead,
            aspiration_statement="I want a product team of my own to grow.",
        ),
        employee(
            "00030",
            "Data Scientist",
            current_track="Expert",
            performance=4,
            performance_prior_1=4,
            expertise=4,
            career_interest="Grow as expert",
        ),
        employee(
            "00031",
            "Product Analyst",
            date_in_role=dt.date(2026, 6, 1),
            readiness="Not ready",
        ),
        employee(
            "00032",
            "Senior Financial Analyst",
            performance=4,
            potential=3,
            readiness="Ready 1-2 years",
            career_interest=lead,
            aspiration_statement="Happy to move country or function to lead a team.",
        ),
        employee("00033", "Accountant", career_interest="Stay in role"),
        employee(
            "00034",
            "Financial Analyst",
            performance=3,
            risk_of_loss="High",
            impact_of_loss="Medium",
        ),
        employee("00035", "Accountant"),
        employee("00036", "Financial Analyst", potential=3),
        employee(
            "00037",
            "Tax Specialist",
            current_track="Expert",
            expertise=4,
            career_interest="Grow as expert",
        ),
        employee(
            "00038",
            "Accounts Assistant",
            performance=1,
            performance_prior_1=2,
            potential=1,
            expertise=2,
            readiness="Not ready",
        ),
        employee("00039", "Financial Analyst", career_interest="Lead without managing"),
        employee("00040", "Accounts Assistant", career_interest="Undecided"),
        employee(
            "00041",
            "Data Engineer",
            performance=4,
            performance_prior_1=4,
            potential=3,
            readiness="Ready now",
            career_interest=lead,
            aspiration_statement="I already lead the team in all but name.",
        ),
        manager(
            "00042",
            "Analytics Manager",
            direct_reports=3,
            job_family="Engineering",
            readiness="Ready 1-2 years",
            career_interest=lead,
        ),
        employee(
            "00043",
            "Machine Learning Engineer",
            performance=4,
            potential=3,
            readiness="Ready 1-2 years",
            career_interest=lead,
            aspiration_statement="I want to lead the platform team one day.",
        ),
        manager(
            "00044",
            "Customer Success Manager",
            performance=4,
            performance_prior_1=4,
            readiness="Ready 3-5 years",
            career_interest="Stay in role",
            aspiration_statement="My team is doing well; I am not sure I want more of this.",
        ),
        manager(
            "00045",
            "Data Platform Manager",
            direct_reports=3,
            readiness="Ready 1-2 years",
            career_interest="Undecided",
        ),
    ]


# -- Evidence -------------------------------------------------------------------------

TEXT = {
    "H-AFF": "Volunteered to run the {what} and clearly enjoyed it.",
    "H-NCA": "Took on the {what} with no title or reward attached.",
    "H-SOC": "Stepped in to lead the {what} when asked.",
    "H-DEV": "Coached two colleagues through the {what}; both now work independently.",
    "H-CRG": "Gave hard, fair feedback during the {what}; the call held up.",
    "H-RSP": "Owned the failure of the {what} publicly and credited the team for the fix.",
    "H-VIS": "Explained why the {what} mattered; the team could restate the goal.",
    "H-FOL": "People asked to join the {what} because they wanted to work with them.",
    "H-LRN": "Asked for feedback after the {what} and changed approach.",
    "C-POS": "Asked what title and pay came with leading the {what} before agreeing.",
    "C-KNO": "Described the leadership model well but left the {what} to others.",
    "C-EXP": "Solved the {what} alone; found the people side of it draining.",
    "C-CMP": "Ran the {what} by checklists and sign-offs; people complied, no more.",
    "C-AFF": "Avoided the difficult conversation in the {what} to stay liked.",
    "C-DER": "Under pressure in the {what}, blamed others and micromanaged.",
    "C-RLT": "Declined to lead the {what}; prefers not to lead people.",
    "C-ENG": "Disengaged during the {what}; talks about leaving.",
}
WHAT = [
    "quarterly planning",
    "incident review",
    "onboarding cohort",
    "migration project",
    "team retro",
    "customer escalation",
    "budget cycle",
    "hiring loop",
    "community meetup",
    "release",
]


def episodes(
    eid: str,
    signal: str,
    ages: Iterable[int],
    contexts: tuple[str, ...],
    sources: tuple[tuple[str, str | None], ...],
    *,
    influence: str = "Personal",
    initiated: str = "Self",
    frequency: str = "Habitual",
    energy: str = "Energised",
    outcome: str = "Commitment",
) -> list[Record]:
    """Evidence rows for one signal: one per age (months before as_of), contexts and
    sources taken in turn."""
    rows = []
    for i, age in enumerate(ages):
        n = int(eid) + i + len(signal) + age
        rows.append(
            {
                "employee_id": eid,
                "signal": signal,
                "observed_on": months_ago(age, day=3 + (n * 7) % 24),
                "context": contexts[i % len(contexts)],
                "influence_base": influence,
                "initiated_by": initiated,
                "frequency": frequency,
                "energy": energy,
                "outcome_in_others": outcome,
                "source_type": sources[i % len(sources)][0],
                "source_id": sources[i % len(sources)][1],
                "observation": TEXT[signal].format(what=WHAT[n % len(WHAT)]),
            }
        )
    return rows


def peer(eid: str, k: int) -> tuple[str, str]:
    return ("Peer", f"P-{(int(eid) * 3 + k) % 97:03d}")


def boss(eid: str) -> tuple[str, str]:
    return ("Manager", f"M-{mid(eid) or 'DIR'}")


def report(eid: str, k: int) -> tuple[str, str]:
    return ("Direct report", f"DR-{int(eid):02d}{k}")


def team(eid: str) -> tuple[tuple[str, str], ...]:
    """A manager's sources: two direct reports and the skip manager."""
    return (report(eid, 1), SKIP, report(eid, 2))


SELF: tuple[str, str | None] = ("Self", None)
SKIP: tuple[str, str] = ("Skip manager", "SK-01")
NO_AUTH = ("No formal authority", "Project")


def habitual(
    eid: str, signal: str, start: int, contexts: tuple[str, ...], **kw: Any
) -> list[Record]:
    """Three episodes over 15 months, two contexts, three independent non-self sources."""
    sources = kw.pop("sources", (peer(eid, 1), boss(eid), peer(eid, 2)))
    return episodes(eid, signal, (start, start + 7, start + 15), contexts, sources, **kw)


def evidence() -> list[Record]:
    rows: list[Record] = []
    add = rows.extend
    formal = ("Formal role", "Crisis")
    # 00001 balanced manager
    for i, s in enumerate(("H-DEV", "H-VIS", "H-CRG")):
        add(habitual("00001", s, 1 + i, formal, sources=team("00001")))
    add(episodes("00001", "H-LRN", (4,), ("Formal role",), (SELF,), frequency="Occasional"))
    # 00002 compliance, not commitment
    add(
        episodes(
            "00002",
            "C-CMP",
            (2, 6, 11, 16),
            ("Formal role",),
            (report("00002", 1), SKIP, report("00002", 2), ("HR record", "HR-OPS")),
            influence="Rules and monitoring",
            initiated="Self",
            energy="Neutral",
            outcome="Compliance",
        )
    )
    add(
        episodes(
            "00002",
            "C-CMP",
            (8,),
            ("Crisis",),
            (report("00002", 3),),
            influence="Position",
            energy="Neutral",
            outcome="Resistance",
        )
    )
    # 00003 rules unclear: strong heart
    for i, s in enumerate(("H-FOL", "H-VIS", "H-DEV")):
        add(habitual("00003", s, 2 + i, ("Formal role", "Project"), sources=team("00003")))
    # 00004 drained leader
    for s in ("H-DEV", "H-RSP"):
        add(habitual("00004", s, 3, formal, sources=team("00004"), energy="Drained"))
    add(episodes("00004", "C-RLT", (2,), ("Formal role",), (SELF,), influence="Position"))
    # 00005 strong heart with no title
    for i, s in enumerate(("H-DEV", "H-NCA", "H-FOL")):
        add(habitual("00005", s, 1 + i, NO_AUTH))
    add(episodes("00005", "H-LRN", (5,), ("Project",), (SELF,), frequency="Occasional"))
    # 00006 expert, does not want to manage
    add(
        episodes(
            "00006",
            "C-EXP",
            (2, 9, 15),
            ("Project", "Crisis"),
            (boss("00006"), peer("00006", 1), peer("00006", 2)),
            influence="Expertise",
            energy="Drained",
            outcome="Compliance",
        )
    )
    add(
        episodes(
            "00006",
            "C-RLT",
            (3, 10),
            ("Formal role",),
            (SELF, boss("00006")),
            influence="Expertise",
            frequency="Occasional",
            energy="Neutral",
            outcome="Unknown",
        )
    )
    # 00007 wants the title
    add(
        episodes(
            "00007",
            "C-POS",
            (2, 5, 9),
            ("Project", "Formal role"),
            (boss("00007"), peer("00007", 1), SKIP),
            influence="Position",
            initiated="Asked",
            frequency="Occasional",
            energy="Neutral",
            outcome="Compliance",
        )
    )
    add(episodes("00007", "H-AFF", (4,), ("Project",), (SELF,), frequency="Occasional"))
    # 00008 knows about leadership, does not do it
    add(
        episodes(
            "00008",
            "C-KNO",
            (3, 8, 14),
            ("Formal role", "Project"),
            (boss("00008"), peer("00008", 1), SKIP),
            influence="Expertise",
            initiated="Assigned",
            energy="Neutral",
            outcome="Unknown",
        )
    )
    # 00009 self-reported only: H-AFF would be habitual but for its sources
    add(episodes("00009", "H-AFF", (2, 9, 17), NO_AUTH, (SELF,)))
    add(episodes("00009", "H-DEV", (4, 12), NO_AUTH, (SELF,), frequency="Occasional"))
    # 00010 stale: otherwise habitual
    for i, s in enumerate(("H-DEV", "H-FOL")):
        add(habitual("00010", s, 26 + i, NO_AUTH))
    # 00011 top performer: no evidence at all
    # 00012 strong heart at high risk of leaving
    for i, s in enumerate(("H-DEV", "H-FOL", "H-CRG")):
        add(habitual("00012", s, 1 + i, ("Crisis", "No formal authority")))
    # 00013 ordinary
    add(episodes("00013", "H-LRN", (3, 12), ("Project",), (boss("00013"),), frequency="Occasional"))
    # 00014 strong heart with derailers
    for i, s in enumerate(("H-FOL", "H-VIS", "H-AFF")):
        add(habitual("00014", s, 2 + i, ("Formal role", "Crisis")))
    add(
        episodes(
            "00014",
            "C-DER",
            (1, 4, 9),
            ("Crisis", "Project"),
            (("Direct report", "DR-141"), peer("00014", 1), boss("00014")),
            influence="Position",
            frequency="Occasional",
            energy="Neutral",
            outcome="Resistance",
        )
    )
    # 00015 new joiner
    add(episodes("00015", "H-LRN", (1,), ("Project",), (boss("00015"),), frequency="One-off"))
    # 00016 emerging: span too short
    add(episodes("00016", "H-AFF", (2, 5, 8), NO_AUTH, (peer("00016", 1), boss("00016"))))
    add(episodes("00016", "H-DEV", (3, 7), ("Project",), (peer("00016", 2), boss("00016"))))
    # 00017 lead without managing
    for i, s in enumerate(("H-DEV", "H-NCA", "H-FOL")):
        add(habitual("00017", s, 1 + i, ("Community", "No formal authority")))
    # 00018 low performer
    add(episodes("00018", "H-SOC", (6,), ("Project",), (boss("00018"),), initiated="Asked"))
    # 00019 strong heart, ready now
    for i, s in enumerate(("H-AFF", "H-DEV", "H-CRG", "H-RSP")):
        add(habitual("00019", s, 1 + i, ("Project", "No formal authority")))
    # 00020 single source: H-DEV would be habitual but every row is the same manager's
    add(episodes("00020", "H-DEV", (2, 9, 17), NO_AUTH, (boss("00020"),)))
    add(episodes("00020", "H-VIS", (4, 12), ("Project",), (boss("00020"),)))
    # 00021 ordinary
    add(episodes("00021", "H-LRN", (4,), ("Project",), (peer("00021", 1),), frequency="Occasional"))
    add(episodes("00021", "H-SOC", (9,), ("Project",), (boss("00021"),), initiated="Asked"))
    # 00022 avoids hard calls
    add(habitual("00022", "H-DEV", 2, NO_AUTH))
    add(
        episodes(
            "00022",
            "C-AFF",
            (1, 6, 11),
            ("Project", "Formal role"),
            (boss("00022"), peer("00022", 1), peer("00022", 2)),
            frequency="Occasional",
            energy="Neutral",
            outcome="Unknown",
        )
    )
    # 00023 expert with heart, no wish to manage
    add(habitual("00023", "H-DEV", 1, ("Project", "Community"), influence="Expertise"))
    add(
        episodes(
            "00023",
            "H-VIS",
            (4, 10),
            ("Project",),
            (peer("00023", 1), boss("00023")),
            influence="Expertise",
            frequency="Occasional",
        )
    )
    # 00024 strong heart, low visibility
    for i, s in enumerate(("H-DEV", "H-RSP", "H-LRN")):
        add(habitual("00024", s, 2 + i, NO_AUTH))
    # 00025 ordinary: none
    # 00026 ordinary
    add(episodes("00026", "H-SOC", (5,), ("Project",), (boss("00026"),), initiated="Asked"))
    add(
        episodes("00026", "H-RSP", (11,), ("Project",), (peer("00026", 1),), frequency="Occasional")
    )
    # 00027 conflicting
    add(episodes("00027", "H-FOL", (2, 8, 15), NO_AUTH, (peer("00027", 1), peer("00027", 2))))
    add(
        episodes(
            "00027",
            "H-FOL",
            (3, 9),
            ("Project",),
            (boss("00027"),),
            influence="Position",
            energy="Drained",
            outcome="Resistance",
        )
    )
    # 00028 ordinary
    add(episodes("00028", "H-LRN", (6,), ("Project",), (boss("00028"),), frequency="Occasional"))
    # 00029 strong heart, ready now
    for i, s in enumerate(("H-AFF", "H-VIS", "H-FOL")):
        add(habitual("00029", s, 1 + i, ("Project", "No formal authority")))
    # 00030 expert ladder
    add(
        episodes(
            "00030",
            "C-RLT",
            (3, 12),
            ("Project",),
            (SELF, boss("00030")),
            influence="Expertise",
            frequency="Occasional",
            energy="Neutral",
            outcome="Unknown",
        )
    )
    add(
        episodes(
            "00030",
            "C-EXP",
            (6,),
            ("Project",),
            (peer("00030", 1),),
            influence="Expertise",
            energy="Drained",
            outcome="Compliance",
        )
    )
    # 00031 ordinary: none
    # 00032 strong heart, mobile
    for i, s in enumerate(("H-DEV", "H-NCA", "H-CRG")):
        add(habitual("00032", s, 1 + i, ("Project", "Community")))
    # 00033 ordinary: none
    # 00034 flight risk without heart
    add(
        episodes(
            "00034",
            "C-ENG",
            (2, 7),
            ("Formal role",),
            (boss("00034"), ("HR record", "HR-FIN")),
            influence="Expertise",
            frequency="Occasional",
            energy="Drained",
            outcome="Unknown",
        )
    )
    # 00035 ordinary
    add(episodes("00035", "H-SOC", (8,), ("Project",), (boss("00035"),), initiated="Asked"))
    # 00036 emerging 2
    add(episodes("00036", "H-DEV", (2, 6), ("Project",), (peer("00036", 1), boss("00036"))))
    add(episodes("00036", "H-LRN", (3, 5), ("Project",), (SELF, boss("00036"))))
    # 00037-00040 ordinary
    add(episodes("00039", "H-SOC", (4, 13), ("Community",), (peer("00039", 1),), initiated="Asked"))
    # 00041 own commitment rows: four self-reports beside one peer's row 18 months old
    add(episodes("00041", "H-DEV", (1, 3, 5, 8), ("Project", "No formal authority"), (SELF,)))
    add(episodes("00041", "H-DEV", (18,), ("Project",), (peer("00041", 1),)))
    # 00042 a compliance-only habit beside a leadership habit
    add(habitual("00042", "H-DEV", 2, ("Formal role", "Project"), sources=team("00042")))
    add(
        episodes(
            "00042",
            "C-CMP",
            (3, 7, 12),
            ("Formal role",),
            (boss("00042"), ("HR record", "HR-ANA")),
            influence="Rules and monitoring",
            energy="Neutral",
            outcome="Compliance",
        )
    )
    # 00043 one tiring episode among seven energised ones
    add(
        episodes(
            "00043",
            "H-DEV",
            (1, 3, 5, 8, 10, 13, 15),
            ("Project", "No formal authority"),
            (peer("00043", 1), boss("00043"), peer("00043", 2)),
        )
    )
    add(episodes("00043", "H-DEV", (6,), ("Project",), (peer("00043", 1),), energy="Drained"))
    # 00044 a balanced, committed team, and leading drains its manager
    add(
        episodes(
            "00044",
            "H-DEV",
            (2, 6, 10),
            ("Formal role", "Crisis"),
            team("00044"),
            energy="Drained",
        )
    )
    add(episodes("00044", "H-DEV", (14,), ("Formal role",), team("00044"), energy="Neutral"))
    shared = ("Formal role", "Project")
    add(episodes("00044", "H-VIS", (3, 9, 15), shared, team("00044"), energy="Drained"))
    # 00045 a management-heavy team; recent signs of leadership, not yet a habit
    add(episodes("00045", "H-DEV", (2, 5), ("Formal role",), (report("00045", 1), SKIP)))
    add(episodes("00045", "H-VIS", (3, 6), ("Project",), (report("00045", 2), SKIP)))
    for i, row in enumerate(rows, start=1):
        row["evidence_id"] = f"EV-{i:04d}"
    return rows


# -- the other sheets -----------------------------------------------------------------

NOMINATED = {  # nominee -> ((nominator, reason), ...)
    "00005": [("00007", "P"), ("00009", "P"), ("00013", "P"), ("00011", "P"), ("00008", "E")],
    "00006": [("00005", "E"), ("00007", "E"), ("00010", "E"), ("00012", "E"), ("00013", "E")],
    "00001": [("00010", "P"), ("00012", "P"), ("00007", "O")],
    "00002": [("00018", "O"), ("00021", "O")],
    "00003": [("00025", "P"), ("00028", "P"), ("00031", "O")],
    "00004": [("00033", "O")],
    "00011": [("00009", "E"), ("00013", "E")],
    "00012": [("00011", "P"), ("00008", "P")],
    "00014": [("00016", "P"), ("00021", "P")],
    "00017": [("00018", "P"), ("00020", "P"), ("00022", "P"), ("00015", "P")],
    "00019": [("00020", "P"), ("00016", "P"), ("00022", "O")],
    "00023": [("00026", "E"), ("00027", "E"), ("00030", "E"), ("00028", "P")],
    "00024": [("00031", "P")],
    "00029": [("00025", "P"), ("00026", "P"), ("00027", "P")],
    "00030": [("00024", "E"), ("00031", "E")],
    "00032": [("00033", "P"), ("00035", "P"), ("00036", "P")],
    "00037": [("00038", "E"), ("00040", "E")],
}
REASONS = {"P": "Personal", "E": "Expertise", "O": "Position"}
COMMENTS = {
    "Personal": "The kind of colleague I want to become.",
    "Expertise": "Best in the company at what they do.",
    "Position": "I want the role they have.",
}


def nominations() -> list[Record]:
    rows = []
    for nominee, by in NOMINATED.items():
        for nominator, code in by:
            reason = REASONS[code]
            rows.append(
                {
                    "nominator_id": nominator,
                    "nominee_id": nominee,
                    "reason": reason,
                    "comment": COMMENTS[reason],
                }
            )
    return rows


def teams() -> list[Record]:
    figures = {
        "00001": (94, 1, 81, 5),  # balanced
        "00002": (98, 0, 44, 23),  # compliance without commitment
        "00003": (72, 7, 86, 4),  # rules unclear
        "00004": (69, 5, 51, 17),  # low both: intervene
        "00044": (92, 1, 78, 6),  # balanced, and leading drains the manager
        "00045": (95, 0, 55, 14),  # management-heavy
    }
    return [
        {
            "manager_id": m,
            "team_size": 3 if m == "00045" else 9,
            "on_time_rate": on_time,
            "policy_incidents": incidents,
            "engagement": engagement,
            "voluntary_attrition": attrition,
        }
        for m, (on_time, incidents, engagement, attrition) in figures.items()
    ]


def development() -> list[Record]:
    d = dt.date
    history = [
        ("00001", "LEAD-PROG", d(2022, 2, 7), d(2022, 9, 30), "Completed", None),
        ("00001", "LEAD-COACH", d(2023, 3, 1), d(2023, 8, 31), "Completed", None),
        ("00002", "LEAD-PROG", d(2021, 9, 6), d(2022, 5, 27), "Completed", None),
        ("00002", "MGMT-SKILLS", d(2023, 1, 9), d(2023, 3, 31), "Completed", None),
        ("00004", "LEAD-COACH", d(2026, 5, 4), None, "Active", "Asked for support."),
        ("00006", "EXP-LADDER", d(2024, 9, 2), d(2025, 8, 29), "Completed", "Staff level."),
        (
            "00007",
            "LEAD-TASTER",
            None,
            None,
            "Planned",
            "Asked for a team lead post.",
            "Amara Okafor (line manager)",
            "Leads two retrospectives and one onboarding; two "
            "colleagues other than Jason record what they saw.",
        ),
        ("00008", "LEAD-PROG", d(2024, 2, 5), d(2024, 7, 26), "Completed", "Top of cohort."),
        ("00008", "MGMT-SKILLS", d(2025, 1, 13), d(2025, 3, 28), "Completed", None),
        ("00016", "LEAD-TASTER", d(2026, 2, 2), d(2026, 5, 29), "Completed", "Ran retros."),
        ("00018", "PERF-SUPPORT", d(2026, 4, 6), None, "Active", None),
        ("00020", "LEAD-TASTER", d(2025, 3, 3), d(2025, 4, 30), "Withdrawn", "Workload."),
        (
            "00032",
            "LEAD-MENTOR",
            d(2026, 1, 12),
            None,
            "Active",
            None,
            "L. Fontaine (sponsor)",
            "Sponsored for a visible cross-team role by June 2027.",
        ),
        (
            "00030",
            "EXP-LEAD",
            None,
            None,
            "Planned",
            "Data guild lead, as the panel decided.",
            "Lucía Fernández (line manager)",
            "Two product teams adopt the data guild's standards within the year.",
        ),
        ("00038", "PERF-SUPPORT", d(2026, 3, 2), None, "Active", None),
    ]
    columns = (
        "employee_id",
        "investment_code",
        "started",
        "ended",
        "status",
        "note",
        "owner",
        "success_measure",
    )
    return [dict(zip(columns, (*row, None, None)[:8], strict=True)) for row in history]


def investments() -> list[Record]:
    catalogue = [
        (
            "LEAD-STRETCH",
            "Stretch assignment, acting manager",
            "Leadership",
            "70",
            4,
            3000,
            6,
        ),
        ("LEAD-ROTATE", "Cross-functional rotation", "Leadership", "70", 2, 2500, 6),
        ("LEAD-TASTER", "Small leading role", "Leadership", "70", 6, 500, 3),
        ("LEAD-PROG", "Cohort leadership programme", "Leadership", "10", 3, 6500, 9),
        ("LEAD-COACH", "Leadership coaching", "Leadership", "20", 3, 4000, 6),
        ("LEAD-MENTOR", "Mentoring by a senior leader", "Leadership", "20", 4, 800, 12),
        ("DIAG-DC", "Development centre", "Diagnostic", "-", 3, 2500, 1),
        ("EXP-LADDER", "Expert-track progression", "Expert", "70/10", 3, 3500, 12),
        ("EXP-LEAD", "Expert leadership role", "Expert", "70", 3, 1500, 12),
        ("PERS-LEAD", "Personal-leadership role", "Personal leadership", "70/20", 3, 1000, 12),
        ("MGMT-SKILLS", "Management fundamentals", "Management skills", "10", 4, 1800, 3),
        ("MGMT-ROLEFIT", "Role-fit conversation", "Management skills", "-", None, 0, 1),
        ("PERF-SUPPORT", "Develop in role", "Develop in role", "70", None, 600, 6),
        ("RET", "Retention action", "Retention", "overlay", None, 2000, 3),
    ]
    columns = [c.name for c in INVESTMENTS.columns]
    return [dict(zip(columns, row, strict=True)) for row in catalogue]


def overrides() -> list[Record]:
    return [
        {
            "employee_id": "00010",
            "field": "heart",
            "decision": "Emerging",
            "reason": "Two panel members saw her run the 2026 onboarding cohort; the "
            "evidence was not recorded in time. Record it before the next cycle.",
            "decided_by": "K. Osei",
            "decided_on": dt.date(2026, 11, 5),
        },
        {
            "employee_id": "00030",
            "field": "investment",
            "decision": "EXP-LEAD",
            "reason": "Has agreed to lead the data guild; the role serves him better "
            "than the ladder this year.",
            "decided_by": "A. Moreau",
            "decided_on": dt.date(2026, 11, 5),
        },
    ]


def cycle() -> list[Record]:
    return [
        {
            "cycle_id": "2026-H2",
            "cycle_name": "Autumn 2026 talent review",
            "as_of": AS_OF,
            "budget": 40000,
            "currency": "EUR",
            "panel": "A. Moreau; K. Osei; L. Fontaine",
            "contact": "talent-review@example.org",
            "contest_by": dt.date(2026, 11, 30),
            "contest_evidence": (
                "observations by others that the brief does not list (what happened, when, "
                "who saw it), or a correction to a cell it cites, with your employee id"
            ),
        }
    ]


def demographics() -> list[Record]:
    return [
        {"employee_id": f"{n:05d}", "sex": sex, "race_ethnicity": race, "age_band": age}
        for n, (sex, race, age) in enumerate(DEMOGRAPHICS, start=1)
    ]


def build() -> dict[str, list[Record]]:
    """Every sheet's records, keyed by contract sheet and column names."""
    data = {
        "Cycle": cycle(),
        "Employees": employees(),
        "Evidence": evidence(),
        "Nominations": nominations(),
        "Teams": teams(),
        "Development": development(),
        "Investments": investments(),
        "Overrides": overrides(),
        "Demographics": demographics(),
    }
    for sheet in SHEETS:
        names = {c.name for c in sheet.columns}
        for record in data[sheet.name]:
            assert set(record) <= names, (sheet.name, set(record) - names)
    return data


# -- writing --------------------------------------------------------------------------

FIXED_TIME = dt.datetime(2026, 10, 31, 12, 0, 0)
DATE_FORMAT = "yyyy-mm-dd"


def save_stable(workbook: Workbook, path: Path) -> None:
    """Save so that the same content gives the same bytes.

    openpyxl stamps docProps ``modified`` with the clock on save and zipfile stamps
    every entry with it; both are pinned to FIXED_TIME here.
    """
    workbook.properties.creator = "talentrules scripts/make_samples.py"
    workbook.properties.lastModifiedBy = None
    workbook.properties.created = FIXED_TIME
    buffer = io.BytesIO()
    workbook.save(buffer)
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp + rb"\g<2>",
                    data,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, data)
    path.write_bytes(out.getvalue())


def _width(ws: Any, headers: list[str]) -> None:
    for i, header in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(12, min(len(header) + 4, 40))
    ws.freeze_panes = "A2"


def plain_workbook(data: dict[str, list[Record]]) -> Workbook:
    """The contract's own layout: canonical names and values, Excel dates, Yes/No."""
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.name)
        headers = [c.name for c in sheet.columns]
        ws.append(headers)
        for record in data[sheet.name]:
            values = []
            for column in sheet.columns:
                value = record.get(column.name)
                if column.kind == "bool" and value is not None:
                    value = "Yes" if value else "No"
                values.append(value)
            ws.append(values)
        for column_index, column in enumerate(sheet.columns, start=1):
            if column.kind == "date":
                for (cell,) in ws.iter_rows(min_row=2, min_col=column_index, max_col=column_index):
                    cell.number_format = DATE_FORMAT
        _width(ws, headers)
    return wb


# Vendor export: tab name, then contract column -> header as the vendor spells it,
# in the vendor's column order.
VENDOR: dict[str, tuple[str, dict[str, str]]] = {
    "Cycle": (
        "Review Cycle",
        {
            "cycle_id": "Review ID",
            "cycle_name": "Review Name",
            "as_of": "Effective Date",
            "budget": "Development Budget",
            "currency": "Currency",
            "panel": "Panel Members",
            "contact": "Appeals Contact",
            "contest_by": "Appeal By",
            "contest_evidence": "Evidence To Bring",
        },
    ),
    "Employees": (
        "People",
        {
            "employee_id": "Person Number",
            "full_name": "Worker Name",
            "manager_id": "Manager Person Number",
            "job_title": "Business Title",
            "job_level": "Management Level",
            "job_family": "Job Family Group",
            "org_unit": "Supervisory Organization",
            "location": "Work Location",
            "hire_date": "Original Hire Date",
            "date_in_role": "Position Start Date",
            "is_people_manager": "Manager Flag",
            "direct_reports": "Span of Control",
            "current_track": "Career Track",
            "performance": "Performance Rating",
            "performance_prior_1": "Previous Rating",
            "performance_prior_2": "Rating 2 Years Ago",
            "potential": "Potential Rating",
            "expertise": "Technical Expertise",
            "readiness": "Promotion Readiness",
            "risk_of_loss": "Flight Risk",
            "impact_of_loss": "Loss Impact",
            "career_interest": "Career Aspiration",
            "aspiration_statement": "In Their Own Words",
            "policy_compliance": "Policy Adherence",
        },
    ),
    "Evidence": (
        "Observations",
        {
            "evidence_id": "Observation ID",
            "employee_id": "Subject ID",
            "observed_on": "Date Observed",
            "signal": "Behaviour Code",
            "context": "Setting",
            "influence_base": "Power Base",
            "initiated_by": "Initiative",
            "frequency": "How Often",
            "energy": "Energy Level",
            "outcome_in_others": "Effect on Others",
            "source_type": "Rater Type",
            "source_id": "Rater ID",
            "observation": "SBI",
        },
    ),
    "Nominations": (
        "Peer Nominations",
        {
            "nominee_id": "Nominee Employee ID",
            "nominator_id": "Nominated By",
            "reason": "Inspiration Type",
            "comment": "Comments",
        },
    ),
    "Teams": (
        "Team Metrics",
        {
            "manager_id": "Team Lead",
            "team_size": "Headcount",
            "on_time_rate": "On Time %",
            "policy_incidents": "Policy Breaches",
            "engagement": "Engagement %",
            "voluntary_attrition": "Voluntary Turnover",
        },
    ),
    "Development": (
        "Learning History",
        {
            "employee_id": "Worker ID",
            "investment_code": "Course Code",
            "status": "State",
            "started": "Start Date",
            "ended": "End Date",
            "note": "Notes",
            "owner": "Owner",
            "success_measure": "Success Criteria",
        },
    ),
    "Investments": (
        "Catalogue",
        {
            "investment_code": "Code",
            "name": "Title",
            "track": "Track",
            "mode": "70-20-10",
            "seats": "Capacity",
            "cost_per_person": "Unit Cost",
            "duration_months": "Duration",
        },
    ),
    "Overrides": (
        "Panel Decisions",
        {
            "employee_id": "Employee Number",
            "field": "Item",
            "decision": "Panel Decision",
            "reason": "Rationale",
            "decided_by": "Approved By",
            "decided_on": "Decision Date",
        },
    ),
    "Demographics": (
        "EEO",
        {
            "employee_id": "Associate ID",
            "sex": "Gender",
            "race_ethnicity": "Race/Ethnicity",
            "age_band": "Age Group",
        },
    ),
}

# Enum values as the vendor labels them (each must be a label the contract accepts).
VENDOR_LABELS: dict[str, dict[str, str]] = {
    "current_track": {
        "People manager": "Manager",
        "Individual contributor": "IC",
        "Expert": "Specialist",
    },
    "readiness": {
        "Ready now": "RN",
        "Ready 1-2 years": "R12",
        "Ready 3-5 years": "R35",
        "Not ready": "NR",
        "Too new to assess": "Too new",
    },
    "risk_of_loss": {"Low": "L", "Medium": "M", "High": "H"},
    "impact_of_loss": {"Low": "Low", "Medium": "Moderate", "High": "Hi"},
    "career_interest": {
        "Lead people": "Manage people",
        "Grow as expert": "Specialist",
        "Lead without managing": "Informal leadership",
        "Undecided": "Unsure",
        "Stay in role": "Stay",
    },
    "context": {"Formal role": "Formal", "No formal authority": "Informal"},
    "influence_base": {
        "Position": "Legitimate",
        "Expertise": "Expert",
        "Personal": "Referent",
        "Rules and monitoring": "Monitoring",
    },
    "initiated_by": {"Self": "Self-initiated"},
    "frequency": {"One-off": "Once", "Occasional": "Sometimes", "Habitual": "Regular"},
    "energy": {"Energised": "Energized"},
    "outcome_in_others": {"Commitment": "Committed", "Compliance": "Complied"},
    "source_type": {
        "Skip manager": "Skip level",
        "Peer": "Colleague",
        "Direct report": "Report",
        "Self": "Self-report",
        "HR record": "HR",
    },
    "reason": {"Position": "Role", "Expertise": "Expert", "Personal": "Character"},
    "status": {"Completed": "Done", "Active": "In progress", "Withdrawn": "Cancelled"},
    "mode": {"70": "70 experience", "20": "Relationship", "10": "Course"},
}


def _vendor_value(column: Any, value: Any) -> tuple[Any, str | None]:
    """A canonical value as the vendor writes it, and the cell's number format."""
    if value is None:
        return None, None
    if column.kind == "id" and isinstance(value, str) and value.isdigit():
        return int(value), "0" * len(value)  # Excel drops the zeros; the format shows them
    if column.kind == "scale":
        labels = column.labels.get(value)
        return (labels[0] if labels else value), None
    if column.kind == "enum":
        return VENDOR_LABELS.get(column.name, {}).get(value, value), None
    if column.kind == "bool":
        return ("Y" if value else "N"), None
    if column.kind == "date":
        return value.isoformat(), None
    if column.kind == "percent":
        return value / 100, "0%"
    return value, None


def vendor_workbook(data: dict[str, list[Record]]) -> Workbook:
    """The same records as an HR suite exports them."""
    wb = Workbook()
    wb.remove(wb.active)
    sheets = sheet_by_key()
    for sheet in SHEETS:
        tab, headers = VENDOR[sheet.name]
        assert sheets[normalize(tab)] is sheet, tab
        by_key = column_by_key(sheet)
        assert sorted(headers) == sorted(c.name for c in sheet.columns), sheet.name
        for name, header in headers.items():
            assert by_key[normalize(header)].name == name, header
        ws = wb.create_sheet(tab)
        ws.append(list(headers.values()))
        for r, record in enumerate(data[sheet.name], start=2):
            for c, name in enumerate(headers, start=1):
                column = sheet.column(name)
                value, number_format = _vendor_value(column, record.get(name))
                if column.kind == "enum" and value is not None:
                    assert value == record[name] or value in column.values[record[name]], value
                cell = ws.cell(row=r, column=c, value=value)
                if number_format:
                    cell.number_format = number_format
        _width(ws, list(headers.values()))
    return wb


# -- the broken workbook --------------------------------------------------------------


class Planted(NamedTuple):
    """One mistake in the broken workbook and where validate must report it."""

    mistake: str
    tab: str
    ref: str | None  # A1 cell, or None for a whole-sheet problem
    needle: str  # text the report of it must contain (the value, or what is wrong)


def _row_of(data: dict[str, list[Record]], sheet: str, **match: Any) -> int:
    for i, record in enumerate(data[sheet], start=2):
        if all(record.get(k) == v for k, v in match.items()):
            return i
    raise KeyError((sheet, match))


def _ref(sheet: Sheet, column: str, row: int) -> str:
    index = [c.name for c in sheet.columns].index(column) + 1
    return f"{get_column_letter(index)}{row}"


def _write_row(ws: Any, sheet: Sheet, row: int, record: Record) -> None:
    for c, column in enumerate(sheet.columns, start=1):
        value = record.get(column.name)
        if column.kind == "bool" and value is not None:
            value = "Yes" if value else "No"
        ws.cell(row=row, column=c, value=value)


def broken_workbook(data: dict[str, list[Record]]) -> tuple[Workbook, list[Planted]]:
    """The plain workbook with the mistakes panels actually make, and where each is."""
    wb = plain_workbook(data)
    sheets = {s.name: s for s in SHEETS}
    emp, ev = sheets["Employees"], sheets["Evidence"]
    planted: list[Planted] = []

    def put(mistake: str, tab: str, column: str, match: Record, value: Any, needle: str) -> None:
        ref = _ref(sheets[tab], column, _row_of(data, tab, **match))
        wb[tab][ref] = value
        planted.append(Planted(mistake, tab, ref, needle))

    who = {"employee_id": "00005", "signal": "H-NCA"}
    put("misspelled enum", "Evidence", "frequency", who, "Habitualy", "Habitualy")
    who = {"employee_id": "00019", "signal": "H-RSP"}
    put("ambiguous text date", "Evidence", "observed_on", who, "03/04/2026", "03/04/2026")
    who = {"employee_id": "00029", "signal": "H-VIS"}
    put("date after as_of", "Evidence", "observed_on", who, dt.date(2027, 1, 15), "2027-01-15")
    # An observation about someone who is not on the Employees sheet.
    extra = len(data["Evidence"]) + 2
    _write_row(
        wb["Evidence"],
        ev,
        extra,
        dict(data["Evidence"][0], evidence_id="EV-9001", employee_id="00077"),
    )
    planted.append(
        Planted(
            "evidence about an unknown person", "Evidence", _ref(ev, "employee_id", extra), "00077"
        )
    )

    put("performance out of range", "Employees", "performance", {"employee_id": "00026"}, 7, "7")
    put("unknown manager", "Employees", "manager_id", {"employee_id": "00035"}, "00099", "00099")
    put(
        "formula with no cached value",
        "Employees",
        "direct_reports",
        {"employee_id": "00001"},
        "=COUNTIF(H:H,A2)",
        "formula",
    )
    # A copy-pasted person: the same employee_id twice.
    dup = len(data["Employees"]) + 2
    _write_row(wb["Employees"], emp, dup, data["Employees"][-2])
    planted.append(
        Planted(
            "duplicate employee_id",
            "Employees",
            _ref(emp, "employee_id", dup),
            data["Employees"][-2]["employee_id"],
        )
    )
    # The same job title merged over two people's rows.
    first = _row_of(data, "Employees", employee_id="00020")
    title = _ref(emp, "job_title", first)
    wb["Employees"].merge_cells(f"{title}:{_ref(emp, 'job_title', first + 1)}")
    planted.append(Planted("merged cells inside the data", "Employees", title, "merged"))
    # A column the contract does not know.
    unknown = len(emp.columns) + 1
    ws = wb["Employees"]
    ws.cell(row=1, column=unknown, value="Cost Centre")
    for r in range(2, dup + 1):
        ws.cell(row=r, column=unknown, value=f"CC-{4100 + r % 4}")
    planted.append(
        Planted("unknown column", "Employees", f"{get_column_letter(unknown)}1", "Cost Centre")
    )

    put("Excel error cell", "Teams", "engagement", {"manager_id": "00004"}, "#DIV/0!", "#DIV/0!")
    # A totals row under the team figures.
    teams = wb["Teams"]
    total = len(data["Teams"]) + 2
    teams.cell(row=total, column=1, value="Total")
    teams.cell(row=total, column=2, value=sum(r["team_size"] for r in data["Teams"]))
    teams.cell(row=total, column=4, value=sum(r["policy_incidents"] for r in data["Teams"]))
    planted.append(Planted("totals row below the data", "Teams", f"A{total}", "total"))

    pivot = wb.create_sheet("Pivot")
    pivot.append(["org_unit", "people", "avg performance"])
    for unit, *_ in TEAMS.values():
        pivot.append([unit, 9, 3.2])
    planted.append(Planted("unknown sheet", "Pivot", None, "ignored"))
    lists = wb.create_sheet("Lists")
    lists.append(["signal"])
    for code in ev.column("signal").values:
        lists.append([code])
    lists.sheet_state = "hidden"
    planted.append(Planted("hidden sheet", "Lists", None, "hidden"))
    return wb, planted


def main(out_dir: Path = ROOT / "sample_inputs") -> list[Path]:
    """Write the three workbooks into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = build()
    broken, _ = broken_workbook(data)
    written = []
    for name, wb in (
        ("panel_review.xlsx", plain_workbook(data)),
        ("panel_review_vendor_export.xlsx", vendor_workbook(data)),
        ("panel_review_broken.xlsx", broken),
    ):
        save_stable(wb, out_dir / name)
        written.append(out_dir / name)
    return written


# Every planted mistake, for tests/test_samples.py and for anyone demonstrating validate.
BROKEN: list[Planted] = broken_workbook(build())[1]

if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "sample_inputs"):
        print(f"wrote {path}", file=sys.stderr)
