"""JD Cloud automated marketing platform (ECRM) API: client, errors, signing, types."""
