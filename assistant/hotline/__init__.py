"""The hotline's work: referrals and their state machine, what staff read, delivery and its
channels.

May use :mod:`assistant.people`; never :mod:`assistant.cases` or :mod:`assistant.web`.
"""
