"""PBX adapters: each turns one PBX's wire protocol into domain events and back."""
