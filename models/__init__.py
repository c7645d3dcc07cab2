"""biblio-ia models: the flat shared foundation and one package ``models/<entry_id>/`` per entry."""
