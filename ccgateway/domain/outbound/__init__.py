"""Outbound calling: campaigns and contacts, the compliance rules checked at dial time, the
abandon ledgers, and the pacing that decides how many calls to place."""
