"""How large a rulebook may grow: sizes past these hang durable_rules or make the
checker crawl (docs/engine.md measures each)."""

from __future__ import annotations

# durable_rules hangs at creation or assert with 512 or more rules branching on
# one field (../shared/durable-notes.md, "Inputs that break it").
DURABLE_MAX_RULES_PER_FIELD = 511

# The size of conditions, so that no rulebook reaches a size durable_rules hangs on
# (512 tests under one node of its matcher; engine.py checks the compiled form
# exactly) or the checker crawls on; docs/engine.md measures each.
MAX_ALTERNATIVES = 100  # values in one in (...) list; conditions in one all/any/not list

MAX_CONDITIONS_PER_RULE = 200  # comparisons in one rule, each value of a list counted

MAX_CONDITIONS_PER_RULEBOOK = 10_000  # the shipped rulebook has 426
