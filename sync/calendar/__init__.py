"""Local working time shared by follow-ups and reminders: zones, Sundays, holidays and cuti bersama."""
