"""The commerce domain: catalog (products, options, variants, prices, collections, categories),
the store's currencies and inventory (locations, stock, adjustments, reservations).

A domain module beside content: it never imports content, the wrappers, the read side or
delivery. Its place among the layers and rooms: docs/architecture.md.
"""
