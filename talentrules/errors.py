"""Every error talentrules reports to a user; one base class, one subclass per stage.

The CLI turns any ``TalentRulesError`` into a one-paragraph message and an exit
status by its class (``cli.EXIT_CODES``); anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations


class TalentRulesError(Exception):
    """An error the user can act on; its message names the place."""


class WorkbookError(TalentRulesError):
    """The input file is not a workbook talentrules can read at all."""


class UnknownPersonError(TalentRulesError):
    """An employee_id was asked for that is not among the people evaluated."""


class ValidationError(TalentRulesError):
    """The workbook was read, but has errors that make rows unusable."""


class SettingError(TalentRulesError):
    """An option's value the rulebook does not allow (explain --set FACT=VALUE): the
    command was asked wrongly, the rulebook is fine."""


class RulebookError(TalentRulesError):
    """The rulebook cannot be loaded, checked or compiled."""


class EngineError(TalentRulesError):
    """The rule engine failed while evaluating a person."""


class OutputError(TalentRulesError):
    """Results could not be written where they were asked for."""


class RuleConflictError(TalentRulesError):
    """Two rules of a ``unique`` decision fired for one person."""


class AuditError(TalentRulesError):
    """An output folder or a rulebook cannot be audited as asked."""


class SessionError(TalentRulesError):
    """A session of ``talentrules serve`` (its file, its server) cannot be used as asked."""
