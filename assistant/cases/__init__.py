"""A survivor's case: intake, receipts, what the survivor sees of it and who else may, retention.

May use :mod:`assistant.hotline` (a new case hands its places to the hotlines) and
:mod:`assistant.people`; never :mod:`assistant.web`.
"""
