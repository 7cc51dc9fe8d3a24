"""The knowledge base: load and version the modules, index them, the SSSOM mappings and codes, the cache."""
