"""The Key Vault data plane (secrets), served on one listener per vault. Imports only core/."""
