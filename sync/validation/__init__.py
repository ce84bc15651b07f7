"""Validators for what agents type: NIK, phone numbers, enrolment and visit fields."""
