"""The forum module. See ARCHITECTURE.md for its place among the layers."""
