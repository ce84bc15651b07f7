"""CSV exports of what a caller may list (docs/api.md "Exports"): visits and enrolments, streamed.

* ``cells`` — values as spreadsheet-safe text (formula cells neutralised);
* ``stream`` — an ``Export`` (scoped query, header, row shaping), its audit entry and its CSV chunks;
* ``visits``, ``enrollments`` — one module per table: columns, filters (those of the table's list) and
  masking (NIK and phone masked except for admins).
"""
