"""The life cycle of a performance: the installed styles (library), the settings it starts with, its
parts built from them (parts), opened and closed together (session), a signal that ends it, and
its recording."""
