"""What a valid DUO credential is: formats, trust, status and the verdict.

The core (everything but verifier.service and verifier.cli) does no I/O of its own: the clock,
fetching and storage are passed in by the caller.
"""
