"""What every HTML page shares: the words in English and French, the templates, the stylesheets."""
