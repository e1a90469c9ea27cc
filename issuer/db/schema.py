"""Imports every table definition so that ``create_schema`` creates them all."""

from issuer.db import tables as tables
