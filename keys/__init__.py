"""Where signing keys come from: stores, the development PKI, key history and rotation."""
