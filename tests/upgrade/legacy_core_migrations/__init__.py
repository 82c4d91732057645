"""The core's migrations as they were before the credits plugin owned its tables (main at 9feeba3), when
``0003_billing`` still created credit_accounts, credit_grants, credit_holds and credit_ledger: test_upgrade
builds a database with them, as a hub of that time did, and upgrades it with today's code."""
