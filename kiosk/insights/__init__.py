"""What visitors asked: a privacy-first log of turns (never audio, no identifiers, purged after
``[insights] retention_days``) and the curators' report."""
