"""Reports: CSV / XLSX / PDF exports of a view, partner statements, the weekly pack and its e-mail.

Entry points: ``reports.exports.export_view`` / ``export_table``, ``reports.statement.partner_statement``,
``reports.weekly.build_weekly`` and the command line ``python -m reports {weekly,statement,export}``.
The package has no SQL of its own: every number comes from ``metrics``.
"""
