"""Background job functions (RQ). Each is a thin caller of the warehouse logic in app/."""
