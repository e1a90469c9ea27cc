"""Data of DUO's credential types: JSON Schemas, SD-JWT VC type metadata, SVG templates, examples.

The bottom layer (imports neither verifier nor issuer). ``schemas.loader`` reads the packaged files;
``schemas.registry_record`` maps a register record to the claims of a type. See
docs/credential-types.md.
"""
