"""The built-in exercise packs: one module of checks per topic, fixtures beside them."""
