"""The fuzz harness of issue 11: a seeded world, generated values, a walk of the URL map."""
