"""Grading: the boards' rules, enquiry deadlines and the scale score converter."""
