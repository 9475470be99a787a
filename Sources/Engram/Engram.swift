// The Engram module; its files are added by the issue that builds it.
