"""What every HTML page shares: the words in English and French, the templates, the stylesheets."""

__all__ = ["layout", "words"]  # what other packages may import (tests/unit/test_dependency_rule.py)
