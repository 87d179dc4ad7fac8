"""Test and benchmark support: transaction generators and the Bitcoin Core oracle (dev only)."""
