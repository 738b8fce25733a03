"""One way to end a unit of work: :func:`committed`.

Every request that creates or changes data is one transaction (DESIGN section 3, rule 9): the block
either commits as a whole or, on any error, is rolled back before the error goes on, so nothing is
ever half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


@contextmanager
def committed(db: Session) -> Iterator[Session]:
    """Run the block and commit; roll back (and re-raise) if anything in it fails."""
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
