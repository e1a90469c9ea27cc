"""Building and signing DUO's credentials in every format, through one code path."""
