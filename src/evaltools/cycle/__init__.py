"""The monitoring cycle: reporting periods from the data's dates, trends, level reports."""
