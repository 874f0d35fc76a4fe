"""How account passwords are hashed: argon2id with RFC 9106's low-memory parameters.

Those are the production parameters (argon2-cffi's own defaults, about 64 MiB and a tenth
of a second per hash by design). The test suite swaps ``HASH_PARAMETERS`` for argon2's
cheapest profile so that hundreds of sign-ins do not each pay for it; one test checks that
what ships are the production ones.
"""

from __future__ import annotations

from argon2 import Parameters, PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY

PRODUCTION_PARAMETERS: Parameters = RFC_9106_LOW_MEMORY
HASH_PARAMETERS: Parameters = PRODUCTION_PARAMETERS


def password_hasher() -> PasswordHasher:
    """A hasher with the current parameters; a stored hash made with others is rehashed at
    the next successful sign-in."""
    return PasswordHasher.from_parameters(HASH_PARAMETERS)
