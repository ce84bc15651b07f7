"""The scheduler's tick: leased housekeeping jobs, then the reminder outbox; safe on any number of instances."""
