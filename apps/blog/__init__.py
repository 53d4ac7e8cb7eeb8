"""The blog module. See ARCHITECTURE.md for its place among the layers."""
