"""A read-only block explorer page served by ``moderntensor explorer``."""
