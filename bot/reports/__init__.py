"""Anonymous counts for the district: the event table (events.py) and the monthly report (monthly.py)."""
