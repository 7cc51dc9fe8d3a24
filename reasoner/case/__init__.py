"""A patient case: its model and checks, file formats, the case graph and back, paths, shapes, schema."""
