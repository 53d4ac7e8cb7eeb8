"""The api module. See ARCHITECTURE.md for its place among the layers."""
