"""The events module. See ARCHITECTURE.md for its place among the layers."""
