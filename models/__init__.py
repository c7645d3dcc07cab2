"""biblio-ia models: shared foundation and one module per library entry."""
