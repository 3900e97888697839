"""Number and date formats per language (settings.FORMAT_MODULE_PATH).

English keeps the ISO dates the shop has always printed (2026-12-03 14:05) and `12,500`.
French and Kinyarwanda write dates day first (03/12/2026 14:05, 3 décembre 2026) and group
thousands with a no-break space (`1 000 RWF`), which never wraps across a receipt line.
CSV files are never formatted this way: they keep plain numbers and ISO dates.
"""
