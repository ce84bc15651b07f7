"""Indonesian identifiers checked the same way everywhere: NIK, phone numbers, digit strings."""
