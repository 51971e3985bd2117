"""The rulebook workbook's layout: its sheets, their columns and what each column means.

One description serves both directions: ``export`` writes these headers (with these
comments) and ``read`` finds its columns by them. Sheets are found by name, ignoring
case; a decision's sheet is any sheet whose A1 says ``decision`` (its B1 names the
decision), whatever the tab is called.
"""

from __future__ import annotations

from dataclasses import dataclass

from talentrules.contract import INVESTMENT_TRACKS, INVESTMENTS

# Limits on what is read, so that a hostile or broken workbook cannot make loading
# crawl (the .xlsx itself is scanned first, as a panel's workbook is: size, zip bombs,
# XML entities). A large rulebook has a few hundred rules and a few thousand cells.
MAX_SHEETS = 200
MAX_ROWS = 20_000  # per sheet
MAX_COLUMNS = 500
MAX_CELLS = 1_000_000
MAX_CELL_TEXT = 32_767  # Excel's own limit for a cell
MAX_LINES = 1_000  # items of a list written one per line in a cell
MAX_NESTING = 32  # any(...)/all(...)/not(...) inside each other in one cell

# The sheets of the layout, in the order export writes them (decision sheets come
# after Parameters).
README = "README"
PARAMETERS = "Parameters"
DECISIONS = "Decisions"
OUTCOMES = "Outcomes"
SIGNALS = "Signals"
SETS = "Sets"
FACTS = "Facts"
FAMILIES = "Families"
ROWS = "Rows"
PROTECTED = "Protected"
PROXIES = "Proxies"
BRIEFS = "Briefs"
INVESTMENTS_SHEET = "Investments"
ALLOCATION = "Allocation"
CHANGES = "Changes"
TESTS = "Tests"
TEST_EVIDENCE = "Test evidence"
TEST_NOMINATIONS = "Test nominations"
TEST_DEVELOPMENT = "Test development"
LISTS = "Lists"  # hidden: the values the dropdowns offer

DECISION_MARK = "decision"  # A1 of a decision's sheet; B1 names the decision
HEADER_ROW = 2  # of a decision's sheet (row 1 names the decision)


@dataclass(frozen=True)
class Col:
    """One column: its header, the comment on the header, how its cells are read."""

    name: str
    help: str
    width: int = 16
    lines: bool = False  # a list, one item per line of the cell
    text: bool = False  # always text, however it looks (a catalogue's "70" stays "70")
    wrap: bool = False  # long prose: wrapped


@dataclass(frozen=True)
class Table:
    """A sheet with one header row and a row per item."""

    sheet: str
    help: str
    columns: tuple[Col, ...]

    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)


LIST_HELP = "One per line (Alt+Enter in Excel, Ctrl+Enter in LibreOffice starts a new line)."

PARAMETERS_TABLE = Table(
    PARAMETERS,
    "Every threshold, once. Rules, fact derivations and texts read a parameter as "
    "$name, so changing a value here changes every rule and text that uses it.",
    (
        Col("name", "The parameter's name: letters, digits and _. Rules write it as $name."),
        Col("value", "A number. Change this to change the threshold everywhere.", 10),
        Col("unit", "For readers: months, episodes, %, ...", 12),
        Col("meaning", "What the threshold decides, in a sentence.", 60, wrap=True),
    ),
)

SIGNALS_TABLE = Table(
    SIGNALS,
    "The signal catalogue: every code a panel may record in the Evidence sheet's signal "
    "column. A heart signal added here gets its per-signal facts and its rules declared "
    "for each signal, with no other change.",
    (
        Col("code", "What panels write in Evidence.signal (H-DEV, C-POS, ...).", 10),
        Col("name", "The plain name briefs use instead of the code.", 24),
        Col("kind", "signal (a sign of a heart for leadership) or counter (a counter-signal).", 10),
        Col("weight", "Heart signals: core (shows a heart alone) or supporting.", 12),
        Col("description", "What a panel sees, for the brief's evidence table.", 40, wrap=True),
        Col("why", "Why it matters; quoted by the rules declared for each signal.", 60, wrap=True),
        Col("route", "Counter-signals: the development route it calls for.", 40, wrap=True),
    ),
)

SETS_TABLE = Table(
    SETS,
    "Named sets of signal codes, read as $name: either a filter on kind and weight, or "
    "a list of codes. $signals is every code.",
    (
        Col("name", "The set's name: rules read it as $name."),
        Col("kind", "Filter: every code of this kind (signal or counter).", 10),
        Col("weight", "Filter: every code of this weight (core or supporting).", 12),
        Col("codes", f"Or the codes themselves. {LIST_HELP}", 20, lines=True),
    ),
)

DECISIONS_TABLE = Table(
    DECISIONS,
    "Every decision: its hit policy, outcomes, default outcome, meaning and the part it "
    "plays in briefs (role). Each decision's rules are on its own sheet; the words briefs "
    "use for each outcome are on the Outcomes sheet.",
    (
        Col("name", "The decision's name; its sheet says 'decision' in A1 and this in B1.", 18),
        Col(
            "policy",
            "unique (at most one rule may fire), priority (the highest priority wins) or "
            "collect (every firing rule's outcome applies). Blank: unique.",
            10,
        ),
        Col(
            "outcomes",
            f"Its outcomes; a $set stands for every code of a signal set. {LIST_HELP}",
            24,
            lines=True,
        ),
        Col("default", "The outcome when no rule fires (never nothing).", 20),
        Col("role", "The part it plays in briefs and the summary (docs/rules.md, Roles).", 18),
        Col("label", "How briefs head it (blank: the name).", 20),
        Col("interest", "development_track only: the enum fact holding the stated interest.", 16),
        Col("meaning", "The question the decision answers.", 60, wrap=True),
    ),
)

OUTCOME_TEXTS = ("meaning", "advice", "gap", "risk")
INTEREST_PREFIX = "interest: "
OUTCOMES_TABLE = Table(
    OUTCOMES,
    "The words briefs and the summary use for each outcome. A decision's role says which "
    "texts every outcome needs. Columns 'interest: VALUE' hold the development track's "
    "sentence for each stated interest ('unknown': not recorded; 'otherwise': the rest); "
    "$interest in one is the stated interest.",
    (
        Col("decision", "The decision (Decisions sheet).", 18),
        Col("outcome", "One of its outcomes.", 22),
        Col("meaning", "What the outcome means, for the person and the panel.", 50, wrap=True),
        Col("advice", "What to do about it (team_balance).", 40, wrap=True),
        Col("gap", "Shown among a brief's evidence gaps.", 40, wrap=True),
        Col("risk", "Shown among a brief's risks.", 40, wrap=True),
        Col(
            "fairness",
            "How the fairness monitor reads the outcome: advantage (it opens development "
            "money or a role: a group's rate under four fifths of the highest is flagged) or "
            "neutral (rates shown, never flagged). Blank: not monitored; once one outcome of "
            "a decision has one, every outcome needs one.",
            12,
        ),
    ),
)

FACTS_TABLE = Table(
    FACTS,
    "Every fact rules may read. What the Employees and Teams rows say is computed by "
    "talentrules; every other fact is derived from rows as declared here: a measure over "
    "a row set (Rows sheet), narrowed by 'where'; or computed from the person's other "
    "facts by a formula. A fact with a family is declared once for every member of the "
    "family (Families sheet), named MEMBER.NAME.",
    (
        Col("name", "The fact's name (letters, digits, _, - and .).", 30),
        Col("family", "Blank, or the family it is declared for (Families sheet).", 10),
        Col("type", "number, enum, boolean, date or text.", 9),
        Col("meaning", "What the fact is, in a sentence.", 60, wrap=True),
        Col("min", "number: the smallest value it can take.", 8),
        Col("max", "number: the largest value it can take.", 8),
        Col("values", f"enum: the values it can take. {LIST_HELP}", 24, lines=True),
        Col(
            "formula",
            "A fact computed from other facts of the person: number facts, numbers and "
            "$parameters added and subtracted, multiplied or divided by numbers, e.g. "
            "performance - performance_prior_1. Unknown when a fact it reads is unknown.",
            30,
        ),
        Col("rows", "Derived facts: the row set it measures (Rows sheet).", 16),
        Col(
            "where", f"Derived facts: row tests narrowing the row set. {LIST_HELP}", 30, lines=True
        ),
        Col(
            "measure",
            "count, distinct, months_spanned, newest_age_months or percent.",
            14,
        ),
        Col("column", "measure distinct: the column whose distinct values are counted.", 12),
        Col("matching", f"measure percent: the rows the share is of. {LIST_HELP}", 24, lines=True),
    ),
)

FAMILIES_TABLE = Table(
    FAMILIES,
    "Facts declared once for every member: the Facts sheet's rows with this family are "
    "named MEMBER.NAME ($code and $name in their meaning are the member's).",
    (
        Col("family", "The family's name.", 12),
        Col("members", f"Codes or $sets of the signal catalogue. {LIST_HELP}", 24, lines=True),
    ),
)

ROWS_TABLE = Table(
    ROWS,
    "Which rows count for what: a row set is the rows of one sheet that pass every test "
    "in 'where'. Derived facts (Facts sheet) measure a row set.",
    (
        Col("name", "The row set's name.", 20),
        Col("sheet", "Evidence (blank), Development or Nominations.", 12),
        Col("meaning", "Which rows these are, in a sentence.", 60, wrap=True),
        Col("where", f"Row tests, e.g. source_type != Self. {LIST_HELP}", 40, lines=True),
    ),
)

PROTECTED_TABLE = Table(
    PROTECTED,
    "Names rules may never read, besides the protected attributes talentrules always "
    "refuses (sex, race, age and their obvious proxies).",
    (Col("name", "A name rules may never read, e.g. postcode.", 24),),
)

PROXIES_TABLE = Table(
    PROXIES,
    "Proxies of protected attributes: a rule reading one gets a warning naming the attribute.",
    (
        Col("fact", "A fact that is a proxy (or use 'contains').", 20),
        Col("contains", "Or: any fact whose name contains this word.", 12),
        Col("attribute", "The protected attribute it stands in for.", 12),
        Col("why", "Why it is a proxy.", 50, wrap=True),
        Col(
            "newcomers_below",
            "Comparing the fact below this (fact < N) only recognises newcomers: allowed.",
            14,
        ),
    ),
)

BRIEFS_TABLE = Table(
    BRIEFS,
    "Which facts briefs show where: a brief reads no fact by a name of its own. A place "
    "left out, briefs say it is not declared rather than show a 0 they did not read.",
    (
        Col(
            "shows",
            "tenure, in_role (the header's months), trend (the talent snapshot's "
            "performance trend), withdrawn (a risk), aspiration_statement, nominated_by (gaps); "
            "nominations, influence, outcomes (the influence section's counts); or "
            "signal_line.COLUMN: a column of a signal's line (episodes, self_reports, "
            "contexts, observers, months_spanned, newest_age: every one, or none).",
            24,
        ),
        Col(
            "fact",
            "A number fact (aspiration_statement: a boolean). nominations, influence, "
            "outcomes: the PREFIX of facts PREFIX.VALUE, one per value of the column counted "
            "(influence.rules for Rules and monitoring). signal_line: a fact every signal "
            "code has, named CODE.FACT by a family (episodes for H-DEV.episodes).",
            24,
        ),
    ),
)

INVESTMENTS_TABLE = Table(
    INVESTMENTS_SHEET,
    "The default investment catalogue, used when a review workbook has no Investments "
    "sheet of its own.",
    (
        Col("code", "The investment's code, as the investment decision's outcomes name it.", 14),
        Col("name", "What it is.", 40, text=True, wrap=True),
        Col("track", f"One of: {', '.join(INVESTMENT_TRACKS)}.", 18, text=True),
        Col(
            "mode",
            f"70/20/10: one of {', '.join(INVESTMENTS.column('mode').values)}.",
            8,
            text=True,
        ),
        Col("seats", "How many seats (blank: no limit).", 8),
        Col(
            "cost_per_person", "Indicative cost per person, in the Allocation sheet's currency.", 10
        ),
        Col("duration_months", "How long it takes.", 10),
        Col("fits", "Whom it fits, in words.", 40, text=True, wrap=True),
        Col(
            "measure",
            "How success is measured; a brief's plan shows it when the review workbook's "
            "Development sheet gives none.",
            40,
            text=True,
            wrap=True,
        ),
    ),
)

ALLOCATION_SETTINGS = (
    "currency",
    "decision",
    "not_investments",
    "order",
    "tie_break",
    "codes",
    "eligible track",
    "eligible code",
    "fallback",
    "advantage",
)
ALLOCATION_TABLE = Table(
    ALLOCATION,
    "The allocation policy: who has the stronger case for a scarce seat, and who may "
    "never receive one ('invest wisely'). One row per setting; 'order' and 'eligible' "
    "take one row per entry, in order.",
    (
        Col(
            "setting",
            "currency (of the catalogue's costs), decision (the investments decision), "
            "not_investments, order (one row per criterion, strongest first), tie_break "
            "(draw or employee_id), codes (allocation order), eligible track / eligible "
            "code (one row per way to qualify), fallback (a waitlisted investment's "
            "alternatives, one row per investment), advantage (the tracks whose "
            "investments confer an advantage, for the fairness monitor).",
            16,
        ),
        Col(
            "name",
            "order: the decision or fact ranked; eligible: the track or code; fallback: "
            "the waitlisted investment.",
            20,
        ),
        Col(
            "values",
            "order: its values, best first; eligible: lines 'decision: value, value' (all "
            "must hold); fallback: the alternatives, in order; advantage: the tracks; the "
            f"others: the setting's value. {LIST_HELP}",
            50,
            lines=True,
            text=True,
        ),
    ),
)

CHANGE_KINDS = ("observe", "fact", "record")
CHANGES_SETTINGS = ("explain", "show", *CHANGE_KINDS)
CHANGES_TABLE = Table(
    CHANGES,
    "What a brief may name under 'What would change the outcome' (changes.yaml): the "
    "decisions explained, and the changes a person or the panel could make, tried for "
    "each person and named in a sentence each. One row per setting or change, in order.",
    (
        Col(
            "setting",
            "explain (a decision a brief explains, by role), show (how many changes are "
            "named per decision), or a change: observe (new observations of signals by "
            "others), fact (another value of a fact), record (a blank rating filled in).",
            12,
        ),
        Col(
            "name",
            "explain: the role; observe: the signals ($set, or codes); fact: the fact; "
            f"record: the facts. {LIST_HELP}",
            24,
            lines=True,
            text=True,
        ),
        Col(
            "values",
            "explain: the outcomes worth naming a change toward, best first, or any; show: "
            "how many; observe: up to how many new observations (up_to); fact: raise "
            "(higher values only) or blank.",
            24,
            lines=True,
            text=True,
        ),
        Col(
            "as",
            "observe: what each new observation records, one 'Evidence column: value' per line.",
            30,
            lines=True,
            text=True,
        ),
        Col(
            "says",
            "The change in words: a brief reads 'OUTCOME, if SAYS'. Placeholders: "
            "{signals}, {count}, {s} (observe); {value}, {label}, {now} (fact, record).",
            60,
            wrap=True,
        ),
    ),
)

FIXED_TABLES = (
    PARAMETERS_TABLE,
    DECISIONS_TABLE,
    OUTCOMES_TABLE,
    SIGNALS_TABLE,
    SETS_TABLE,
    FACTS_TABLE,
    FAMILIES_TABLE,
    ROWS_TABLE,
    PROTECTED_TABLE,
    PROXIES_TABLE,
    BRIEFS_TABLE,
    INVESTMENTS_TABLE,
    ALLOCATION_TABLE,
    CHANGES_TABLE,
)

# A decision's sheet: the columns besides the conditions.
RULE_HELP = {
    "id": "The rule's id: letters, digits, _, - and .; unique across the rulebook.",
    "for_each": (
        "A rule declared once for every code of a signal set ($heart_signals): $code, "
        "$name, $why ... in its cells are each signal's."
    ),
    "priority": "priority decisions: the firing rule with the highest priority wins.",
    "when": (
        "The rule's whole condition as one expression (a rule written 'when: CONDITION' "
        "rather than a list); the row's other condition cells stay empty."
    ),
    "condition": (
        "A condition that is not one fact compared with one value: any(A, B), all(A, B), "
        "not(A) or not(A, B) (not all of them), each part a condition with its fact, "
        "e.g. any(tenure_months < $newcomer_months, readiness == Too new to assess)."
    ),
    "then": "The outcome the rule concludes (one of the decision's outcomes).",
    "title": "A short title, shown in briefs.",
    "rationale": "Why, in plain language: briefs quote it to the person and the panel.",
    "message": "Optional: a line briefs show, with the values the rule read ({{ episodes }}).",
    "file": (
        "The rules file this row is written to by 'rules import' (blank: the file of the "
        "row above)."
    ),
}
RULE_LEAD = ("id", "for_each", "priority")
RULE_TAIL = ("then", "title", "rationale", "message")
FILE = "file"
WHEN = "when"
CONDITION = "condition"
CONDITION_CELL_HELP = (
    "One comparison of this fact, e.g. >= 3, < $habit_months, != Sufficient, "
    "in (Ready now, Ready 1-2 years), not in $core_signals, is unknown; a value alone "
    "means equals. Every filled cell of a row must hold for the rule to fire."
)
RULE_WIDTHS = {"id": 26, "for_each": 14, "priority": 8, "then": 20, "title": 34, "file": 18}
RULE_WIDTHS |= {"rationale": 60, "message": 40, "when": 40, "condition": 40}

# The words of a decision's row 1 (informational: import reads only B1).
POLICY_WORDS = {
    "unique": "at most one rule may fire for a person",
    "priority": "of the rules that fire, the one with the highest priority decides",
    "collect": "every rule that fires adds its outcome",
}

# The rule tests: one row per test on the Tests sheet, a person's rows on the three
# sheets after it (each row names its test).
TEST_NAME = "name"
TEST_FACTS = "facts"
TEST_LISTS = ("fired", "not_fired")
EXPECT_PREFIX = "expect: "
ABSENT_PREFIX = "absent: "
TEST_HELP = {
    "name": "The test's name (unique). The person's evidence, nominations and development "
    "rows are on the sheets after this one, each naming its test.",
    "facts": "Facts given directly, one 'fact: value' per line (a value may be "
    "$parameter + 1; ~ is unknown). Beside a person, they replace what was derived.",
    "fired": f"Rules whose whole condition must hold. {LIST_HELP}",
    "not_fired": f"Rules whose condition must not hold. {LIST_HELP}",
    "file": "The tests file this row is written to by 'rules import' (blank: the row above's).",
    "as_of": "The cycle's date every 'months ago' is measured from (needed with dates).",
    "tenure_months": "Whole months since the person was hired (instead of hire_date).",
    "months_in_role": "Whole months in the current role (instead of date_in_role).",
    "months_ago": "Observed this many whole months before as_of (instead of observed_on).",
}
TEST_CORE_PERSON = (
    "performance",
    "readiness",
    "career_interest",
    "is_people_manager",
    "tenure_months",
)
TEST_ROW_SHEETS = {
    "evidence": TEST_EVIDENCE,
    "nominations": TEST_NOMINATIONS,
    "development": TEST_DEVELOPMENT,
}
TEST_ROW_NAME = "test"
