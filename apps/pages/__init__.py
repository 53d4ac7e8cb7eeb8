"""The pages module. See ARCHITECTURE.md for its place among the layers."""
