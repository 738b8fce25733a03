"""Accounts (staff, administrators, advocates), advocates' registrations and consent records, and
the audit trail.

Uses neither :mod:`assistant.cases` nor :mod:`assistant.hotline`, nor :mod:`assistant.web`.
"""
