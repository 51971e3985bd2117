"""Money as people read it, in every output: the currency, then the amount ('EUR 1,500',
'EUR 12.50'). One function, so that briefs, summary, results workbook, allocation
reasons and ``explain`` word an amount alike. The currency is the Cycle sheet's (or the
catalogue's); without one, the amount alone."""

from __future__ import annotations


def money(value: float, currency: str | None) -> str:
    """'EUR 1,500'; '1,500' when no currency is recorded."""
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return f"{currency} {text}" if currency else text
