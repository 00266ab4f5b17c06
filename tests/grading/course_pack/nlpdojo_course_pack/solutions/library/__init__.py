"""The toy course library: what topic ``layers`` teaches and topic ``models`` builds on."""
